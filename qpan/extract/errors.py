"""What `qpan eval` reports beyond the score: per-indicator figures, the error classes of
every miss and false hit, and (with --explain) what the engine did with the figure.

Error classes pair a miss with a false hit of the same document that differs from it in
one part of the key only (the extractor read the figure, but got that part wrong):
  no unit / wrong unit     same indicator, value and period; unit missing / different
  wrong period             same indicator, value and unit
  wrong indicator          same value, unit and period
  wrong value              same indicator, unit and period
What is left is `missed` (a gold fact nothing resembles) or `spurious` (a prediction
that resembles no gold fact).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .evaluate import Score, values_equal

CLASSES = ("wrong indicator", "wrong unit", "no unit", "wrong period", "wrong value", "spurious", "missed")


@dataclass
class ErrorCase:
    kind: str
    gold: dict | None = None
    pred: dict | None = None


def _differs_only_in(p: dict, g: dict, part: str) -> bool:
    same = {
        "indicator": p.get("indicator") == g.get("indicator"),
        "unit_id": p.get("unit_id") == g.get("unit_id"),
        "period": p.get("period") == g.get("period"),
        "value": values_equal(p.get("value"), g.get("value")),
    }
    return not same[part] and all(v for k, v in same.items() if k != part)


_PAIRINGS = (("unit_id", None), ("period", "wrong period"), ("indicator", "wrong indicator"), ("value", "wrong value"))


def classify(score: Score) -> list[ErrorCase]:
    """Every miss and false hit of `score`, with its class (see the module docstring)."""
    open_hits: dict[str, list[dict]] = {}
    for p in score.false_hits:
        open_hits.setdefault(p.get("doc"), []).append(p)
    cases: list[ErrorCase] = []
    for g in score.misses:
        found = None
        for part, kind in _PAIRINGS:
            for p in open_hits.get(g.get("doc"), []):
                if _differs_only_in(p, g, part):
                    found = (p, kind or ("no unit" if p.get("unit_id") is None else "wrong unit"))
                    break
            if found:
                break
        if found:
            open_hits[g.get("doc")].remove(found[0])
            cases.append(ErrorCase(found[1], g, found[0]))
        else:
            cases.append(ErrorCase("missed", g, None))
    for hits in open_hits.values():
        cases.extend(ErrorCase("spurious", None, p) for p in hits)
    return cases


def class_counts(cases: list[ErrorCase]) -> dict[str, int]:
    c = Counter(x.kind for x in cases)
    return {k: c.get(k, 0) for k in CLASSES}


@dataclass
class IndicatorScore:
    indicator: str
    gold: int
    tp: int
    false_hits: int
    precision: float = field(init=False)
    recall: float = field(init=False)
    f1: float = field(init=False)

    def __post_init__(self) -> None:
        n_pred = self.tp + self.false_hits
        self.precision = self.tp / n_pred if n_pred else (1.0 if not self.gold else 0.0)
        self.recall = self.tp / self.gold if self.gold else 1.0
        s = self.precision + self.recall
        self.f1 = 2 * self.precision * self.recall / s if s else 0.0


def per_indicator(score: Score, gold: list[dict]) -> list[IndicatorScore]:
    """P/R/F1 of each indicator that has required gold facts or false hits."""
    req = Counter(g["indicator"] for g in gold if g.get("indicator") and not g.get("optional"))
    missed = Counter(g["indicator"] for g in score.misses)
    false = Counter(p.get("indicator") for p in score.false_hits)
    out = [IndicatorScore(i, req.get(i, 0), req.get(i, 0) - missed.get(i, 0), false.get(i, 0))
           for i in sorted(set(req) | set(false))]
    return sorted(out, key=lambda s: (-s.gold, s.indicator))


def explain(case: ErrorCase, text: str, trace: list[tuple]) -> list[str]:
    """What the engine did with the figure behind a miss or a false hit: the trace lines
    (see engine.explain_article) inside the evidence span, those for the same value first."""
    lines: list[str] = []
    if case.pred is not None:
        a, b = case.pred.get("span_start", 0), case.pred.get("span_end", 0)
        value = case.pred.get("value")
    else:
        ev = (case.gold or {}).get("evidence") or ""
        a = text.find(ev) if ev else -1
        if a < 0:
            return ["  evidence not found in the text"]
        b, value = a + len(ev), case.gold.get("value")
    inside = [t for t in trace[1:] if a <= t[0] < b]
    same = [t for t in inside if t[2] is not None and values_equal(t[2], value)]
    if not inside:
        lines.append("  no figure or flag was read in the evidence (the value was not taken for a figure: "
                     "a date, a code, a year, a name, or a word the number reader does not know)")
    elif not same and case.pred is None:
        lines.append(f"  the value {value!r} was not read as a figure in the evidence; figures read there:")
    for t in same + [t for t in inside if t not in same]:
        lines.append(f"  {text[t[0]:t[1]]!r}: {t[3]}")
    if trace:
        lines.append(f"  ({trace[0][3]})")
    return lines


def read_text(folder: Path, doc: str) -> str:
    return (folder / doc).read_text(encoding="utf-8")

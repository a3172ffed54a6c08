"""How far a fact's confidence can be trusted (`qpan eval --calibration`): a reliability table
(the confidence given against the share found right, by band), the Brier score, and the whole
extractor's precision and recall when only the facts at or above a threshold are kept."""
from __future__ import annotations

from dataclasses import dataclass

BANDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


@dataclass
class Band:
    low: float
    high: float
    facts: int
    predicted: float   # mean confidence given
    observed: float    # share right


def reliability(scored: list[tuple[float, int]]) -> list[Band]:
    """(confidence, label 1/0) pairs by band of confidence; empty bands left out."""
    out = []
    for lo, hi in zip(BANDS, BANDS[1:]):
        inside = [(p, y) for p, y in scored if lo <= p < hi or (hi == 1.0 and p == 1.0)]
        if inside:
            out.append(Band(lo, hi, len(inside), sum(p for p, _ in inside) / len(inside),
                            sum(y for _, y in inside) / len(inside)))
    return out


def brier(scored: list[tuple[float, int]]) -> float:
    """Mean squared distance between confidence and outcome (0 is perfect; always saying the
    share right overall scores that share times its complement)."""
    return sum((p - y) ** 2 for p, y in scored) / len(scored) if scored else 0.0


def at_thresholds(predictions: list[tuple[float, dict]], gold: list[dict]) -> list[dict]:
    """The extractor's P/R/F1 (scored as `qpan eval` scores) keeping the facts whose
    confidence is at least each threshold."""
    from .evaluate import score

    out = []
    for t in THRESHOLDS:
        s = score([p for c, p in predictions if c >= t], gold)
        out.append({"threshold": t, "precision": s.precision, "recall": s.recall, "f1": s.f1, "predicted": s.n_pred})
    return out


def report(scored: list[tuple[float, int]], predictions: list[tuple[float, dict]], gold: list[dict]) -> dict:
    return {"bands": [vars(b) for b in reliability(scored)], "brier": brier(scored), "facts": len(scored),
            "right": sum(y for _, y in scored), "thresholds": at_thresholds(predictions, gold)}


def lines(rep: dict) -> list[str]:
    out = ["confidence band    facts  predicted  observed"]
    for b in rep["bands"]:
        out.append(f"  {b['low']:.2f}-{b['high']:.2f}      {b['facts']:>5}      {b['predicted']:.3f}     {b['observed']:.3f}")
    out.append(f"Brier score {rep['brier']:.4f} over {rep['facts']} judged facts ({rep['right']} right)")
    out.append("keep at or above      P      R     F1  predicted")
    for t in rep["thresholds"]:
        out.append(f"  {t['threshold']:.2f}           {t['precision']:.3f}  {t['recall']:.3f}  {t['f1']:.3f}  {t['predicted']:>9}")
    return out

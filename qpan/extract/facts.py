"""A fact as the engine makes it, its version, and the clean-up of an article's facts (a headline
repeated by the body, duplicates)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .document import Doc
from .gazetteer import Unit
from .scoring import model_tag

RULES_VERSION = "rules-3.1"  # 3.0: lists by unit, quota and force wordings, rules and rates, neighbouring years (issue #25);
# 3.1: the classes held-out paraphrases found (tests/extract/heldout)
# The rules and the learned scorer that rates and keeps their facts (qpan/extract/scoring.py): a
# retrained model is another extractor ("rules-3.0+m1a2b3c4").
EXTRACTOR_VERSION = f"{RULES_VERSION}+{model_tag()}"


@dataclass(slots=True)
class Fact:
    indicator: str
    value: int | float | bool
    comparator: str
    unit_id: str | None
    period: str | None
    qualifiers: dict = field(default_factory=dict)
    evidence: str = ""
    span_start: int = 0
    span_end: int = 0
    confidence: float = 0.0
    extractor_version: str = EXTRACTOR_VERSION
    # What the rules saw, for a scorer (not part of to_json): "rule" (number_rules[i], its
    # "derived" companions, or flag:<indicator>), "head" (the words read after the figure),
    # "unit_from" (list: named right before the figure in a list by unit; belongs: "thuộc/của X"
    # after it; context: the clause, paragraph or article), "unit_is_prior" (the unit is the
    # source's own), "unit_is_subject", "figure_index" (its rank among the sentence's figures),
    # "cue_distance" (characters from the clause start to the figure), "in_title".
    features: dict = field(default_factory=dict)

    def key(self) -> tuple:
        return (self.indicator, self.value, self.unit_id, self.period)

    def to_json(self, doc: str | None = None) -> dict:
        """The gold-format dict (plus span, confidence and version). The same dict as built
        from dataclasses.asdict (containers copied), without asdict's generic deep copy,
        which cost more than extracting the fact."""
        v, q = self.value, self.qualifiers
        out = {
            "indicator": self.indicator, "value": v if type(v) in _ATOMS else _plain(v), "unit_id": self.unit_id,
            "period": self.period, "comparator": self.comparator, "qualifiers": {} if type(q) is dict and not q else _plain(q),
            "evidence": self.evidence, "span_start": self.span_start, "span_end": self.span_end,
            "confidence": self.confidence, "extractor_version": self.extractor_version,
        }
        return out if doc is None else {"doc": doc, **out}


_ATOMS = (str, int, float, bool, type(None))


def _plain(v):
    """A copy of v as dataclasses.asdict makes it: containers rebuilt, atoms as they are."""
    t = type(v)
    if t in _ATOMS:
        return v
    if t is dict:
        return {_plain(k): _plain(x) for k, x in v.items()}
    if t is list:
        return [_plain(x) for x in v]
    if t is tuple:
        return tuple(_plain(x) for x in v)
    return asdict(Fact(None, v, "", None, None))["value"]  # anything else: exactly as asdict copies it




def make_fact(doc: Doc, span: tuple[int, int], indicator: str, value, comparator: str, unit: Unit | None,
               period: str | None, qualifiers: dict, confidence: float, features: dict | None = None) -> Fact:
    ev = doc.evidence.get(span)
    if ev is None:  # the clause, trimmed, in the original text (once per clause)
        a, b = span
        t = doc.text
        while a < b and t[a] in " ;,":
            a += 1
        while b > a and t[b - 1] in " ;,":
            b -= 1
        os_, oe = doc.nz.orig_span(a, b)
        ev = doc.evidence[span] = (doc.nz.original[os_:oe], os_, oe)
    if unit is None:
        confidence *= 0.5
    uid = unit.unit_id if unit else None
    f = {} if features is None else dict(features)
    f["unit_is_prior"] = uid is not None and uid == doc.source_unit_id
    f["unit_is_subject"] = unit is not None and unit is doc.subject
    f["in_title"] = span[0] < doc.title_end
    return Fact(indicator, value, comparator, uid, period, qualifiers,
                ev[0], ev[1], ev[2], round(confidence, 3), EXTRACTOR_VERSION, f)


def headline_once(facts: list[Fact], title_end: int) -> list[Fact]:
    """A figure of the title that the body gives too is the body's fact (with the body's
    unit and period): the headline only repeats it."""
    if not title_end or not any(f.span_start < title_end for f in facts):
        return facts
    body = {(f.indicator, f.value) for f in facts if f.span_start >= title_end}
    return [f for f in facts if f.span_start >= title_end or (f.indicator, f.value) not in body]


def dedupe(facts: list[Fact]) -> list[Fact]:
    seen: set = set()
    out = []
    for f in facts:
        v = f.value  # (f.key(), qualifiers, type of the value), inlined
        k = ((f.indicator, v, f.unit_id, f.period), tuple(sorted(f.qualifiers.items())) if f.qualifiers else (), type(v))
        if k in seen:
            continue
        seen.add(k)
        out.append(f)
    return out

"""The evidence a fact was read on, as the learned scorer sees it (qpan/extract/scoring.py).

The engine calls these where it makes a fact, with what it worked out for the figure anyway
(the rule that fitted, the clause, where the unit and the period came from); they only
bucket it into a dict of a dozen short values (scoring.py reads any such dict: strings and
booleans as they are, whole numbers by order of magnitude), a few microseconds a fact. What the
article as a whole says (how many facts of the indicator, two values for one key) is added by
scoring.py once every fact is known.
"""
from __future__ import annotations


def _bucket(x: int, edges: tuple[int, ...]) -> str:
    """The first edge x is at most, else "more" ("5" for 3 with edges (0, 5, 20))."""
    for e in edges:
        if x <= e:
            return str(e)
    return "more"


_rule_names: dict[int, str] = {}  # id(rule) -> its name (the rules live as long as the process)


def rule_name(rule) -> str:
    """A number rule's name that survives rules being added before it: its indicator and first
    head (its index in patterns.yml does not)."""
    name = _rule_names.get(id(rule))
    if name is None:
        name = _rule_names[id(rule)] = f"{rule.indicator}:{rule.heads[0][:30]}"
    return name


def _unit_features(doc, s, cs: int, pos: int, unit, unit_from: str) -> tuple[str, str]:
    """Where the unit came from (named in the clause before the figure, "thuộc/của" after it,
    the article's subject, else the paragraph or a bare type word) and how it relates to the
    article's subject."""
    subject = doc.subject
    uid = unit.unit_id
    if not unit_from or unit_from == "context":  # found by fact_unit: where, exactly
        unit_from = "context"
        for a, b, u in doc.sent_subjects.get(s.start) or ():
            if a >= cs and b <= pos and u.unit_id == uid:
                unit_from = "clause"
                break
        else:
            if subject is not None and uid == subject.unit_id:
                unit_from = "subject"
    if subject is None:
        rel = "no_subject"
    else:
        sid = subject.unit_id
        rel = "same" if uid == sid else "inside" if uid.startswith(sid + ".") else \
            "above" if sid.startswith(uid + ".") else "other"
    return unit_from, rel


def _period_from(doc, period: str | None) -> str:
    """The period as the text gives it: the article's default year (reviewed or publication
    year), a span, the year after publication, another year written in the text, or none."""
    if period is None:
        return "none"
    if "/" in period:
        return "span"
    if period == doc.ref_period:
        return "default"
    if doc.pub is not None and period == str(doc.pub.year + 1):
        return "next_year"
    return "text"


def figure_features(doc, rule, n, s, cs: int, ce: int, head_end: int, figure_no: int, unit, unit_from: str,
                    period: str | None) -> dict:
    """A figure read by a number rule: the rule, the kind of figure, how far the head runs,
    the figure's place in its sentence and clause, and where its unit and period came from
    ("belongs", "list": as the engine found it; "" or "context": worked out here)."""
    start = n.start
    unit_src, unit_rel = _unit_features(doc, s, cs, start, unit, unit_from)
    return {
        "rule": rule_name(rule),
        "kind": n.kind + "_words" if n.words else n.kind,
        "head_gap": _bucket(head_end - n.end, (2, 8, 20)),
        "figure_no": _bucket(figure_no, (1, 2, 4, 8)),
        "clause_at": _bucket(start - cs, (0, 30, 80, 200)),
        "clause_part": "whole" if cs == s.start and ce == s.end else "part",
        "in_title": start < doc.title_end,
        "lead": s.para <= 1,
        "unit_from": unit_src,
        "unit_rel": unit_rel,
        "unit_level": unit.level,
        "period_from": _period_from(doc, period),
    }


def flag_features(doc, rule, s, cs: int, ce: int, pos: int, unit, period: str | None) -> dict:
    """A qualitative statement read by a flag rule."""
    unit_src, unit_rel = _unit_features(doc, s, cs, pos, unit, "")
    return {
        "rule": f"flag:{rule.indicator}:{rule.value}",
        "kind": "flag",
        "clause_at": _bucket(pos - cs, (0, 30, 80, 200)),
        "clause_part": "whole" if cs == s.start and ce == s.end else "part",
        "in_title": pos < doc.title_end,
        "lead": s.para <= 1,
        "unit_from": unit_src,
        "unit_rel": unit_rel,
        "unit_level": unit.level,
        "period_from": _period_from(doc, period),
    }

"""The number rule that fits a figure, and the qualifiers of awards and trainees."""
from __future__ import annotations

import re

from .document import Doc
from .numbers import NumberMention
from .rules import NumberRule, Rules, may_match

_LEFT_WINDOW = 140
_RIGHT_WINDOW = 90
_NEAR = 40
# A breakdown of the figure before ("312 tân binh, trong đó có 42 đảng viên").
BREAKDOWN_RE = re.compile(r"trong đó|trong số đó|bao gồm|gồm\s*:|cụ thể\s*:|\(")
# Where the right context of a figure ends besides a breakdown: a new predicate of the same
# subject ("giao 132 tân binh, đạt 100% chỉ tiêu, đồng thời hoàn thành khám tuyển ..."): what
# the next clause does ("khám", "đăng ký") is not said of this figure's head.
_DIGIT_RE = re.compile(r"\d")
_RIGHT_STOP_RE = re.compile(r"trong đó|trong số đó|bao gồm|gồm\s*:|cụ thể\s*:|\(|đồng thời|,\s*(?:đạt|hoàn thành|vượt)(?!\w)")


def award_qualifiers(doc: Doc, rules: Rules, cs: int, ce: int, pos: int) -> dict:
    low, t = doc.low, doc.text
    q: dict = {}
    found = doc.award_found.get((cs, ce))
    if found is None:  # the awarding bodies named in the clause: the same for all its figures
        found = doc.award_found[(cs, ce)] = []
        for rx, needs in zip(rules.award_bodies, rules.award_body_needs):
            if needs and not may_match(needs, low, cs, ce):
                continue
            for m in rx.finditer(low, cs, ce):
                if not any(a <= m.start() and m.end() <= b for a, b in found):
                    found.append((m.start(), m.end()))
    if found:
        before = [f for f in found if f[0] < pos]
        a, b = max(before) if before else min(found)
        q["awarded_by"] = t[a:b]
    # The fields named from the figure to the clause end, else anywhere in the clause. Each
    # field's first match in the clause is looked for once; from the figure on, that match
    # is the answer when it does not start before the figure (no match in between, and the
    # same end of the window), and only otherwise is the field searched again.
    firsts = doc.award_fields_in.get((cs, ce))
    if firsts is None:
        firsts = doc.award_fields_in[(cs, ce)] = [(name, rx, rx.search(low, cs, ce)) for name, rx in rules.award_fields]
    hits = []
    for name, rx, m0 in firsts:
        if m0 is not None:
            m = m0 if m0.start() >= pos else rx.search(low, pos, ce)
            if m:
                hits.append((m.start(), name))
    if not hits:
        hits = [(m0.start(), name) for name, _, m0 in firsts if m0 is not None]
    if hits:
        q["field"] = ", ".join(dict.fromkeys(n for _, n in sorted(hits)))
    return q


def trainee_qualifiers(doc: Doc, rules: Rules, head_start: int, ce: int) -> dict:
    m = rules.trainee_groups.search(doc.low, head_start, min(ce, head_start + _RIGHT_WINDOW))
    return {"target_group": doc.text[m.start():m.end()]} if m else {}


def match_number(doc: Doc, rules: Rules, n: NumberMention, prev_end: int, next_start: int,
                  cs: int, ce: int, ss: int = -1) -> tuple[NumberRule, int] | None:
    """The first rule that fits figure n. The left context runs from the previous figure
    (or the clause start); the right context from the head over at most one more figure
    ("38 vụ, 52 đối tượng phạm tội về ma túy") and stops at a breakdown ("trong đó").
    `ss`: the sentence's start (for the cues of its earlier clauses; default: none)."""
    low = doc.low
    pos = n.end
    while pos < ce and low[pos] == " ":
        pos += 1
    hm = None
    if pos < ce:
        by_char = rules.head_by_char
        hrx = by_char.get(low[pos], by_char[""])
        if hrx is not None:
            hm = hrx.match(low, pos, ce)
        if hm is None:
            fm = rules.filler_re.match(low, pos, ce)
            if fm:
                p2 = fm.end()
                hrx = by_char.get(low[p2], by_char[""]) if p2 < ce else None
                if hrx is not None:
                    hm = hrx.match(low, p2, ce)
    head_end = pos
    group = None
    if hm is not None:
        group = hm.lastgroup
        head_end = hm.end()
    generic: tuple[int, ...] = ()
    for rx, ids in rules.generic_heads:
        if rx.match(low, pos, ce):
            generic += ids
    cands = rules.candidates(group, generic, n.kind)
    if not cands:
        return None
    start = n.start
    left_a = max(cs, prev_end, start - _LEFT_WINDOW)
    right_end = -1  # worked out when a rule first looks right of the head
    cue = doc.clause_cue
    near_a = max(cs, start - _NEAR)
    for r in cands:
        # clause-wide cues first: the same answer for every figure of the clause (memoised)
        rx = r.clause
        if rx is not None:
            key = (rx, cs, ce)
            hit = cue.get(key)
            if hit is None:
                hit = cue[key] = rx.search(low, cs, ce) is not None
            if not hit:
                continue
        rx = r.earlier_clause
        if rx is not None:  # the same answer for every figure of the clause (memoised)
            if ss < 0 or ss >= cs:
                continue
            key = (rx, ss, cs)
            hit = cue.get(key)
            if hit is None:
                hit = cue[key] = rx.search(low, ss, cs) is not None
            if not hit:
                continue
        rx = r.not_clause
        if rx is not None:
            key = (rx, cs, ce)
            hit = cue.get(key)
            if hit is None:
                hit = cue[key] = rx.search(low, cs, ce) is not None
            if hit:
                continue
        if r.left_near is not None and r.left_near.search(low, near_a, start) is None:
            continue
        rx = r.document
        if rx is not None:  # the article's topic: the same answer for every figure (memoised)
            key = (rx, -1, -1)
            hit = cue.get(key)
            if hit is None:
                hit = cue[key] = rx.search(low, 0, doc.limit) is not None
            if not hit:
                continue
        if r.left is not None and r.left.search(low, left_a, start) is None:
            continue
        if r.not_left is not None and r.not_left.search(low, left_a, start) is not None:
            continue
        if r.not_before is not None and r.not_before.search(low, cs, start) is not None:
            continue
        if r.right is not None or r.not_right is not None:
            if right_end < 0:
                right_end = min(ce, next_start, head_end + _RIGHT_WINDOW)
                bm = _RIGHT_STOP_RE.search(low, head_end, right_end)
                if bm:
                    right_end = bm.start()
            end = right_end
            if r.right_own:  # up to the next figure: "1.250 đồng chí dân quân và 2.100 quân nhân dự bị"
                dm = _DIGIT_RE.search(low, head_end, right_end)
                if dm is not None:
                    end = dm.start()
            if r.right is not None and r.right.search(low, head_end, end) is None:
                continue
            if r.not_right is not None and r.not_right.search(low, head_end, end) is not None:
                continue
        return r, head_end
    return None


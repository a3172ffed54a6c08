"""Which unit and which period a figure belongs to (see docs/extraction.md)."""
from __future__ import annotations

import bisect
import re

from . import periods
from .anaphora import References, find_reference, resolve
from .anaphora import SUBJECT_BLOCK_BEFORE_RE
from .document import TOPIC_OPENING_RE, Doc, paragraph_unit, pick_unit, match_positions
from .gazetteer import Unit
from .normalize import Sentence

def fact_period(doc: Doc, s: Sentence, cs: int, ce: int) -> str | None | bool:
    """The period of a figure in clause [cs, ce) of sentence s; False means a plan.
    (Memoised per clause: the paragraph's span and year it reads are set by para_info,
    which is_plan runs for the paragraph before any of its figures gets here.)"""
    key = (s.start, cs, ce)
    try:
        return doc.period_of[key]
    except KeyError:
        p = doc.period_of[key] = _clause_period(doc, s, cs, ce)
        return p


def _clause_period(doc: Doc, s: Sentence, cs: int, ce: int) -> str | None | bool:
    low = doc.low
    sp = periods.find_span(low, s.start, s.end, doc.present_year)
    if sp:
        a, b, _ = sp
        if doc.plan_after is not None and b > doc.plan_after and a >= doc.plan_after:
            return False
        if doc.present_year is None or b <= doc.present_year:
            return periods.format_period(a, b)
    ys = periods.years_in(low, cs, ce) or periods.years_in(low, s.start, s.end)
    if ys:
        y = ys[0][0]
        if doc.plan_after is not None and y > doc.plan_after:
            return False
        return str(y)
    if s.para in doc.para_span:
        return doc.para_span[s.para]
    ly = periods.leading_year(low, s.start)
    if ly is not None:
        return str(ly)
    if s.para in doc.para_year:
        return str(doc.para_year[s.para])
    if doc.ref_period is not None and "/" in doc.ref_period and periods.years_past(low, s.start, s.end):
        return doc.ref_period  # "những năm qua, hằng năm hoàn thành 100% chỉ tiêu" in a review of several years
    if periods.is_present(low, s.start, s.end):
        return str(doc.present_year) if doc.present_year else None
    doc.defaulted.add((s.start, cs, ce))
    return doc.ref_period


# The recruitment season runs from the autumn's quotas to February's hand-over: its figures in a
# January article are the coming intake's, not the year just ended.
_RECRUITMENT = frozenset({"recruitment_quota", "recruits_enlisted", "recruitment_quota_pct", "recruitment_quota_met",
                          "new_party_members"})
_EARLY_JANUARY_DAYS = 20


def year_end_period(doc: Doc, s: Sentence, cs: int, ce: int, indicator: str, period):
    """The period of a figure that names no year in an article published in the first weeks of
    January (not a review, which names its year): the year just ended, which such articles
    report on ("Ngày 17-1, Công an tỉnh cho biết đã bố trí 542 ..."), except the recruitment
    season's figures."""
    pub = doc.pub
    if pub is None or pub.month != 1 or (pub.day or 99) > _EARLY_JANUARY_DAYS or indicator in _RECRUITMENT \
            or (s.start, cs, ce) not in doc.defaulted or period != str(pub.year):
        return period
    return str(pub.year - 1)


# Indicators assigned ahead of the year they are for: a quota announced in November is the
# next intake's (the hand-over is in February), so a coming year is not a plan for them.
ASSIGNED_AHEAD = frozenset({"recruitment_quota"})


def quota_period(doc: Doc, s: Sentence, cs: int, ce: int) -> str | None | bool:
    """The intake year a quota is for: the year written (at most the one after publication),
    else, announced from October on, the next year."""
    low = doc.low
    ys = periods.years_in(low, cs, ce) or periods.years_in(low, s.start, s.end)
    y = ys[0][0] if ys else periods.leading_year(low, s.start) or doc.para_year.get(s.para)
    if y is not None:
        if doc.plan_after is not None and y > doc.plan_after + 1:
            return False
        return str(y)
    pub = doc.pub
    if pub is not None and pub.month is not None and pub.month >= 10 and doc.ref_year == pub.year:
        return str(pub.year + 1)
    return fact_period(doc, s, cs, ce)


# An awarding body written with a bare type word ("Giám đốc Công an tỉnh tặng Giấy khen cho 3
# tập thể") names the level that gives the award, not the unit of those awarded; a body named
# outright ("UBND huyện Vân Hồ tặng Giấy khen") is the unit the award is counted for.
_AWARDING_BODY_BEFORE_RE = re.compile(
    r"(?:giám đốc|chủ tịch|ban thường vụ|chỉ huy trưởng|bộ chỉ huy quân sự|bộ chqs|ban chqs|công an|ubnd|"
    r"ủy ban nhân dân|huyện ủy|tỉnh ủy|thành ủy|bộ trưởng|tư lệnh|ban chỉ huy quân sự|hội đồng nghĩa vụ quân sự|"
    r"hội đồng nvqs)[\s,]*$")


def _sentence_mentions(doc: Doc, s: Sentence) -> list[tuple[int, int, Unit, bool]]:
    """The resolved place names of sentence s, once per sentence (shared by all its figures):
    (start, end, unit, blocked). Blocked: after "của", "tại"... a place or a body named in
    passing, not a subject, unless the sentence opens on it ("Tại Quảng Nam, 2.454 ...")."""
    ms = doc.sent_mentions.get(s.start)
    if ms is None:
        low = doc.low
        ms = doc.sent_mentions[s.start] = []
        for m in doc.gaz.find_mentions(doc.text, low, s.start, s.end):
            u = pick_unit(doc, m.units)
            if u is None:
                continue
            blocked = SUBJECT_BLOCK_BEFORE_RE.search(low, m.start - 48 if m.start > 48 else 0, m.start) is not None \
                and not TOPIC_OPENING_RE.fullmatch(low, s.start, m.start)
            ms.append((m.start, m.end, u, blocked))
    return ms


def fact_unit(doc: Doc, s: Sentence, cs: int, pos: int, award: bool = False) -> Unit | None:
    """The unit a figure belongs to: the last place named as a subject before it in the
    clause, else the paragraph's unit, else the article's subject. For an award, a unit named
    as the awarding body is not the unit of those awarded."""
    ms = doc.sent_subjects.get(s.start)
    if ms is None:
        ms = doc.sent_subjects[s.start] = [(a, b, u) for a, b, u, blocked in _sentence_mentions(doc, s) if not blocked]
    low = doc.low
    named = None
    for a, b, u in reversed(ms):
        if a >= cs and b <= pos:
            # "huyện Nga Sơn, tỉnh Thanh Hóa", "Hội đồng ... huyện Ngọc Lặc phối hợp với Bộ CHQS
            # tỉnh": of nested units named in the clause, the figure is the most specific one's
            for a2, b2, u2 in ms:
                if a2 >= cs and b2 <= pos and u2.unit_id.startswith(u.unit_id + "."):
                    u = u2
            named = (a, u)
            break
    # a bare "tỉnh", "huyện", "thành phố", "xã" nearer to the figure than any name
    refs = doc.sent_refs.get(s.start)
    if refs is None:
        refs = doc.sent_refs[s.start] = References(doc.text, low, s.start, s.end)
    ref = refs.last(cs, pos) if refs.found else None
    if ref is not None and award and _AWARDING_BODY_BEFORE_RE.search(low, max(0, ref[0] - 30), ref[0]):
        ref = None
    if ref is None and named is None and cs > s.start:
        # nothing in the clause: a bare type word the sentence used before it
        ref = refs.last(s.start, cs) if refs.found else None
    if ref is not None and (named is None or ref[0] > named[0]):
        u = resolve(ref[1], _recent_units(doc, s.para, ref[0]) + doc.salient, doc.gaz, doc.on)
        if u is not None:
            if _AWARDING_BODY_BEFORE_RE.search(low, max(0, ref[0] - 30), ref[0]):
                # "Bộ CHQS tỉnh phối hợp với thành phố X giao 120 thanh niên": the type word
                # names the acting body; a unit inside it named in the clause is the subject
                inner = [u2 for a2, b2, u2, _ in _sentence_mentions(doc, s)
                         if a2 >= cs and b2 <= pos and u2.unit_id.startswith(u.unit_id + ".")]
                if inner:
                    return inner[-1]
            return u
    if named is not None:
        return named[1]
    return paragraph_unit(doc, s.para) or doc.subject


# "10 tập thể, 5 cá nhân thuộc Công an huyện Núi Thành", "được UBND thành phố khen thưởng",
# "50 học viên ... thuộc các Sở, ban, ngành tỉnh": the unit the counted belong to, after them.
_BELONGS_RE = re.compile(r"(?<!\w)(?:thuộc|của)(?!\w)")
_BELONGS_WINDOW = 60
_BELONGS_REACH = 40


def belongs_to(doc: Doc, s: Sentence, head_end: int, ce: int) -> Unit | None:
    window_end = min(ce, head_end + _BELONGS_WINDOW)
    at = next((e for a, e in match_positions(doc, _BELONGS_RE, s) if a >= head_end and e <= window_end), None)
    if at is None:
        return None
    a, b = at, min(ce, at + _BELONGS_REACH)
    for start, _end, u, _ in _sentence_mentions(doc, s):
        if a <= start < b:
            return u
    ref = find_reference(doc.text, doc.low, a, b, blocked=False)
    return resolve(ref[1], doc.salient, doc.gaz, doc.on) if ref else None


def _recent_units(doc: Doc, para: int, pos: int) -> list[Unit]:
    """Units named in the paragraph before `pos`, nearest first: "tỉnh" in "Tại Cao Bằng, ...
    Năm 2026, tỉnh được giao ..." is the province the paragraph is about."""
    ms = doc.para_mentions.get(para)
    if ms is None:
        start = doc.para_first[para].start
        end = doc.sents[bisect.bisect_right(doc.sent_starts, pos) - 1].end
        while end < len(doc.low) and (i := bisect.bisect_right(doc.sent_starts, end)) < len(doc.sents) \
                and doc.sents[i].para == para:
            end = doc.sents[i].end
        ms = doc.para_mentions[para] = [(m.start, u) for m in doc.gaz.find_mentions(doc.text, doc.low, start, end)
                                        if (u := pick_unit(doc, m.units)) is not None]
    out: list[Unit] = []
    for a, u in reversed(ms):
        if a < pos and u not in out:
            out.append(u)
    return out



# Between a unit named in a list and its figure: "Thành phố A 155 chỉ tiêu", "huyện B: 26",
# "xã C có 12", "huyện D được giao 40".
_LISTED_GAP_RE = re.compile(r"[\s:,(–-]*(?:(?:có|là|được giao|giao|với|nhận|đạt)\s+)?(?:hơn|gần|khoảng|trên)?\s*")


_LISTED_REACH = 60


def listed_unit(doc: Doc, s: Sentence, lo: int, pos: int) -> Unit | None:
    """The unit named right before the figure at `pos` (after `lo`, the figure before it):
    an item of a list of figures by unit ("..., trong đó: thị xã B 35 chỉ tiêu"). A group
    ("các huyện miền núi") or a receiving unit ("Sư đoàn 324") is no gazetteer unit: None."""
    a = max(lo, pos - _LISTED_REACH)
    if doc.text[a:pos] == doc.low[a:pos]:
        return None  # no capital letter before the figure: no name (the cheap test before the gazetteer)
    for a, b, u, _blocked in reversed(_sentence_mentions(doc, s)):
        if b <= pos:
            if a < lo:
                return None
            m = _LISTED_GAP_RE.match(doc.low, b, pos)
            return u if m is not None and m.end() == pos else None
    return None


_GROUP_TYPES = r"(?:huyện|xã|phường|thị xã|thị trấn|quận|địa phương|thôn|bản|tỉnh|đơn vị)"
# A subset of the units of an area: "các huyện miền núi", "3 xã biên giới", "một số xã ven biển".
_GROUP_RE = re.compile(
    rf"(?<!\w)(?:các|những|một số|nhiều|\d+)\s+{_GROUP_TYPES}(?:\s*,\s*{_GROUP_TYPES})*\s+"
    r"(?:miền núi|vùng cao|vùng sâu|vùng xa|vùng biển|ven biển|biên giới|đồng bằng|trung du|khó khăn|đặc biệt khó khăn|"
    r"trọng điểm|giáp ranh|phía (?:bắc|nam|đông|tây)|còn lại|lân cận)(?!\w)")
# Several units named as one subject: "các huyện Nga Sơn, Hậu Lộc giao 410 thanh niên".
_NAMED_GROUP_RE = re.compile(rf"(?<!\w)(?:các|những|một số|nhiều|hai|ba|bốn|\d+)\s+{_GROUP_TYPES}(?!\w)")


def group_subject(doc: Doc, s: Sentence, lo: int, pos: int, named: bool = True) -> bool:
    """The figure at `pos` is said of a group of units (after `lo`, the clause start): no one
    unit's figure. `named`: also a group of units named one by one (not for the items of a
    list by unit, which name one each)."""
    low = doc.low
    m = _NAMED_GROUP_RE.search(low, lo, pos)  # both kinds open on it: the one search most figures need
    if m is None:
        return False
    if _GROUP_RE.search(low, m.start(), pos) is not None:
        return True
    m = m if named else None
    if m is None:
        return False
    return sum(1 for a, b, _u, _ in _sentence_mentions(doc, s) if m.start() <= a and b <= pos) >= 2


# What parts a figure's clause from the next one in a sentence: "..., đạt 100% và đăng ký NVQS năm 2025".
_NEIGHBOUR_RE = re.compile(r",|;|(?<!\w)và(?!\w)")


def neighbour_year(doc: Doc, s, cs: int, start: int, end: int) -> str | None | bool:
    """The period of a figure whose sentence names a coming year only after it, past a comma or
    "và" (a neighbouring clause's year: "giao 250 thanh niên, đạt 100% chỉ tiêu và đăng ký NVQS
    năm 2025"): the year named before it, else the paragraph's or the article's. False when the
    coming year is the figure's own."""
    low, after = doc.low, doc.plan_after
    if after is None:
        return False
    ys = periods.years_in(low, s.start, s.end)
    future = [p for y, p in ys if y > after]
    if not future or min(future) < end or _NEIGHBOUR_RE.search(low, end, min(future)) is None:
        return False
    if periods.find_span(low, s.start, start, doc.present_year):
        return False
    before = [y for y, p in ys if p < start]
    if before:
        return str(before[-1])
    return doc.para_span.get(s.para) or (str(doc.para_year[s.para]) if s.para in doc.para_year else doc.ref_period)

"""Article text -> indicator facts.

Pipeline: normalise (keeping a map to the original offsets), cut page chrome, split
sentences, date the article (publication date, reviewed year), find place names and
the article's subject unit, then read every candidate figure with the ordered
number rules of patterns.yml and every qualitative statement with the flag rules.
Each fact gets the unit its clause or paragraph is about, the period its clause
describes, and is dropped when the clause is a plan or a directive.

Speed (pure Python, the same output as the plain reading): the regexes are written so the
engine can skip to the characters they open on (rules.literal_first, numbers._WORDS_RE),
figures that cannot count (years, glued tokens) are turned down inside the number regex,
and what a clause or a sentence says (its period, its place names, its clause-wide cues,
its awarding bodies, its trimmed evidence) is worked out once per article and memoised
in Doc, not once per figure. tests/extract/test_fast_paths.py holds each shortcut to the
plain version.
"""
from __future__ import annotations

import bisect
import logging
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import lru_cache

from . import periods
from .attribution import (
    ASSIGNED_AHEAD, belongs_to, fact_period, quota_period, fact_unit, group_subject, listed_unit, year_end_period,
)
from .document import clause_bounds, Doc, first_at, is_plan, para_info, match_positions, prepare_document, sentence_at
from .gazetteer import Unit, default_gazetteer
from .matching import BREAKDOWN_RE, award_qualifiers, match_number, trainee_qualifiers
from .numbers import find_numbers
from .rules import any_anchor, default_rules
from .features import figure_features, flag_features
from .scoring import model_tag, score_facts
from .sources import default_index, unit_for_url

log = logging.getLogger(__name__)

RULES_VERSION = "rules-3.0"  # 3.0: lists by unit, quota and force wordings, rules and rates, neighbouring years (issue #25)
# The rules and the learned scorer that rates and keeps their facts (qpan/extract/scoring.py): a
# retrained model is another extractor ("rules-3.0+m1a2b3c4").
EXTRACTOR_VERSION = f"{RULES_VERSION}+{model_tag()}"

# After a total, what follows these is its parts, whatever they count.
# ("54 đơn vị hành chính cấp xã, gồm 22 xã, 30 phường": "gồm" with or without a colon)
_PARTS_AFTER_RE = re.compile(r"trong đó|trong số đó|(?<!\w)gồm(?!\w)|cụ thể\s*:")
# A sentence that opens on "Trong đó" breaks down the figure of the sentence before it.
_PART_OPENING_RE = re.compile(r"\W*(?:trong đó|trong số đó)(?!\w)")
# A list of parts: "các đơn vị nhận quân gồm: Sư đoàn 324 là 86 tân binh; ..."
_LIST_OPENING_RE = re.compile(r"gồm\s*:")
# A figure with its share of the total after it is a part: "thành thị 1.172 vụ (52,2%)".
_SHARE_AFTER_RE = re.compile(r"\s*\(\s*(?:chiếm\s+)?\d+(?:,\d+)?\s?%\s*\)")
# A sentence that details the one before it: "Cụ thể: huyện A 50 thanh niên, huyện B 40 thanh niên".
_ITEMS_OPENING_RE = re.compile(r"\W*(?:cụ thể|trong đó|trong số đó|bao gồm|gồm)(?!\w)")
# After a figure of a list by unit, what leads to the next item: "132, huyện B 26", "132 và B 26".
_NEXT_ITEM_RE = re.compile(r"\s*(?:,|;|và(?!\w))")
_MAX_LIST_ITEMS = 60


def _list_sibling(doc: Doc, rules, nums: list, k: int, s, cs: int, ce: int, sib: tuple | None):
    """The rule of figure k read as an item of a list of figures by unit, when no rule fits it
    alone: it has the same head as the figure before it in the sentence ("thị xã B 35 chỉ tiêu"
    after "thành phố A 155 chỉ tiêu"), or no head, and the list goes on to an item that has one
    ("huyện A 132, huyện B 26, huyện C 40 thanh niên"). `sib`: (rule, head) of the sentence's last
    fact (or of the sentence before, which this one details). None otherwise."""
    n = nums[k]
    low = doc.low
    if sib is not None:
        r, head = sib
        e = n.end + 1 + len(head)
        if low.startswith(head, n.end + 1) and (e >= len(low) or not low[e].isalnum()):
            return r, e
    if _NEXT_ITEM_RE.match(low, n.end) is None:
        return None
    j = k + 1
    while j < len(nums) and j - k < _MAX_LIST_ITEMS:
        m = nums[j]
        if m.start >= ce or listed_unit(doc, s, nums[j - 1].end, m.start) is None:
            return None
        if _NEXT_ITEM_RE.match(low, m.end) is None:
            nxt = nums[j + 1].start if j + 1 < len(nums) else len(low)
            hit = match_number(doc, rules, m, nums[j - 1].end, nxt, cs, ce, s.start)
            if hit is None or hit[0].indicator is None or hit[1] == m.end:
                return None
            return hit[0], n.end
        j += 1
    return None

# Where an item of a list starts: after the last ",", ";" or ":" before its figure.
_ITEM_START_RE = re.compile(r"[,;:]")


def _names_itself(low: str, r, cs: int, start: int) -> bool:
    """An item of a list after "gồm:" that names its own indicator before its figure ("lực lượng
    ... gồm: bảo vệ dân phố 58 người; dân phòng 214 người") is a figure of its own, not a part of a
    total (as "các đơn vị nhận quân gồm: Sư đoàn 324 là 86 tân binh" is)."""
    a = cs
    for m in _ITEM_START_RE.finditer(low, cs, start):
        a = m.end()
    return any(rx is not None and rx.search(low, a, start) is not None for rx in (r.left_near, r.left))


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




def _make_fact(doc: Doc, span: tuple[int, int], indicator: str, value, comparator: str, unit: Unit | None,
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


MAX_FIGURES_PER_SENTENCE = 60
# What parts a figure's clause from the next one in a sentence: "..., đạt 100% và đăng ký NVQS năm 2025".
_NEIGHBOUR_RE = re.compile(r",|;|(?<!\w)và(?!\w)")


def _neighbour_year(doc: Doc, s, cs: int, start: int, end: int) -> str | None | bool:
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


def _extract(title: str, body: str, published_at, source_unit_id, trace: list | None = None,
             prepared: list | None = None) -> list[Fact]:
    """The facts; with `trace` (a list), also what became of every figure read, as
    (start, end, value, what happened) in the normalised text (qpan eval --explain); with
    `prepared` (a list), the prepared article is appended to it (analyse_article)."""
    rules = default_rules()
    doc = prepare_document(title, body, published_at, source_unit_id)
    if prepared is not None:
        prepared.append(doc)
    if doc is None:
        return []
    low = doc.low
    facts: list[Fact] = []
    sents, starts = doc.sents, doc.sent_starts
    limit = sents[-1].end
    nums = find_numbers(low, 0, limit)
    n_nums, len_low = len(nums), len(low)
    last_of: dict[tuple[int, str], int] = {}  # (sentence start, indicator) -> last figure end
    first_in: dict[int, int] = {}  # sentence start -> end of its first figure read as a fact
    figures_in: dict[int, int] = {}  # sentence start -> figures read there
    siblings: dict[int, tuple] = {}  # sentence start -> (rule, head) of its last fact (lists by unit)
    # cues absent from the whole article are never looked for figure by figure
    national_re = rules.national_re if rules.national_re is not None and any_anchor(rules.national_anchors, low) else None
    part_year_re = rules.part_year_re  # searched only for the flow indicators' figures (memoised per span)
    has_lists = "gồm" in low
    has_part_openings = "trong" in low
    has_parts_after = has_part_openings or "gồm" in low or "cụ thể" in low
    has_belongs = "thuộc" in low or "của" in low
    para_seen, para_plan, plan_re = doc.para_seen, doc.para_plan, rules.plan_re
    sentence_plan_re = rules.sentence_plan_re
    for k, n in enumerate(nums):
        start = n.start
        i = bisect.bisect_right(starts, start) - 1  # the sentence (see sentence_at)
        if i < 0:
            continue
        s = sents[i]
        if start >= s.end:
            continue
        ss = s.start
        # Bounded work: the context checks scan the sentence for each figure, so a "sentence" of
        # thousands of figures (a table dump, no prose) would cost quadratic time. Prose never
        # carries this many figures in one sentence; past the cap the rest is not read.
        seen = figures_in[ss] = figures_in.get(ss, 0) + 1
        if seen > MAX_FIGURES_PER_SENTENCE:
            if trace is not None:
                trace.append((start, n.end, n.value, "not read: too many figures in the sentence"))
            continue
        if n.kind in ("count", "ratio") and isinstance(n.value, float):
            if trace is not None:
                trace.append((start, n.end, n.value, "not read: a decimal count is an average"))
            continue  # "5,5 cán bộ/địa phương" is an average, not a count
        cs = low.rfind(";", ss, start)  # the clause (see clause_bounds)
        cs = ss if cs < 0 else cs + 1
        ce = low.find(";", start, s.end)
        if ce < 0:
            ce = s.end
        prev_end = nums[k - 1].end if k > 0 else 0
        # the right context may run over one more figure (see match_number)
        next_start = nums[k + 2].start if k + 2 < n_nums else len_low
        hit = match_number(doc, rules, n, prev_end, next_start, cs, ce, ss)
        # a unit named right before the figure (an item of a list by unit: "..., thị xã B 35 chỉ tiêu");
        # looked for in a sentence's later figures and where no rule fits (or a part is dropped, below)
        listed = listed_unit(doc, s, max(prev_end, cs), start) if hit is None or seen > 1 else None
        if hit is None and listed is not None:
            sib = siblings.get(ss)
            if sib is None and i > 0 and _ITEMS_OPENING_RE.match(low, ss):  # "Cụ thể: huyện A 50 thanh niên, ..."
                sib = siblings.get(sents[i - 1].start)
            hit = _list_sibling(doc, rules, nums, k, s, cs, ce, sib)
            if hit is None and cs > ss and _ITEMS_OPENING_RE.match(low, cs):
                # an item of a list that opens its own clause ("giao chỉ tiêu ... 3.600 công dân; cụ
                # thể: TP Vinh 260 chỉ tiêu, ..."): the sentence's cues are the list's
                hit = match_number(doc, rules, n, prev_end, next_start, ss, ce)
        if hit is None:
            if trace is not None:
                trace.append((start, n.end, n.value, f"no rule fits ({n.kind}; words after it: {low[n.end:n.end + 30]!r})"))
            continue
        r, head_end = hit
        indicator = r.indicator
        if indicator is None:
            if trace is not None:
                trace.append((start, n.end, n.value, f"suppressed by number_rules[{r.index}]"))
            continue
        if national_re is not None and -1 < first_at(doc, national_re, cs, ce) < start and \
                not (has_belongs and belongs_to(doc, s, head_end, ce)):  # "cả nước, 1.000 thanh niên của tỉnh"
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a national figure"))
            continue
        if indicator in rules.part_year_indicators and part_year_re is not None and first_at(doc, part_year_re, ss, ce) >= 0:
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: part of a year"))
            continue
        if head_end > n.end and _SHARE_AFTER_RE.match(low, head_end) is not None:
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a share of a total"))
            continue
        para = s.para  # is_plan, inlined
        if para not in para_seen:
            para_info(doc, rules, para)
        # plan cues bind to their clause ("đạt yêu cầu; ... hoàn thành 100% chỉ tiêu" is a result);
        # a few ("phấn đấu", "sẽ", "kế hoạch") govern the whole sentence
        assigned = indicator in ASSIGNED_AHEAD
        p_re, sp_re = (rules.assigned_plan_re, rules.assigned_sentence_plan_re) if assigned else (plan_re, sentence_plan_re)
        if para in para_plan or (para in doc.para_future and not assigned) or \
                (p_re is not None and p_re.search(low, cs, start) is not None) or \
                (cs > ss and sp_re is not None and sp_re.search(low, ss, cs) is not None):
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a plan or directive"))
            continue
        # a part of a total ("trong đó", "gồm:", a sentence opening on "Trong đó") or of a figure
        # already read is no total; unless a unit is named right before it: an item of a list by unit
        first = first_in.get(ss)
        prev_same = last_of.get((ss, indicator))
        part = None
        if (has_parts_after and first is not None and any(first <= a and b <= start for a, b in match_positions(doc, _PARTS_AFTER_RE, s))) or \
                (has_lists and -1 < first_at(doc, _LIST_OPENING_RE, ss, s.end) < start and not _names_itself(low, r, cs, start)) or \
                (has_part_openings and first_at(doc, _PART_OPENING_RE, ss, -1) == ss):
            part = "a part of a total (breakdown)"
        elif prev_same is not None and BREAKDOWN_RE.search(low, prev_same, start):
            part = "a part of an earlier figure"
        if part is not None:
            if listed is None:
                listed = listed_unit(doc, s, max(prev_end, cs), start)
            if listed is None:
                if trace is not None:
                    trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: {part}"))
                continue
        last_of[(ss, indicator)] = n.end
        period = quota_period(doc, s, cs, ce) if indicator in ASSIGNED_AHEAD else fact_period(doc, s, cs, ce)
        if period is False:
            period = _neighbour_year(doc, s, cs, start, n.end)
        elif doc.defaulted:
            period = year_end_period(doc, s, cs, ce, indicator, period)
        if period is False:
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a plan year"))
            continue
        q: dict = {}
        if r.qualifiers == "award":
            q = award_qualifiers(doc, rules, cs, ce, start)
        elif r.qualifiers == "trainees":
            q = trainee_qualifiers(doc, rules, n.end, ce)
        unit, unit_from = listed, "list"
        if unit is None:
            unit, unit_from = (has_belongs and belongs_to(doc, s, head_end, ce)) or None, "belongs"
        if unit is None:
            unit, unit_from = fact_unit(doc, s, cs, start, r.qualifiers == "award"), "context"
        if unit is not None and unit_from != "belongs" and group_subject(doc, s, cs, start, unit_from == "context"):
            unit = None  # "các huyện miền núi giao 410 thanh niên": a group of units is no unit
        if unit is None:  # a figure of no known unit answers no analyst's question
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: no unit"))
            continue
        if trace is not None:
            trace.append((start, n.end, n.value, f"number_rules[{r.index}] -> {indicator} {n.comparator}{n.value} "
                                                 f"unit {unit.unit_id if unit else None} period {period}"))
        first_in.setdefault(ss, n.end)
        if head_end > n.end:
            siblings[ss] = (r, low[n.end:head_end].strip())
        value = n.denominator if n.kind == "ratio" and r.take == "denominator" else n.value
        feats = {"rule": f"number_rules[{r.index}]", "head": low[n.end:head_end].strip(), "kind": n.kind,
                 "unit_from": unit_from,
                 "figure_index": seen - 1, "cue_distance": start - cs,
                 **figure_features(doc, r, n, s, cs, ce, head_end, seen, unit, unit_from, period)}
        facts.append(_make_fact(doc, (cs, ce), indicator, value, n.comparator, unit, period, q, r.confidence, feats))
        derived = {**feats, "rule": f"number_rules[{r.index}]:derived"}
        if n.kind == "ratio" and r.denominator_of and n.denominator:
            # "giao quân 07/07 thanh niên": 7 recruits of a quota of 7, so the quota was met
            facts.append(_make_fact(doc, (cs, ce), r.denominator_of, n.denominator, "=", unit, period, {}, r.confidence, derived))
            if r.denominator_of == "recruitment_quota" and n.value >= n.denominator:  # "6/5 công dân": 120%
                pct = round(100 * n.value / n.denominator)
                facts.append(_make_fact(doc, (cs, ce), "recruitment_quota_pct", pct, "=", unit, period, {}, 0.8, derived))
                facts.append(_make_fact(doc, (cs, ce), "recruitment_quota_met", True, "=", unit, period, {}, 0.8, derived))
        # 100% of the recruitment quota means the quota was met.
        if indicator == "recruitment_quota_pct" and n.value >= 100 and n.comparator in ("=", ">"):
            facts.append(_make_fact(doc, (cs, ce), "recruitment_quota_met", True, "=", unit, period, {}, 0.8, derived))
    present: dict[str, bool] = {}  # word -> occurs in the text (the flag rules share many)

    def has(word: str) -> bool:
        v = present.get(word)
        if v is None:
            v = present[word] = word in low
        return v

    for fr in rules.flag_rules:
        if fr.requires and not any(has(r) for r in fr.requires):
            continue
        # a word the pattern cannot match without is missing (see rules.required_literals; the
        # whole text is looked at, a superset of the text searched)
        if fr.needs and not all(any(has(w) for w in group) for group in fr.needs):
            continue
        for m in fr.pattern.finditer(low, 0, limit):
            s = sentence_at(doc, m.start())
            if s is None or is_plan(doc, rules, s, m.end()):  # a plan cue inside the statement counts too
                continue
            cs, ce = clause_bounds(low, s, m.start())
            period = fact_period(doc, s, cs, ce)
            if period is False:
                continue
            unit = fact_unit(doc, s, cs, m.start())
            if unit is None:
                continue
            if trace is not None:
                trace.append((m.start(), m.end(), fr.value, f"flag rule {fr.indicator} -> {fr.value} "
                                                            f"unit {unit.unit_id if unit else None} period {period}"))
            facts.append(_make_fact(doc, (cs, ce), fr.indicator, fr.value, "=", unit, period, {}, fr.confidence,
                                    {"cue_distance": m.start() - cs, **flag_features(doc, fr, s, cs, ce, m.start(), unit, period)}))
    if trace is not None:  # offsets back into the caller's text, plus what the article is about
        trace[:] = [(*doc.nz.orig_span(a, b), v, m) for a, b, v, m in trace]
        trace.insert(0, (0, 0, None, f"article: subject {doc.subject.unit_id if doc.subject else None}, "
                                     f"source prior {source_unit_id}, published {doc.pub}, default period {doc.ref_year}, "
                                     f"context {sorted(doc.context)}"))
    return score_facts(_dedupe(_headline_once(facts, doc.title_end)))


def _headline_once(facts: list[Fact], title_end: int) -> list[Fact]:
    """A figure of the title that the body gives too is the body's fact (with the body's
    unit and period): the headline only repeats it."""
    if not title_end or not any(f.span_start < title_end for f in facts):
        return facts
    body = {(f.indicator, f.value) for f in facts if f.span_start >= title_end}
    return [f for f in facts if f.span_start >= title_end or (f.indicator, f.value) not in body]


def _dedupe(facts: list[Fact]) -> list[Fact]:
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


@dataclass(frozen=True, slots=True)
class ArticleProfile:
    """What the extractor concludes about an article as a whole (one definition for the
    extractor and the marts): the unit it is about and the year it reports on."""
    subject_unit_id: str | None   # the unit the article is about (not the publisher's)
    reviewed_year: int | None     # the year a year-end review is of ("tổng kết ... năm X")
    ref_year: int | None          # the default period of its figures


def describe_article(title: str, body: str, published_at: datetime | date | None = None,
                     source_unit_id: str | None = None, url: str | None = None) -> ArticleProfile:
    """The article's subject unit and reviewed year, as the extractor reads them. Never raises."""
    try:
        load_tables()
        if not isinstance(title, str) or not isinstance(body, str):
            return ArticleProfile(None, None, None)
        source_unit_id = _source_prior(source_unit_id, url, published_at)
        return _profile(prepare_document(title, body, published_at, source_unit_id), source_unit_id)
    except Exception:  # noqa: BLE001 - one bad article must not stop a batch
        log.exception("describe_article failed")
        return ArticleProfile(None, None, None)


def _profile(doc: Doc | None, source_unit_id: str | None) -> ArticleProfile:
    if doc is None:
        return ArticleProfile(source_unit_id, None, None)
    ry = periods.reviewed_year(doc.low[:2500], doc.pub)
    return ArticleProfile(doc.subject.unit_id if doc.subject else None, ry, doc.ref_year)


def analyse_article(title: str, body: str, published_at: datetime | date | None = None,
                    source_unit_id: str | None = None, url: str | None = None) -> tuple[list[Fact], ArticleProfile]:
    """extract_article and describe_article from one reading of the article (the ingest path
    needs both). Never raises."""
    try:
        load_tables()
        if not isinstance(title, str) or not isinstance(body, str):
            return [], ArticleProfile(None, None, None)
        source_unit_id = _source_prior(source_unit_id, url, published_at)
        prepared: list = []
        facts = _extract(title, body, published_at, source_unit_id, prepared=prepared)
        return facts, _profile(prepared[0] if prepared else None, source_unit_id)
    except Exception:  # noqa: BLE001 - one bad article must not stop a batch
        log.exception("extraction failed")
        return [], ArticleProfile(None, None, None)


@lru_cache(maxsize=1)
def load_tables() -> None:
    """The tables every article is read against (patterns, gazetteer, publishers' hosts), loaded
    together on first use: a process's first article pays for all of them once, and no later
    article pays for the one its own source happened to need first."""
    default_rules()
    default_gazetteer()
    default_index()


def _source_prior(source_unit_id: str | None, url: str | None, published_at=None) -> str | None:
    """The registry's unit when the source has one, else the unit the URL's host belongs to
    (at the publication date: a merged unit's host stands for its successor)."""
    if source_unit_id or not url:
        return source_unit_id
    on = published_at.date() if isinstance(published_at, datetime) else published_at
    return unit_for_url(url, on if isinstance(on, date) else None)


def explain_article(title: str, body: str, published_at: datetime | date | None = None,
                    source_unit_id: str | None = None, url: str | None = None) -> tuple[list[Fact], list[tuple]]:
    """extract_article plus its trace: (start, end, value, what happened) for every figure and
    flag read, offsets in `title + "\\n" + body`; the first entry describes the article."""
    load_tables()
    trace: list[tuple] = []
    facts = _extract(title, body, published_at, _source_prior(source_unit_id, url, published_at), trace)
    return facts, trace


def extract_article(title: str, body: str, published_at: datetime | date | None = None,
                    source_unit_id: str | None = None, url: str | None = None) -> list[Fact]:
    """Indicator facts in an article. Spans index `title + "\\n" + body`. Never raises.
    `source_unit_id` (the registry's unit of the source) or else `url` (its host, through
    qpan/extract/source_hosts.csv) gives the unit prior for "tỉnh", "huyện", "toàn tỉnh"."""
    try:
        load_tables()
        if not isinstance(title, str) or not isinstance(body, str):
            return []
        source_unit_id = _source_prior(source_unit_id, url, published_at)
        return _extract(title, body, published_at, source_unit_id)
    except Exception:  # one bad article must not stop a batch
        log.exception("extraction failed")
        return []

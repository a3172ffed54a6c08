"""Article text -> indicator facts.

Pipeline: normalise (keeping a map to the original offsets), cut page chrome, split
sentences, date the article (publication date, reviewed year), find place names and
the article's subject unit, then read every candidate figure with the ordered
number rules of patterns.yml and every qualitative statement with the flag rules.
Each fact gets the unit its clause or paragraph is about, the period its clause
describes, and is dropped when the clause is a plan or a directive.

The engine reads the figures and flags in order; the roles it leans on are modules of their own:
document.py (the prepared article), matching.py (which rule fits a figure), lists.py (parts of a
total, items of a list by unit), attribution.py (unit and period), facts.py (the Fact, its version,
headline and duplicate clean-up), features.py and scoring.py (the evidence and the learned score).

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
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from . import periods
from .attribution import (
    ASSIGNED_AHEAD, belongs_to, fact_period, quota_period, fact_unit, group_subject, listed_unit, neighbour_year,
    year_end_period,
)
from .document import clause_bounds, Doc, first_at, is_plan, para_info, match_positions, prepare_document, sentence_at
from .facts import EXTRACTOR_VERSION, RULES_VERSION, Fact, dedupe, headline_once, make_fact
from .features import figure_features, flag_features
from .gazetteer import default_gazetteer
from .lists import (
    ITEMS_OPENING_RE, LIST_OPENING_RE, PART_OPENING_RE, PARTS_AFTER_RE, SHARE_AFTER_RE, list_sibling, names_itself,
)
from .matching import BREAKDOWN_RE, award_qualifiers, match_number, trainee_qualifiers
from .numbers import find_numbers
from .rules import any_anchor, default_rules
from .scoring import score_facts
from .sources import default_index, unit_for_url

log = logging.getLogger(__name__)

# The version and the fact type are defined in facts.py; the engine is where callers take them from.
__all__ = ["EXTRACTOR_VERSION", "RULES_VERSION", "ArticleProfile", "Fact", "analyse_article", "describe_article",
           "explain_article", "extract_article", "load_tables"]

MAX_FIGURES_PER_SENTENCE = 60
# A capitalised word right after a capitalised number word: a place name ("thị xã Ba Đồn", "quận Hai
# Bà Trưng", "huyện Ba Vì"), not a figure.
_WORD_AFTER_RE = re.compile(r"[ \t]+(\w)")


def _in_a_name(text: str, n, trace: list | None) -> bool:
    """A number word written with a capital and followed by a capitalised word is part of a name."""
    w = _WORD_AFTER_RE.match(text, n.end)
    if text[n.start].isupper() and w is not None and w.group(1).isupper():
        if trace is not None:
            trace.append((n.start, n.end, n.value, "not read: a number word in a name (thị xã Ba Đồn, quận Hai Bà Trưng)"))
        return True
    return False


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
    if any(n.words for n in nums):
        nums = [n for n in nums if not (n.words and _in_a_name(doc.text, n, trace))]
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
    never_parts = rules.never_parts
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
            if sib is None and i > 0 and ITEMS_OPENING_RE.match(low, ss):  # "Cụ thể: huyện A 50 thanh niên, ..."
                sib = siblings.get(sents[i - 1].start)
            hit = list_sibling(doc, rules, nums, k, s, cs, ce, sib)
            if hit is None and cs > ss and ITEMS_OPENING_RE.match(low, cs):
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
        if head_end > n.end and SHARE_AFTER_RE.match(low, head_end) is not None:
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
        if indicator in never_parts:
            pass
        elif (has_parts_after and first is not None and any(first <= a and b <= start for a, b in match_positions(doc, PARTS_AFTER_RE, s))) or \
                (has_lists and -1 < first_at(doc, LIST_OPENING_RE, ss, s.end) < start and not names_itself(low, r, cs, start)) or \
                (has_part_openings and first_at(doc, PART_OPENING_RE, ss, -1) == ss):
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
            period = neighbour_year(doc, s, cs, start, n.end)
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
        facts.append(make_fact(doc, (cs, ce), indicator, value, n.comparator, unit, period, q, r.confidence, feats))
        derived = {**feats, "rule": f"number_rules[{r.index}]:derived"}
        if n.kind == "ratio" and r.denominator_of and n.denominator:
            # "giao quân 07/07 thanh niên": 7 recruits of a quota of 7, so the quota was met
            facts.append(make_fact(doc, (cs, ce), r.denominator_of, n.denominator, "=", unit, period, {}, r.confidence, derived))
            if r.denominator_of == "recruitment_quota" and n.value >= n.denominator:  # "6/5 công dân": 120%
                pct = round(100 * n.value / n.denominator)
                facts.append(make_fact(doc, (cs, ce), "recruitment_quota_pct", pct, "=", unit, period, {}, 0.8, derived))
                facts.append(make_fact(doc, (cs, ce), "recruitment_quota_met", True, "=", unit, period, {}, 0.8, derived))
        # 100% of the recruitment quota means the quota was met.
        if indicator == "recruitment_quota_pct" and n.value >= 100 and n.comparator in ("=", ">"):
            facts.append(make_fact(doc, (cs, ce), "recruitment_quota_met", True, "=", unit, period, {}, 0.8, derived))
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
            facts.append(make_fact(doc, (cs, ce), fr.indicator, fr.value, "=", unit, period, {}, fr.confidence,
                                    {"cue_distance": m.start() - cs, **flag_features(doc, fr, s, cs, ce, m.start(), unit, period)}))
    if trace is not None:  # offsets back into the caller's text, plus what the article is about
        trace[:] = [(*doc.nz.orig_span(a, b), v, m) for a, b, v, m in trace]
        trace.insert(0, (0, 0, None, f"article: subject {doc.subject.unit_id if doc.subject else None}, "
                                     f"source prior {source_unit_id}, published {doc.pub}, default period {doc.ref_year}, "
                                     f"context {sorted(doc.context)}"))
    return score_facts(dedupe(headline_once(facts, doc.title_end)))


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

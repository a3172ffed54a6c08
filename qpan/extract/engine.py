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
in _Doc, not once per figure. tests/extract/test_fast_paths.py holds each shortcut to the
plain version.
"""
from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from . import periods
from .anaphora import SUBJECT_BLOCK_BEFORE_RE, find_reference, last_reference, references, resolve
from .gazetteer import _RUN_RE, Gazetteer, Mention, Unit, default_gazetteer
from .normalize import Normalized, Sentence, normalize, split_sentences
from .numbers import NumberMention, find_numbers
from .rules import NumberRule, Rules, any_anchor, default_rules, may_match

log = logging.getLogger(__name__)

EXTRACTOR_VERSION = "rules-2.0"  # 2.0: source prior, type words, parts, scope, spans (issue #15)

_LEFT_WINDOW = 140
_PARA_PLAN_HEAD = 100
_NESTED_SUBJECT_SHARE = 0.6
_RIGHT_WINDOW = 90
_NEAR = 40
# A breakdown of the figure before ("312 tân binh, trong đó có 42 đảng viên").
_BREAKDOWN_RE = re.compile(r"trong đó|trong số đó|bao gồm|gồm\s*:|cụ thể\s*:|\(")
# After a total, what follows these is its parts, whatever they count.
_PARTS_AFTER_RE = re.compile(r"trong đó|trong số đó|bao gồm|gồm\s*:|cụ thể\s*:")
# A sentence that opens on "Trong đó" breaks down the figure of the sentence before it.
_PART_OPENING_RE = re.compile(r"\W*(?:trong đó|trong số đó)(?!\w)")
# A list of parts: "các đơn vị nhận quân gồm: Sư đoàn 324 là 86 tân binh; ..."
_LIST_OPENING_RE = re.compile(r"gồm\s*:")


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


# ------------------------------------------------------------------ context
@dataclass(slots=True)
class _Doc:
    nz: Normalized
    text: str
    low: str
    sents: list[Sentence]
    sent_starts: list[int]
    para_first: dict[int, Sentence]
    pub: periods.PubDate | None
    ref_year: int | None       # default period: reviewed year, else publication year
    plan_after: int | None     # a year above this is a plan year
    present_year: int | None   # "hiện nay" / "hằng năm"
    on: date | None            # date for picking unit versions
    gaz: Gazetteer
    context: set[str]          # province / source units that disambiguate names
    subject: Unit | None
    para_unit: dict[int, Unit | None]
    para_plan: set[int]
    para_span: dict[int, str]
    para_year: dict[int, int]
    para_seen: set[int] = field(default_factory=set)
    para_future: set[int] = field(default_factory=set)  # paragraphs that open on a coming year
    ref_period: str | None = None  # default period: the reviewed year or span, else publication year
    title_end: int = 0
    limit: int = 0  # end of the article text (page chrome after it is not read)
    # sentence start -> (start, end, unit) of its place names that can be a figure's subject
    sent_mentions: dict[int, list[tuple[int, int, Unit]]] = field(default_factory=dict)
    # Memos, per article: what a clause or a sentence says does not change between the
    # figures read in it (keys are offsets, plus the regex for the clause-wide cue tests).
    picked: dict[tuple[int, ...], Unit | None] = field(default_factory=dict)
    clause_cue: dict[tuple, bool] = field(default_factory=dict)
    period_of: dict[tuple[int, int, int], str | None | bool] = field(default_factory=dict)
    award_found: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)
    evidence: dict[tuple[int, int], tuple[str, int, int]] = field(default_factory=dict)
    award_fields_in: dict[tuple[int, int], list] = field(default_factory=dict)
    salient: list[Unit] = field(default_factory=list)  # units the article is about, most salient first
    para_mentions: dict[int, list[tuple[int, Unit]]] = field(default_factory=dict)
    sent_refs: dict[int, list[tuple[int, str, bool]]] = field(default_factory=dict)
    sent_subjects: dict[int, list[tuple[int, int, Unit]]] = field(default_factory=dict)
    cue_at: dict[tuple, object] = field(default_factory=dict)  # (regex, a, b) -> first match start (-1), or matches


# "(?<!\w)năm\s+((?:19|20)\d\d)(?!\d)", opening on the literal word (see rules.literal_first).
_YEAR_ANY_RE = re.compile(r"năm(?<!\wnăm)\s+((?:19|20)\d\d)(?!\d)")
# A name after these is a place or a body named in passing, not the subject of the clause
# ("của Chủ tịch UBND tỉnh An Giang", "tại xã X").
_SUBJECT_BLOCK_BEFORE_RE = SUBJECT_BLOCK_BEFORE_RE
_TOPIC_OPENING_RE = re.compile(r"\s*(?:tại|ở|riêng|còn|với)\s+(?:tỉnh|huyện|thành phố|thị xã|quận|xã|phường|thị trấn)?\s*")
_PARA_LEAD_RE = re.compile(r"(?:tại|ở|riêng|đối với|với|trong đó,?)?\s*")


def _clause_bounds(low: str, s: Sentence, pos: int) -> tuple[int, int]:
    start = low.rfind(";", s.start, pos)
    start = s.start if start < 0 else start + 1
    end = low.find(";", pos, s.end)
    return start, (s.end if end < 0 else end)


def _dates(low: str, published_at: datetime | date | None):
    pub = None
    if isinstance(published_at, datetime):
        pub = periods.PubDate(published_at.year, published_at.month, published_at.day)
    elif isinstance(published_at, date):
        pub = periods.PubDate(published_at.year, published_at.month, published_at.day)
    if pub is None:
        pub = periods.parse_publication_date(low)
    head = low[:2500]
    ry = periods.reviewed_year(head, pub)
    ev = periods.parse_event_date(low, pub, ry)
    fallback = None
    if ry is None and pub is None and ev is None:
        years = Counter(int(y) for y in _YEAR_ANY_RE.findall(low))
        fallback = years.most_common(1)[0][0] if years else None
    ref_year = ry or (pub.year if pub else None) or (ev.year if ev else None) or fallback
    plan_after = ry or (pub.year if pub else None) or (ev.year if ev else None) or fallback
    present = (pub.year if pub else None) or (ev.year if ev else None) or ref_year
    on = (pub or ev).as_date() if (pub or ev) else (date(ref_year, 12, 31) if ref_year else None)
    if pub and pub.day is None and ev and ev.year == pub.year:
        on = ev.as_date()
    return pub, ref_year, plan_after, present, on


def _context(gaz: Gazetteer, mentions: list[Mention], on: date | None, source_unit_id: str | None) -> set[str]:
    """Provinces named outright, and the source's own unit, narrow ambiguous names."""
    context: set[str] = set()
    if source_unit_id:
        context.add(source_unit_id.split(".")[0])
        context.add(source_unit_id)
    for ids in dict.fromkeys(m.units for m in mentions):  # each distinct name once
        u = gaz.pick(ids, on)
        if u is not None and u.level == "province":
            context.add(u.unit_id)
    return context


def _subject(gaz: Gazetteer, mentions: list[Mention], on: date | None, context: set[str],
             title_end: int, lead_end: int, source_unit_id: str | None,
             picked: dict[tuple[int, ...], Unit | None] | None = None) -> list[Unit]:
    """The units the article is about, most salient first (the first is its subject): weighted mentions (title and lead count more,
    typed names more than bare ones), the source's unit as a prior; ties go to the
    more specific unit. `picked` memoises gaz.pick(ids, on, context) (see _pick)."""
    score: Counter = Counter()
    picked = {} if picked is None else picked
    for m in mentions:
        try:
            u = picked[m.units]
        except KeyError:
            u = picked[m.units] = gaz.pick(m.units, on, context)
        if u is None:
            continue
        w = 4.0 if m.start < title_end else (2.0 if m.start < lead_end else 1.0)
        score[u.unit_id] += w * (1.0 if m.typed else 0.7)
    if source_unit_id:
        score[source_unit_id] += 2.5
    if not score:
        return []
    ranked = sorted(score.items(), key=lambda kv: (kv[1], kv[0].count(".")), reverse=True)
    if source_unit_id and ranked[0][0] != source_unit_id and source_unit_id.startswith(ranked[0][0] + "."):
        # a commune's portal names its district and province: the portal's own unit is the subject
        ranked.sort(key=lambda kv: kv[0] != source_unit_id)
    else:
        # "xã Kim Long (TPHCM)", "huyện X, tỉnh Y": a unit named about as often as the unit it
        # lies in is what the article is about (the other is its address)
        top_id, top_score = ranked[0]
        for uid, sc in ranked[1:3]:
            if uid.startswith(top_id + ".") and sc >= _NESTED_SUBJECT_SHARE * top_score:
                ranked.sort(key=lambda kv: kv[0] != uid)
                break
    return [u for u in (gaz.unit(uid, on) or gaz.unit(uid) for uid, _ in ranked) if u is not None]


def _prepare(title: str, body: str, published_at, source_unit_id) -> _Doc | None:
    rules = default_rules()
    text = f"{title}\n{body}"
    nz = normalize(text)
    t, low = nz.text, nz.lower
    # The normalised title's length; when the text needed no offset map (NFC, nothing deleted)
    # the title, which ends at a line break, is unchanged in length too.
    title_end = (len(title) if nz._starts is None else len(normalize(title).text)) if title else 0
    stop = rules.stop_re.search(low, title_end)
    limit = stop.start() if stop else len(t)
    sents = split_sentences(t[:limit])
    if not sents:
        return None
    pub, ref_year, plan_after, present, on = _dates(low[:limit], published_at)
    gaz = default_gazetteer()
    # Place names are looked up in the title and lead (for the subject) and later only
    # in the clauses that hold a fact: most of an article never needs the gazetteer.
    lead_end = sents[min(len(sents) - 1, 7)].end
    mentions = gaz.find_mentions(t, low, 0, lead_end)
    if not mentions:
        mentions = gaz.find_mentions(t, low, 0, limit)
    context = _context(gaz, mentions, on, source_unit_id)
    picked: dict[tuple[int, ...], Unit | None] = {}
    salient = _subject(gaz, mentions, on, context, title_end, lead_end, source_unit_id, picked)
    subject = salient[0] if salient else None
    if subject is None and source_unit_id:
        subject = gaz.unit(source_unit_id, on)
    para_first: dict[int, Sentence] = {}
    for s in sents:
        para_first.setdefault(s.para, s)
    doc = _Doc(nz, t, low, sents, [s.start for s in sents], para_first, pub, ref_year, plan_after,
               present, on, gaz, context, subject, {}, set(), {}, {}, picked=picked, salient=salient)
    span = periods.reviewed_span(low[:lead_end])
    doc.ref_period = periods.format_period(*span) if span else (str(ref_year) if ref_year else None)
    doc.title_end = title_end
    doc.limit = limit
    return doc


def _positions(doc: _Doc, rx: re.Pattern, s: Sentence) -> list[int]:
    """Where rx matches in sentence s (start, end), once per sentence and regex."""
    key = (rx, s.start, s.end)
    ps = doc.cue_at.get(key)
    if ps is None:
        ps = doc.cue_at[key] = [(m.start(), m.end()) for m in rx.finditer(doc.low, s.start, s.end)]
    return ps


def _first_at(doc: _Doc, rx: re.Pattern, a: int, b: int) -> int:
    """Where rx first matches in low[a:b] (b = -1: matched at a only), or -1; once per span."""
    key = (rx, a, b)
    at = doc.cue_at.get(key)
    if at is None:
        m = rx.match(doc.low, a) if b < 0 else rx.search(doc.low, a, b)
        at = doc.cue_at[key] = m.start() if m else -1
    return at


def _para_info(doc: _Doc, rules: Rules, p: int) -> None:
    """Plan mode, span and leading year of paragraph p, from its first sentence (lazily:
    only paragraphs that hold a candidate fact are looked at)."""
    if p in doc.para_seen:
        return
    doc.para_seen.add(p)
    low, s = doc.low, doc.para_first[p]
    # a paragraph of plans says so at its start ("Phương hướng năm 2024: ...", "Năm 2024, huyện
    # sẽ ..."); a "sẽ" deep in a long first sentence is about that sentence only
    if rules.plan_para_re.search(low, s.start, min(s.end, s.start + _PARA_PLAN_HEAD)):
        doc.para_plan.add(p)
    sp = periods.find_span(low, s.start, min(s.end, s.start + 40), doc.present_year)
    if sp:
        doc.para_span[p] = periods.format_period(sp[0], sp[1])
    ly = periods.leading_year(low, s.start)
    if ly is not None:
        if doc.plan_after is not None and ly > doc.plan_after:
            doc.para_future.add(p)
        else:
            doc.para_year[p] = ly


def _pick(doc: _Doc, ids: tuple[int, ...]) -> Unit | None:
    """gaz.pick with the article's date and context (both fixed once _prepare is done)."""
    try:
        return doc.picked[ids]
    except KeyError:
        u = doc.picked[ids] = doc.gaz.pick(ids, doc.on, doc.context)
        return u


def _para_unit(doc: _Doc, para: int) -> Unit | None:
    """A paragraph that opens on a named unit ("Tại huyện Nga Sơn, ...") is about it."""
    if para not in doc.para_unit:
        s = doc.para_first[para]
        lead = _PARA_LEAD_RE.match(doc.low, s.start).end()
        u = None
        end = min(s.end, lead + 60)
        # A name can only open the paragraph if a capitalised word does, give or take the type
        # word before it (at most 18 characters, see gazetteer._type_before): else skip the look-up.
        run = _RUN_RE.search(doc.text, lead, end)
        if run is None or run.start() - lead > 2 + 18:
            end = lead
        for m in doc.gaz.find_mentions(doc.text, doc.low, lead, end):
            if m.start - lead <= 2 and m.typed:
                u = _pick(doc, m.units)
            break
        doc.para_unit[para] = u
    return doc.para_unit[para]


# ------------------------------------------------------------------ per fact
def _sentence_at(doc: _Doc, pos: int) -> Sentence | None:
    i = bisect.bisect_right(doc.sent_starts, pos) - 1
    if i < 0:
        return None
    s = doc.sents[i]
    return s if pos < s.end else None


def _is_plan(doc: _Doc, rules: Rules, s: Sentence, pos: int) -> bool:
    _para_info(doc, rules, s.para)
    if s.para in doc.para_plan or s.para in doc.para_future:
        return True
    return rules.plan_re.search(doc.low, s.start, pos) is not None


def _period(doc: _Doc, s: Sentence, cs: int, ce: int) -> str | None | bool:
    """The period of a figure in clause [cs, ce) of sentence s; False means a plan.
    (Memoised per clause: the paragraph's span and year it reads are set by _para_info,
    which _is_plan runs for the paragraph before any of its figures gets here.)"""
    key = (s.start, cs, ce)
    try:
        return doc.period_of[key]
    except KeyError:
        p = doc.period_of[key] = _clause_period(doc, s, cs, ce)
        return p


def _clause_period(doc: _Doc, s: Sentence, cs: int, ce: int) -> str | None | bool:
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
    if periods.is_present(low, s.start, s.end):
        return str(doc.present_year) if doc.present_year else None
    return doc.ref_period


# Indicators assigned ahead of the year they are for: a quota announced in November is the
# next intake's (the hand-over is in February), so a coming year is not a plan for them.
_ASSIGNED_AHEAD = frozenset({"recruitment_quota"})


def _quota_period(doc: _Doc, s: Sentence, cs: int, ce: int) -> str | None | bool:
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
    return _period(doc, s, cs, ce)


# An awarding body written with a bare type word ("Giám đốc Công an tỉnh tặng Giấy khen cho 3
# tập thể") names the level that gives the award, not the unit of those awarded; a body named
# outright ("UBND huyện Vân Hồ tặng Giấy khen") is the unit the award is counted for.
_AWARDING_BODY_BEFORE_RE = re.compile(
    r"(?:giám đốc|chủ tịch|ban thường vụ|chỉ huy trưởng|bộ chỉ huy quân sự|bộ chqs|ban chqs|công an|ubnd|"
    r"ủy ban nhân dân|huyện ủy|tỉnh ủy|thành ủy|bộ trưởng|tư lệnh)[\s,]*$")


def _sentence_mentions(doc: _Doc, s: Sentence) -> list[tuple[int, int, Unit, bool]]:
    """The resolved place names of sentence s, once per sentence (shared by all its figures):
    (start, end, unit, blocked). Blocked: after "của", "tại"... a place or a body named in
    passing, not a subject, unless the sentence opens on it ("Tại Quảng Nam, 2.454 ...")."""
    ms = doc.sent_mentions.get(s.start)
    if ms is None:
        low = doc.low
        ms = doc.sent_mentions[s.start] = []
        for m in doc.gaz.find_mentions(doc.text, low, s.start, s.end):
            u = _pick(doc, m.units)
            if u is None:
                continue
            blocked = _SUBJECT_BLOCK_BEFORE_RE.search(low, m.start - 48 if m.start > 48 else 0, m.start) is not None \
                and not _TOPIC_OPENING_RE.fullmatch(low, s.start, m.start)
            ms.append((m.start, m.end, u, blocked))
    return ms


def _unit(doc: _Doc, s: Sentence, cs: int, pos: int, award: bool = False) -> Unit | None:
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
        refs = doc.sent_refs[s.start] = references(doc.text, low, s.start, s.end)
    ref = last_reference(refs, cs, pos) if refs else None
    if ref is not None and award and _AWARDING_BODY_BEFORE_RE.search(low, max(0, ref[0] - 30), ref[0]):
        ref = None
    if ref is None and named is None and cs > s.start:
        # nothing in the clause: a bare type word the sentence used before it
        ref = last_reference(refs, s.start, cs) if refs else None
    if ref is not None and (named is None or ref[0] > named[0]):
        u = resolve(ref[1], _recent_units(doc, s.para, ref[0]) + doc.salient, doc.gaz, doc.on)
        if u is not None:
            return u
    if named is not None:
        return named[1]
    return _para_unit(doc, s.para) or doc.subject


# "10 tập thể, 5 cá nhân thuộc Công an huyện Núi Thành", "được UBND thành phố khen thưởng",
# "50 học viên ... thuộc các Sở, ban, ngành tỉnh": the unit the counted belong to, after them.
_BELONGS_RE = re.compile(r"(?<!\w)(?:thuộc|của)(?!\w)")
_BELONGS_WINDOW = 60
_BELONGS_REACH = 40


def _belongs_to(doc: _Doc, s: Sentence, head_end: int, ce: int) -> Unit | None:
    window_end = min(ce, head_end + _BELONGS_WINDOW)
    at = next((e for a, e in _positions(doc, _BELONGS_RE, s) if a >= head_end and e <= window_end), None)
    if at is None:
        return None
    a, b = at, min(ce, at + _BELONGS_REACH)
    for start, end, u, _ in _sentence_mentions(doc, s):
        if a <= start < b:
            return u
    ref = find_reference(doc.text, doc.low, a, b, blocked=False)
    return resolve(ref[1], doc.salient, doc.gaz, doc.on) if ref else None


def _recent_units(doc: _Doc, para: int, pos: int) -> list[Unit]:
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
                                        if (u := _pick(doc, m.units)) is not None]
    out: list[Unit] = []
    for a, u in reversed(ms):
        if a < pos and u not in out:
            out.append(u)
    return out


def _award_qualifiers(doc: _Doc, rules: Rules, cs: int, ce: int, pos: int) -> dict:
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


def _trainee_qualifiers(doc: _Doc, rules: Rules, head_start: int, ce: int) -> dict:
    m = rules.trainee_groups.search(doc.low, head_start, min(ce, head_start + _RIGHT_WINDOW))
    return {"target_group": doc.text[m.start():m.end()]} if m else {}


def _match_number(doc: _Doc, rules: Rules, n: NumberMention, prev_end: int, next_start: int,
                  cs: int, ce: int) -> tuple[NumberRule, int] | None:
    """The first rule that fits figure n. The left context runs from the previous figure
    (or the clause start); the right context from the head over at most one more figure
    ("38 vụ, 52 đối tượng phạm tội về ma túy") and stops at a breakdown ("trong đó")."""
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
    cands = rules.candidates(group, generic)
    if not cands:
        return None
    start = n.start
    left_a = max(cs, prev_end, start - _LEFT_WINDOW)
    right_end = -1  # worked out when a rule first looks right of the head
    kind = n.kind
    cue = doc.clause_cue
    near_a = max(cs, start - _NEAR)
    for r in cands:
        if kind not in r.kinds:
            continue
        # clause-wide cues first: the same answer for every figure of the clause (memoised)
        rx = r.clause
        if rx is not None:
            key = (rx, cs, ce)
            hit = cue.get(key)
            if hit is None:
                hit = cue[key] = rx.search(low, cs, ce) is not None
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
                bm = _BREAKDOWN_RE.search(low, head_end, right_end)
                if bm:
                    right_end = bm.start()
            if r.right is not None and r.right.search(low, head_end, right_end) is None:
                continue
            if r.not_right is not None and r.not_right.search(low, head_end, right_end) is not None:
                continue
        return r, head_end
    return None


def _make_fact(doc: _Doc, span: tuple[int, int], indicator: str, value, comparator: str, unit: Unit | None,
               period: str | None, qualifiers: dict, confidence: float) -> Fact:
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
    return Fact(indicator, value, comparator, unit.unit_id if unit else None, period, qualifiers,
                ev[0], ev[1], ev[2], round(confidence, 3), EXTRACTOR_VERSION)


MAX_FIGURES_PER_SENTENCE = 60


def _extract(title: str, body: str, published_at, source_unit_id, trace: list | None = None) -> list[Fact]:
    """The facts; with `trace` (a list), also what became of every figure read, as
    (start, end, value, what happened) in the normalised text (qpan eval --explain)."""
    rules = default_rules()
    doc = _prepare(title, body, published_at, source_unit_id)
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
        i = bisect.bisect_right(starts, start) - 1  # the sentence (see _sentence_at)
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
        cs = low.rfind(";", ss, start)  # the clause (see _clause_bounds)
        cs = ss if cs < 0 else cs + 1
        ce = low.find(";", start, s.end)
        if ce < 0:
            ce = s.end
        prev_end = nums[k - 1].end if k > 0 else 0
        # the right context may run over one more figure (see _match_number)
        next_start = nums[k + 2].start if k + 2 < n_nums else len_low
        hit = _match_number(doc, rules, n, prev_end, next_start, cs, ce)
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
        if national_re is not None and -1 < _first_at(doc, national_re, cs, ce) < start:
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a national figure"))
            continue
        if indicator in rules.part_year_indicators and part_year_re is not None and _first_at(doc, part_year_re, ss, ce) >= 0:
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: part of a year"))
            continue
        para = s.para  # _is_plan, inlined
        if para not in para_seen:
            _para_info(doc, rules, para)
        # plan cues bind to their clause ("đạt yêu cầu; ... hoàn thành 100% chỉ tiêu" is a result);
        # a few ("phấn đấu", "sẽ", "kế hoạch") govern the whole sentence
        if para in para_plan or (para in doc.para_future and indicator not in _ASSIGNED_AHEAD) or \
                plan_re.search(low, cs, start) is not None or \
                (cs > ss and sentence_plan_re is not None and sentence_plan_re.search(low, ss, cs) is not None):
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a plan or directive"))
            continue
        first = first_in.get(ss)
        if (has_parts_after and first is not None and any(first <= a and b <= start for a, b in _positions(doc, _PARTS_AFTER_RE, s))) or \
                (has_lists and -1 < _first_at(doc, _LIST_OPENING_RE, ss, s.end) < start) or \
                (has_part_openings and _first_at(doc, _PART_OPENING_RE, ss, -1) == ss):
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a part of a total (breakdown)"))
            continue
        prev_same = last_of.get((ss, indicator))
        if prev_same is not None and _BREAKDOWN_RE.search(low, prev_same, start):
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a part of an earlier figure"))
            continue  # a part of a figure already read, not another total
        last_of[(ss, indicator)] = n.end
        period = _quota_period(doc, s, cs, ce) if indicator in _ASSIGNED_AHEAD else _period(doc, s, cs, ce)
        if period is False:
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: a plan year"))
            continue
        q: dict = {}
        if r.qualifiers == "award":
            q = _award_qualifiers(doc, rules, cs, ce, start)
        elif r.qualifiers == "trainees":
            q = _trainee_qualifiers(doc, rules, n.end, ce)
        unit = (has_belongs and _belongs_to(doc, s, head_end, ce)) or _unit(doc, s, cs, start, r.qualifiers == "award")
        if unit is None:  # a figure of no known unit answers no analyst's question
            if trace is not None:
                trace.append((start, n.end, n.value, f"number_rules[{r.index}] {indicator}, dropped: no unit"))
            continue
        if trace is not None:
            trace.append((start, n.end, n.value, f"number_rules[{r.index}] -> {indicator} {n.comparator}{n.value} "
                                                 f"unit {unit.unit_id if unit else None} period {period}"))
        first_in.setdefault(ss, n.end)
        value = n.denominator if n.kind == "ratio" and r.take == "denominator" else n.value
        facts.append(_make_fact(doc, (cs, ce), indicator, value, n.comparator, unit, period, q, r.confidence))
        if n.kind == "ratio" and r.denominator_of and n.denominator:
            # "giao quân 07/07 thanh niên": 7 recruits of a quota of 7, so the quota was met
            facts.append(_make_fact(doc, (cs, ce), r.denominator_of, n.denominator, "=", unit, period, {}, r.confidence))
            if r.denominator_of == "recruitment_quota" and n.value >= n.denominator:
                facts.append(_make_fact(doc, (cs, ce), "recruitment_quota_pct", 100, "=", unit, period, {}, 0.8))
                facts.append(_make_fact(doc, (cs, ce), "recruitment_quota_met", True, "=", unit, period, {}, 0.8))
        # 100% of the recruitment quota means the quota was met.
        if indicator == "recruitment_quota_pct" and n.value >= 100 and n.comparator in ("=", ">"):
            facts.append(_make_fact(doc, (cs, ce), "recruitment_quota_met", True, "=", unit, period, {}, 0.8))
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
            s = _sentence_at(doc, m.start())
            if s is None or _is_plan(doc, rules, s, m.start()):
                continue
            cs, ce = _clause_bounds(low, s, m.start())
            period = _period(doc, s, cs, ce)
            if period is False:
                continue
            unit = _unit(doc, s, cs, m.start())
            if unit is None:
                continue
            if trace is not None:
                trace.append((m.start(), m.end(), fr.value, f"flag rule {fr.indicator} -> {fr.value} "
                                                            f"unit {unit.unit_id if unit else None} period {period}"))
            facts.append(_make_fact(doc, (cs, ce), fr.indicator, fr.value, "=", unit, period, {}, fr.confidence))
    if trace is not None:  # offsets back into the caller's text, plus what the article is about
        trace[:] = [(*doc.nz.orig_span(a, b), v, m) for a, b, v, m in trace]
        trace.insert(0, (0, 0, None, f"article: subject {doc.subject.unit_id if doc.subject else None}, "
                                     f"source prior {source_unit_id}, published {doc.pub}, default period {doc.ref_year}, "
                                     f"context {sorted(doc.context)}"))
    return _dedupe(_headline_once(facts, doc.title_end))


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
        if not isinstance(title, str) or not isinstance(body, str):
            return ArticleProfile(None, None, None)
        source_unit_id = _source_prior(source_unit_id, url, published_at)
        doc = _prepare(title, body, published_at, source_unit_id)
        if doc is None:
            return ArticleProfile(source_unit_id, None, None)
        head = doc.low[:2500]
        ry = periods.reviewed_year(head, doc.pub)
        return ArticleProfile(doc.subject.unit_id if doc.subject else None, ry, doc.ref_year)
    except Exception:  # noqa: BLE001 - one bad article must not stop a batch
        log.exception("describe_article failed")
        return ArticleProfile(None, None, None)


def _source_prior(source_unit_id: str | None, url: str | None, published_at=None) -> str | None:
    """The registry's unit when the source has one, else the unit the URL's host belongs to
    (at the publication date: a merged unit's host stands for its successor)."""
    if source_unit_id or not url:
        return source_unit_id
    from .sources import unit_for_url

    on = published_at.date() if isinstance(published_at, datetime) else published_at
    return unit_for_url(url, on if isinstance(on, date) else None)


def explain_article(title: str, body: str, published_at: datetime | date | None = None,
                    source_unit_id: str | None = None, url: str | None = None) -> tuple[list[Fact], list[tuple]]:
    """extract_article plus its trace: (start, end, value, what happened) for every figure and
    flag read, offsets in `title + "\\n" + body`; the first entry describes the article."""
    trace: list[tuple] = []
    facts = _extract(title, body, published_at, _source_prior(source_unit_id, url, published_at), trace)
    return facts, trace


def extract_article(title: str, body: str, published_at: datetime | date | None = None,
                    source_unit_id: str | None = None, url: str | None = None) -> list[Fact]:
    """Indicator facts in an article. Spans index `title + "\\n" + body`. Never raises.
    `source_unit_id` (the registry's unit of the source) or else `url` (its host, through
    qpan/extract/source_hosts.csv) gives the unit prior for "tỉnh", "huyện", "toàn tỉnh"."""
    try:
        if not isinstance(title, str) or not isinstance(body, str):
            return []
        source_unit_id = _source_prior(source_unit_id, url, published_at)
        return _extract(title, body, published_at, source_unit_id)
    except Exception:  # one bad article must not stop a batch
        log.exception("extraction failed")
        return []

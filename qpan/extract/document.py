"""An article prepared for reading: normalised text, sentences, dates, place names, its
subject and the units it is about, with per-article memos (engine.py reads figures in it).

What a clause or a sentence says (its period, its place names, its clause-wide cues, its
awarding bodies, its trimmed evidence) is worked out once per article and memoised in Doc,
not once per figure."""
from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from . import periods
from .gazetteer import RUN_RE, Gazetteer, Mention, Unit, default_gazetteer
from .normalize import Normalized, Sentence, normalize, split_sentences
from .rules import Rules, default_rules

_PARA_PLAN_HEAD = 100
_NESTED_SUBJECT_SHARE = 0.6

@dataclass(slots=True)
class Doc:
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
    source_unit_id: str | None = None  # the source's unit (the prior)
    defaulted: set = field(default_factory=set)  # clauses whose period is the article's default
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
    sent_refs: dict[int, object] = field(default_factory=dict)  # sentence start -> anaphora.References
    sent_subjects: dict[int, list[tuple[int, int, Unit]]] = field(default_factory=dict)
    cue_at: dict[tuple, object] = field(default_factory=dict)  # (regex, a, b) -> first match start (-1), or matches


# "(?<!\w)năm\s+((?:19|20)\d\d)(?!\d)", opening on the literal word (see rules.literal_first).
_YEAR_ANY_RE = re.compile(r"năm(?<!\wnăm)\s+((?:19|20)\d\d)(?!\d)")
# A name after these is a place or a body named in passing, not the subject of the clause
# ("của Chủ tịch UBND tỉnh An Giang", "tại xã X").
TOPIC_OPENING_RE = re.compile(r"\s*(?:tại|ở|riêng|còn|với)\s+(?:tỉnh|huyện|thành phố|thị xã|quận|xã|phường|thị trấn)?\s*")
_PARA_LEAD_RE = re.compile(r"(?:tại|ở|riêng|đối với|với|trong đó,?)?\s*")


def clause_bounds(low: str, s: Sentence, pos: int) -> tuple[int, int]:
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


# A unit named as one item of a list of units ("Thành phố A 155 chỉ tiêu, thị xã B 35 chỉ
# tiêu, ...") is one part of what the article is about, not its subject.
_LIST_ITEM_WEIGHT = 0.25
_LIST_GAP = 40


def _listed_mentions(found: list[tuple[Mention, Unit]]) -> set[int]:
    """Indexes of the mentions in a chain of three or more units named close together, each
    next to a unit that is neither nested in it nor around it (siblings in a list)."""
    def linked(j: int) -> bool:  # mention j and j + 1
        (m, u), (m2, u2) = found[j], found[j + 1]
        a, b = u.unit_id, u2.unit_id
        return m2.start - m.end <= _LIST_GAP and a != b and not a.startswith(b + ".") and not b.startswith(a + ".")
    out: set[int] = set()
    run = [0]
    for j in range(len(found) - 1):
        if linked(j):
            run.append(j + 1)
            continue
        if len(run) >= 3:
            out.update(run)
        run = [j + 1]
    if len(run) >= 3:
        out.update(run)
    return out


def _subject(gaz: Gazetteer, mentions: list[Mention], on: date | None, context: set[str],
             title_end: int, lead_end: int, source_unit_id: str | None,
             picked: dict[tuple[int, ...], Unit | None] | None = None) -> list[Unit]:
    """The units the article is about, most salient first (the first is its subject): weighted mentions (title and lead count more,
    typed names more than bare ones), the source's unit as a prior; ties go to the
    more specific unit. `picked` memoises gaz.pick(ids, on, context) (see pick_unit)."""
    score: Counter = Counter()
    picked = {} if picked is None else picked
    found: list[tuple[Mention, Unit]] = []
    for m in mentions:
        try:
            u = picked[m.units]
        except KeyError:
            u = picked[m.units] = gaz.pick(m.units, on, context)
        if u is not None:
            found.append((m, u))
    listed = _listed_mentions(found) if len(found) >= 3 else ()
    for i, (m, u) in enumerate(found):
        w = 4.0 if m.start < title_end else (2.0 if m.start < lead_end else 1.0)
        if i in listed:
            w *= _LIST_ITEM_WEIGHT
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


def prepare_document(title: str, body: str, published_at, source_unit_id) -> Doc | None:
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
    doc = Doc(nz, t, low, sents, [s.start for s in sents], para_first, pub, ref_year, plan_after,
               present, on, gaz, context, subject, {}, set(), {}, {}, picked=picked, salient=salient)
    span = periods.reviewed_span(low[:lead_end], pub.year if pub else None)
    doc.ref_period = periods.format_period(*span) if span else (str(ref_year) if ref_year else None)
    doc.title_end = title_end
    doc.limit = limit
    doc.source_unit_id = source_unit_id
    return doc


def match_positions(doc: Doc, rx: re.Pattern, s: Sentence) -> list[int]:
    """Where rx matches in sentence s (start, end), once per sentence and regex."""
    key = (rx, s.start, s.end)
    ps = doc.cue_at.get(key)
    if ps is None:
        ps = doc.cue_at[key] = [(m.start(), m.end()) for m in rx.finditer(doc.low, s.start, s.end)]
    return ps


def first_at(doc: Doc, rx: re.Pattern, a: int, b: int) -> int:
    """Where rx first matches in low[a:b] (b = -1: matched at a only), or -1; once per span."""
    key = (rx, a, b)
    at = doc.cue_at.get(key)
    if at is None:
        m = rx.match(doc.low, a) if b < 0 else rx.search(doc.low, a, b)
        at = doc.cue_at[key] = m.start() if m else -1
    return at


def para_info(doc: Doc, rules: Rules, p: int) -> None:
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


def pick_unit(doc: Doc, ids: tuple[int, ...]) -> Unit | None:
    """gaz.pick with the article's date and context (both fixed once prepare_document is done)."""
    try:
        return doc.picked[ids]
    except KeyError:
        u = doc.picked[ids] = doc.gaz.pick(ids, doc.on, doc.context)
        return u


def paragraph_unit(doc: Doc, para: int) -> Unit | None:
    """A paragraph that opens on a named unit ("Tại huyện Nga Sơn, ...") is about it."""
    if para not in doc.para_unit:
        s = doc.para_first[para]
        lead = _PARA_LEAD_RE.match(doc.low, s.start).end()
        u = None
        end = min(s.end, lead + 60)
        # A name can only open the paragraph if a capitalised word does, give or take the type
        # word before it (at most 18 characters, see gazetteer._type_before): else skip the look-up.
        run = RUN_RE.search(doc.text, lead, end)
        if run is None or run.start() - lead > 2 + 18:
            end = lead
        for m in doc.gaz.find_mentions(doc.text, doc.low, lead, end):
            if m.start - lead <= 2 and m.typed:
                u = pick_unit(doc, m.units)
            break
        doc.para_unit[para] = u
    return doc.para_unit[para]



def sentence_at(doc: Doc, pos: int) -> Sentence | None:
    i = bisect.bisect_right(doc.sent_starts, pos) - 1
    if i < 0:
        return None
    s = doc.sents[i]
    return s if pos < s.end else None


def is_plan(doc: Doc, rules: Rules, s: Sentence, pos: int) -> bool:
    para_info(doc, rules, s.para)
    if s.para in doc.para_plan or s.para in doc.para_future:
        return True
    return rules.plan_re.search(doc.low, s.start, pos) is not None



"""Place names -> gazetteer units (admin_units.csv), fast.

The index is built once per process: a dict from token tuples (lower-case, tone
placement unified) to unit versions, holding the names with their type words ("huyện
Thọ Xuân", "H. Thọ Xuân", "TP Thanh Hóa", "Huyện ủy Thọ Xuân"), the CSV aliases, and
bare names of provinces and districts. Text is scanned only at capitalised word runs
(a Vietnamese place name is always capitalised), so the cost per article is a few
dozen dict look-ups, whatever the size of the gazetteer.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import NamedTuple
from pathlib import Path

from .normalize import fold, strip_diacritics


@dataclass(frozen=True, slots=True)
class Unit:
    unit_id: str
    level: str          # province | district | commune
    type: str
    name: str
    parent_id: str | None
    valid_from: date | None
    valid_to: date | None
    successor_id: str | None

    @property
    def key(self) -> tuple[str, date | None]:
        return (self.unit_id, self.valid_from)

    def valid_at(self, d: date | None) -> bool:
        if d is None:
            return True
        return (self.valid_from is None or self.valid_from <= d) and (self.valid_to is None or d <= self.valid_to)

    @property
    def province_id(self) -> str:
        return self.unit_id.split(".")[0]


class Mention(NamedTuple):
    """A place-name mention (a named tuple: built per sentence read, it has to be cheap)."""
    start: int             # offsets in the normalised text
    end: int
    units: tuple[int, ...] # indexes into Gazetteer.units (all versions that match)
    typed: bool            # written with a type word ("huyện X"), not bare


# Type words in front of a name, by unit type. Party committees ("Huyện ủy X") name the
# unit as much as "huyện X" does.
_TYPE_PREFIXES = {
    "tỉnh": ["tỉnh", "tỉnh ủy"],
    "thành phố trực thuộc trung ương": ["thành phố", "tp", "tp.", "thành ủy"],
    "thành phố": ["thành phố", "tp", "tp.", "thành ủy"],
    "thị xã": ["thị xã", "tx", "tx.", "thị ủy"],
    "huyện": ["huyện", "h.", "huyện ủy"],
    "quận": ["quận", "q.", "quận ủy"],
    "xã": ["xã", "đảng ủy xã"],
    "phường": ["phường", "p.", "đảng ủy phường"],
    "thị trấn": ["thị trấn", "tt", "tt."],
    "đặc khu": ["đặc khu"],
}
_TOKEN_RE = re.compile(r"\w+")
_UPPER = "".join(c for c in map(chr, range(0x41, 0x1EFA)) if c.isalpha() and c.isupper())
# A run of capitalised words (digits allowed after the first: "Quận 1"), "TP." style dots.
# A dash joins the parts of a name ("Phan Rang - Tháp Chàm", "Bà Rịa-Vũng Tàu").
RUN_RE = re.compile(rf"[{_UPPER}][\w]*(?:(?:\.?[ ]+|[ ]?[-–][ ]?)(?:[{_UPPER}][\w]*|\d+(?!\w)))*")
# Lower-case type words just before a run: "huyện Thọ Xuân", "đảng ủy xã Xuân Lai".
_TYPE_WORDS = frozenset("""huyện ủy|thành ủy|tỉnh ủy|thị ủy|quận ủy|đảng ủy xã|đảng ủy phường|thành phố|
thị xã|thị trấn|đặc khu|huyện|tỉnh|xã|phường|quận|tp|tp.|tx|tx.|tt|tt.|h.|q.|p.|huyen|tinh|xa|phuong|
quan|thanh pho|thi xa|thi tran""".replace("\n", "").split("|"))


def _type_before(low: str, rs: int) -> int:
    """Start of a type word right before position rs (one space between), else rs."""
    return rs - _type_len_before(low[max(0, rs - 18):rs])


# The last word of each type word: a name whose word before is none of these has no type word.
_TYPE_LAST_WORDS = frozenset(w.split()[-1] for w in _TYPE_WORDS)
_TYPE_LAST_CHARS = frozenset(w[-1] for w in _TYPE_WORDS)


@lru_cache(maxsize=8192)
def _type_len_before(head: str) -> int:
    """How many characters before the end of `head` a type word (plus its space) starts; 0 if none.
    Depends only on the 18 characters before a name, so it is cached across articles."""
    last = head.rsplit(None, 1)
    if not last or last[-1] not in _TYPE_LAST_WORDS:  # (most names: the type word's last word is not there)
        return 0
    ws = head.split()
    n = len(head)
    for k in (3, 2, 1):
        if len(ws) >= k:
            cand = " ".join(ws[-k:])
            if cand in _TYPE_WORDS and head.startswith(cand + " ", n - len(cand) - 1):
                return len(cand) + 1
    return 0


def _tokens(s: str) -> tuple[str, ...]:
    return tuple(_TOKEN_RE.findall(fold(s)))


def _parse_date(s: str) -> date | None:
    s = (s or "").strip()
    return date.fromisoformat(s) if s else None


class Gazetteer:
    def __init__(self, rows: list[dict]):
        self.units: list[Unit] = []
        self.by_id: dict[str, list[int]] = {}
        for r in rows:
            u = Unit(r["unit_id"], r["level"], r["type"], r["name"], r.get("parent_id") or None,
                     _parse_date(r.get("valid_from")), _parse_date(r.get("valid_to")),
                     r.get("successor_id") or None)
            self.by_id.setdefault(u.unit_id, []).append(len(self.units))
            self.units.append(u)
        self.index: dict[tuple[str, ...], tuple[set[int], bool]] = {}
        self.ascii_index: dict[tuple[str, ...], tuple[set[int], bool]] = {}
        bare: dict[tuple[str, ...], set[int]] = {}
        for i, (u, r) in enumerate(zip(self.units, rows)):
            name = _tokens(u.name)
            if not name:
                continue
            for p in _TYPE_PREFIXES.get(u.type, []):
                self._add(_tokens(p) + name, i, True)
            for a in (r.get("aliases") or "").split(";"):
                toks = _tokens(a)
                if toks and toks != name:
                    self._add(toks, i, True)
                elif toks == name and u.level != "commune":
                    bare.setdefault(name, set()).add(i)
            if u.level != "commune" and not name[0].isdigit():
                bare.setdefault(name, set()).add(i)
        for toks, ids in bare.items():
            # A bare name naming a province means the province ("Thanh Hóa" is the
            # province, "TP Thanh Hóa" the city).
            provs = {i for i in ids if self.units[i].level == "province"}
            for i in provs or ids:
                self._add(toks, i, False)
        self._run_cache: dict[str, tuple] = {}
        self.max_len: dict[str, int] = {}  # the first words of names (and the most words of one)
        for idx in (self.index, self.ascii_index):
            for toks in idx:
                self.max_len[toks[0]] = max(self.max_len.get(toks[0], 0), len(toks))
        # The token tuples that a longer name goes on from ("huyện", "huyện thọ"): a run's
        # longest name is found by reading on while the words so far are one of these.
        self.prefixes: frozenset[tuple[str, ...]] = frozenset(
            toks[:k] for idx in (self.index, self.ascii_index) for toks in idx for k in range(1, len(toks)))

    def _add(self, toks: tuple[str, ...], i: int, typed: bool) -> None:
        for idx, key in ((self.index, toks), (self.ascii_index, tuple(strip_diacritics(t) for t in toks))):
            if idx is self.ascii_index and key == toks and not all(t.isascii() for t in toks):
                continue
            ids, was_typed = idx.get(key, (set(), typed))
            if typed and not was_typed:
                ids = set()  # a typed alias outranks a bare name with the same tokens
            elif was_typed and not typed:
                continue
            ids.add(i)
            idx[key] = (ids, typed)

    # ------------------------------------------------------------------ matching
    def find_mentions(self, text: str, low: str, start: int = 0, end: int | None = None) -> list[Mention]:
        """Place-name mentions in text[start:end] (normalised text and its lower case)."""
        end = len(text) if end is None else end
        out: list[Mention] = []
        runs = self._run_cache
        type_len = _type_len_before
        new = tuple.__new__  # Mention(...) without the named tuple's Python-level __new__
        for rm in RUN_RE.finditer(text, start, end):
            rs, re_ = rm.span()
            # _type_before, inlined: a type word ends in a space, after one of a few letters
            if rs > 1 and low[rs - 1] == " " and low[rs - 2] in _TYPE_LAST_CHARS:
                rs -= type_len(low[rs - 18 if rs > 18 else 0:rs])
            key = low[rs:re_]
            found = runs.get(key)
            if found is None:
                # The mentions of a run depend only on its lower-cased text: cached across
                # articles (district names repeat), bounded in size.
                found = self._run_mentions(key)
                if len(runs) >= 65536:
                    runs.clear()
                runs[key] = found
            for a, b, ids, typed in found:
                out.append(new(Mention, (rs + a, rs + b, ids, typed)))
        return out

    def _run_mentions(self, run: str) -> tuple:
        """The names in a run (lower case), longest first from each word on: (start, end, unit
        indexes, typed) relative to the run. A token tuple that is no name in `index` is looked
        up in `ascii_index` when all its words are ASCII (text written without diacritics)."""
        index, ascii_index, prefixes, opening = self.index, self.ascii_index, self.prefixes, self.max_len
        if run.isalnum():  # one word (most runs): \w+ finds exactly the run
            if run not in opening:
                return ()
            key = (run,)
            found = index.get(key)
            if found is None and run.isascii():
                found = ascii_index.get(key)
            return () if found is None else ((0, len(run), tuple(sorted(found[0])), found[1]),)
        spans = [m.span() for m in _TOKEN_RE.finditer(run)]
        words = [run[a:b] for a, b in spans]
        n = len(words)
        out = []
        i = 0
        while i < n:
            if words[i] not in opening:  # no name opens on this word (most words)
                i += 1
                continue
            hit = None
            key: tuple[str, ...] = ()
            all_ascii = True
            j = i
            while j < n:  # read on while a longer name may follow; the longest hit wins
                w = words[j]
                key += (w,)
                all_ascii = all_ascii and w.isascii()
                j += 1
                found = index.get(key)
                if found is None and all_ascii:
                    found = ascii_index.get(key)
                if found is not None:
                    hit = (j, found)
                if key not in prefixes:
                    break
            if hit:
                j, (ids, typed) = hit
                out.append((spans[i][0], spans[j - 1][1], tuple(sorted(ids)), typed))
                i = j
            else:
                i += 1
        return tuple(out)

    # ---------------------------------------------------------------- resolution
    def pick(self, ids: tuple[int, ...], on: date | None, context: set[str] | None = None) -> Unit | None:
        """The one unit a mention means: valid at the date, inside the context units
        (the article's province/district) when that decides; None if still ambiguous."""
        if len(ids) == 1:  # one version of one unit: it, whatever the date and context
            return self.units[ids[0]]
        cands = [self.units[i] for i in ids]
        valid = [u for u in cands if u.valid_at(on)] or cands
        ids_ = {u.unit_id for u in valid}
        if len(ids_) > 1 and context:
            inside = {u.unit_id for u in valid if any(u.unit_id == c or u.unit_id.startswith(c + ".") for c in context)}
            if inside:
                ids_ = inside
        if len(ids_) != 1:
            return None
        uid = next(iter(ids_))
        return max((u for u in valid if u.unit_id == uid), key=lambda u: u.valid_from or date.min)

    def unit(self, unit_id: str, on: date | None = None) -> Unit | None:
        idx = self.by_id.get(unit_id)
        if not idx:
            return None
        return self.pick(tuple(idx), on)


def load_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


EXTRA_ALIASES_PATH = Path(__file__).with_name("extra_aliases.csv")


def with_extra_aliases(rows: list[dict], path: Path = EXTRA_ALIASES_PATH) -> list[dict]:
    """The gazetteer rows with the press's own names of units added to their aliases."""
    extra: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(line for line in f if not line.startswith("#")):
            extra.setdefault(r["unit_id"].strip(), []).append(r["alias"].strip())
    out = []
    for r in rows:
        more = extra.get(r["unit_id"])
        if more:
            r = {**r, "aliases": ";".join(filter(None, [r.get("aliases") or "", *more]))}
        out.append(r)
    return out


@lru_cache(maxsize=1)
def default_gazetteer() -> Gazetteer:
    """The gazetteer seed that `qpan gazetteer build` writes (QPAN_GAZETTEER_SEED: another built
    seed, e.g. one built from a newer package to try before committing it) and the extra aliases;
    its index is kept compiled in `.qpan/cache/` (rebuilt when either CSV or this code changes:
    ~0.6 s saved per process)."""
    from qpan.core import settings
    from qpan.core.compiled_cache import load_or_build
    from qpan.core.config import REPO_ROOT

    csv_path = Path(settings.get("QPAN_GAZETTEER_SEED") or REPO_ROOT / "dbt_project" / "seeds" / "admin_units.csv")
    inputs = (csv_path, EXTRA_ALIASES_PATH, Path(__file__), Path(__file__).with_name("normalize.py"))
    return load_or_build("gazetteer", inputs, lambda: Gazetteer(with_extra_aliases(load_rows(csv_path))))

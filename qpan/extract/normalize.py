"""Text normalisation that keeps a map back to the caller's original string.

Vietnamese text arrives in NFC or NFD and with old ("hoà", "thuỷ") or new ("hòa",
"thủy") tone placement. Rules and the gazetteer are written against one form, so the
text is normalised first; evidence spans must still point into the ORIGINAL string,
hence `Normalized.orig_span`.

The common case (already NFC, no invisible characters) is handled without building
a per-character map: tone re-placement and space folding are length-preserving.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

# Characters that carry no meaning and are deleted (soft hyphen, zero-width, BOM).
_DELETE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DELETE_RE = re.compile(f"[{_DELETE}]")
# Space-like characters folded to one ASCII space (length-preserving).
_SPACE_CHARS = "\u00a0\u2007\u202f\u2009\u200a\u3000\t\x0b\x0c"
_SPACE_RE = re.compile(f"[{_SPACE_CHARS}]")
_CLUSTER_RE = re.compile(r"(?s).[\u0300-\u036f]*")

# Tone placement: in an open syllable ending in "oa", "oe" or "uy" the old style puts
# the tone on the last vowel ("hoà", "khoẻ", "thuỷ"); we move it to the first ("hòa",
# "khỏe", "thủy"), the form the gazetteer uses. "qu" + "y" keeps the tone on y ("quý").
_TONES = {
    "\u0300": "grave", "\u0301": "acute", "\u0309": "hook", "\u0303": "tilde", "\u0323": "dot",
}


def _toned(base: str) -> dict[str, tuple[str, str]]:
    """Map each toned form of `base` to (tone mark, base)."""
    return {unicodedata.normalize("NFC", base + m): (m, base) for m in _TONES}


_SECOND = {}
for _b in ("a", "e", "y", "A", "E", "Y"):
    _SECOND.update(_toned(_b))
_FIRST_OK = {"a": "oO", "e": "oO", "y": "uU", "A": "oO", "E": "oO", "Y": "uU"}
# The toned a/e and y that follow o or u in an old-style placement.
_SECOND_AE = "".join(c for c, (_m, b) in _SECOND.items() if b in "aeAE")
_SECOND_Y = "".join(c for c, (_m, b) in _SECOND.items() if b in "yY")
# Only the placements _move_tone changes: o + a/e, u + y, not after q ("quả", "quý": most Vietnamese
# text has these, and its tones need no move). A placement left alone never overlaps one that
# moves (its second letter is no o or u), so substituting these gives the text that substituting
# every o/u + toned letter and moving only these gave. (Opening on one ASCII character class, the
# regex engine jumps from o/u to o/u.)
_TONE_RE = re.compile(rf"([oOuU])(?<![qQ].)(?:(?<=[oO])([{_SECOND_AE}])|(?<=[uU])([{_SECOND_Y}]))(?![^\W\d_])")


def _move_tone(m: re.Match) -> str:
    first, second = m.group(1), m.group(2) or m.group(3)
    mark, base = _SECOND[second]
    return unicodedata.normalize("NFC", first + mark) + base


def unify_tones(s: str) -> str:
    """Old-style tone placement to the gazetteer's style; length-preserving on NFC text."""
    return _TONE_RE.sub(_move_tone, s)


def _lower(s: str) -> str:
    low = s.lower()
    if len(low) == len(s):
        return low
    # A few code points (e.g. "İ") lower to two characters: keep lengths aligned.
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


@dataclass(frozen=True)
class Normalized:
    original: str
    text: str   # NFC, tones unified, invisible characters removed, spaces folded
    lower: str  # `text` lower-cased, same length as `text`
    _starts: list[int] | None  # original start of each normalised char (None: identity)
    _ends: list[int] | None

    def orig_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of `text` back to the original string."""
        if self._starts is None:
            return start, end
        if end <= start:
            o = self._starts[start] if start < len(self._starts) else len(self.original)
            return o, o
        return self._starts[start], self._ends[end - 1]


def normalize(original: str) -> Normalized:
    # Characters to fold or delete are rare: looked for one by one with str's own search (a
    # regex class of them costs several times more per character scanned).
    s = _SPACE_RE.sub(" ", original) if any(c in original for c in _SPACE_CHARS) else original
    if not any(c in s for c in _DELETE) and unicodedata.is_normalized("NFC", s):
        # the common case: no offset map (tone moves and space folding keep lengths)
        text = unify_tones(s)
        return Normalized(original, text, _lower(text), None, None)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _CLUSTER_RE.finditer(s):
        chunk = m.group(0)
        if chunk[0] in _DELETE:
            continue
        nfc = unicodedata.normalize("NFC", chunk)
        for ch in nfc:
            out.append(ch)
            starts.append(m.start())
            ends.append(m.end())
    text = unify_tones("".join(out))
    return Normalized(original, text, _lower(text), starts, ends)


def fold(s: str) -> str:
    """Key form for dictionary look-ups: normalised, lower-case."""
    return normalize(s).lower




# The combining marks deleted and đ/Đ replaced in one str.translate (a regex sub per call cost
# more than the rest of the work when the source index strips every gazetteer name).
_STRIP_TABLE = {c: None for c in range(0x300, 0x370)} | {ord("đ"): "d", ord("Đ"): "D"}


def strip_diacritics(s: str) -> str:
    """'Thọ Xuân' -> 'Tho Xuan' (đ -> d), for text written without diacritics."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", s).translate(_STRIP_TABLE))


# ---------------------------------------------------------------- sentences

class Sentence(NamedTuple):
    """A sentence (a named tuple: built by the thousand, it has to be cheap)."""
    start: int  # offsets into the normalised text
    end: int
    para: int   # paragraph index
    first_in_para: bool


# Tokens that end with "." without ending a sentence.
_ABBREV = {
    "tp", "tx", "h", "tt", "p", "q", "x", "đ/c", "đc", "ths", "ts", "pgs", "gs", "bs",
    "ks", "th.s", "ths.", "st", "tr", "v.v", "vd", "ông", "bà", "mr", "dr", "no", "sđd", "tph",
}
_BOUNDARY_RE = re.compile(r"[.!?…]+[\"”’)]*(?:/\.)?(?=\s+|$)|;\s*(?=\n)")
_PARA_RE = re.compile(r"[^\n]+")
# The sentence ends of _BOUNDARY_RE as split_sentences finds them line by line, found in one
# scan of the whole text: a mark never spans white space, so no match crosses a line end,
# and at a line's (trimmed) end the text goes on with white space or stops, which the
# look-ahead accepts either way. (The ";" + newline alternative cannot match inside a line.)
# Opening on a character class lets the engine jump from mark to mark.
_END_RE = re.compile(r"[.!?…][.!?…]*[\"”’)]*(?:/\.)?(?=\s|$)")


def split_sentences(text: str) -> list[Sentence]:
    """Paragraphs are lines; inside a line, split after . ! ? … unless the dot closes
    an abbreviation ("TP.", "H.", "đ/c.") or is followed by a lower-case word.
    Caption lines (no final punctuation) stay one sentence each."""
    out: list[Sentence] = []
    append = out.append
    new = tuple.__new__  # Sentence(...) without the Python-level __new__ of a named tuple
    ends = [m.span() for m in _END_RE.finditer(text)]
    nb = len(ends)
    k = 0
    pi = -1
    line_start = 0
    for line in text.split("\n"):  # the lines _PARA_RE finds: the non-empty ones
        p0 = line_start
        line_start += len(line) + 1
        if not line:
            continue
        pi += 1
        # trim surrounding spaces (most lines have none: no copies then)
        p1 = p0 + (len(line.rstrip()) if line[-1].isspace() else len(line))
        if line[0].isspace():
            p0 += len(line) - len(line.lstrip())
        if p0 >= p1:
            continue
        while k < nb and ends[k][0] < p0:
            k += 1
        if k == nb or ends[k][0] >= p1:  # no sentence end inside: one sentence
            append(new(Sentence, (p0, p1, pi, True)))
            continue
        seg_start = p0
        first = True
        while k < nb and ends[k][0] < p1:
            bs, cut = ends[k]
            k += 1
            if text[bs] == ".":
                ws = text[seg_start if seg_start > bs - 8 else bs - 8:bs].split()
                if ws and ws[-1].lower().rstrip(".") in _ABBREV:
                    continue
                nxt = cut
                while nxt < p1 and text[nxt].isspace():
                    nxt += 1
                if nxt < p1 and text[nxt].islower():
                    continue
            if cut - seg_start > 1:
                append(new(Sentence, (seg_start, cut, pi, first)))
                first = False
            seg_start = cut
            while seg_start < p1 and text[seg_start].isspace():
                seg_start += 1
        if seg_start < p1:
            append(new(Sentence, (seg_start, p1, pi, first)))
    return out

"""Bare type words that stand for a unit: "toàn tỉnh", "huyện đã giao", "thành phố có".

Vietnamese reports name their unit once (in the title, the lead, or only in the publisher's
name) and then say "tỉnh", "huyện", "thành phố", "xã" for it. Such a word, not followed by
a name, refers to the unit of that type the article is about: the most salient unit of the
type among those it names, else the one implied by the subject or the source (the province
of a district, the district of a commune).
"""
from __future__ import annotations

import re
from datetime import date

from .gazetteer import Gazetteer, Unit

# Longest first: "thị xã" before "xã", "thành phố" before nothing else.
_TYPE_WORD_RE = re.compile(
    r"(?<!\w)(thành phố|thị xã|thị trấn|tỉnh|huyện|quận|xã|phường)(?!\w)(?! hội)(?! viên)(?! đội)")
# Words before a type word that make it a level or a plural, not a reference to one unit:
# "các xã", "cấp huyện", "liên tỉnh", "3 xã", "ngoài tỉnh".
_NOT_REFERENCE_BEFORE = re.compile(
    r"(?:các|những|mỗi|nhiều|cấp|liên|ngoài|ngoại|mọi|từng|giữa|hai|ba|bốn|năm|\d+)\s+"
    r"(?:(?:tỉnh|huyện|xã|phường|thị trấn|thành phố|thị xã|quận)(?:\s*,\s*|\s+và\s+))*$")

# A name (or a bare type word) after these is a place or a body named in passing, not the
# subject of the clause ("của Chủ tịch UBND tỉnh An Giang", "tại xã X", "của Huyện ủy, UBND huyện").
SUBJECT_BLOCK_BEFORE_RE = re.compile(
    r"(?:(?<!\w)và|(?<!\w)(?:của|thuộc|tại|ở|với|cho|đến|về|như|sang)"
    r"(?:[\s,]+(?:chủ tịch|ubnd|ủy ban nhân dân|hđnd|công an|bộ chqs|ban chqs|bộ chỉ huy quân sự|ban chỉ huy quân sự|"
    r"hội đồng nvqs|hội đồng nghĩa vụ quân sự|huyện ủy|tỉnh ủy|thành ủy|ban thường vụ|đảng ủy|mttq|ủy ban mttq|"
    r"huyện|tỉnh|xã|thành phố|thị xã|phường|quận))*)[\s,]*$")

_TYPES = {
    "tỉnh": ("province", ("tỉnh",)),
    "thành phố": ("city", ("thành phố", "thành phố trực thuộc trung ương")),
    "huyện": ("district", ("huyện",)),
    "thị xã": ("district", ("thị xã",)),
    "quận": ("district", ("quận",)),
    "xã": ("commune", ("xã",)),
    "phường": ("commune", ("phường",)),
    "thị trấn": ("commune", ("thị trấn",)),
}


def find_reference(text: str, low: str, start: int, end: int, blocked: bool = True) -> tuple[int, str] | None:
    """The last bare type word in low[start:end] (position, word), not followed by a name
    (a capitalised word: "huyện Thọ Xuân" is a name, handled by the gazetteer)."""
    found = None
    for m in _TYPE_WORD_RE.finditer(low, start, end):
        after = m.end()
        if after + 1 < len(text) and text[after] == " " and text[after + 1].isupper():
            continue  # "huyện Nga Sơn": a name
        if _NOT_REFERENCE_BEFORE.search(low, max(0, m.start() - 40), m.start()):
            continue
        if blocked and SUBJECT_BLOCK_BEFORE_RE.search(low, max(start, m.start() - 48), m.start()):
            continue
        found = (m.start(), m.group(1))
    return found


class References:
    """The bare type words of one sentence, found once; whether each one refers to a unit (not a
    name, a plural or a level: see find_reference) is worked out only when a figure asks."""
    __slots__ = ("text", "low", "start", "found", "checked")

    def __init__(self, text: str, low: str, start: int, end: int):
        self.text, self.low, self.start = text, low, start
        self.found = [(m.start(), m.end(), m.group(1)) for m in _TYPE_WORD_RE.finditer(low, start, end)]
        self.checked: dict[int, bool] = {}

    def _refers(self, a: int, b: int) -> bool:
        ok = self.checked.get(a)
        if ok is None:
            text, low = self.text, self.low
            ok = not (b + 1 < len(text) and text[b] == " " and text[b + 1].isupper()) \
                and _NOT_REFERENCE_BEFORE.search(low, max(0, a - 40), a) is None \
                and SUBJECT_BLOCK_BEFORE_RE.search(low, max(self.start, a - 48), a) is None
            self.checked[a] = ok
        return ok

    def last(self, start: int, end: int) -> tuple[int, str] | None:
        """find_reference over low[start:end], from the words found once."""
        for a, b, word in reversed(self.found):
            if start <= a < end and self._refers(a, b):
                return a, word
        return None


def resolve(word: str, salient: list[Unit], gaz: Gazetteer, on: date | None) -> Unit | None:
    """The unit a bare type word stands for, given the article's units (most salient first)."""
    level, types = _TYPES[word]
    if level == "city":
        for u in salient:
            if u.type in types:
                return u
        return None
    for u in salient:
        if u.level == level and u.type in types:
            return u
    # implied by a more specific unit: the province (or district) above the subject
    for u in salient:
        if level == "province":
            return gaz.unit(u.province_id, on) or gaz.unit(u.province_id)
        if level == "district" and u.level == "commune" and u.parent_id and u.parent_id != u.province_id:
            p = gaz.unit(u.parent_id, on) or gaz.unit(u.parent_id)
            if p is not None and p.type in types:
                return p
    return None

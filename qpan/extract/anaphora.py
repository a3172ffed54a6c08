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


def references(text: str, low: str, start: int, end: int) -> list[tuple[int, str, bool]]:
    """Every bare type word of low[start:end] that refers to a unit: (position, word, blocked),
    blocked when it follows "của", "tại"... (see find_reference). Computed once per sentence."""
    out = []
    for m in _TYPE_WORD_RE.finditer(low, start, end):
        after = m.end()
        if after + 1 < len(text) and text[after] == " " and text[after + 1].isupper():
            continue
        if _NOT_REFERENCE_BEFORE.search(low, max(0, m.start() - 40), m.start()):
            continue
        out.append((m.start(), m.group(1),
                    SUBJECT_BLOCK_BEFORE_RE.search(low, max(start, m.start() - 48), m.start()) is not None))
    return out


def last_reference(refs: list[tuple[int, str, bool]], start: int, end: int) -> tuple[int, str] | None:
    """find_reference over a sentence's precomputed references."""
    for pos, word, blocked in reversed(refs):
        if start <= pos < end and not blocked:
            return pos, word
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

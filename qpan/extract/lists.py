"""Lists and breakdowns: which figures of a sentence are the parts of a total, and how an item of
a list of figures by unit ("thành phố A 155 chỉ tiêu, thị xã B 35 chỉ tiêu") gets its rule."""
from __future__ import annotations

import re

from .attribution import listed_unit
from .document import Doc
from .matching import match_number

# After a total, what follows these is its parts, whatever they count.
# ("54 đơn vị hành chính cấp xã, gồm 22 xã, 30 phường": "gồm" with or without a colon)
PARTS_AFTER_RE = re.compile(r"trong đó|trong số đó|(?<!\w)gồm(?!\w)|cụ thể\s*:")
# A sentence that opens on "Trong đó" breaks down the figure of the sentence before it.
PART_OPENING_RE = re.compile(r"\W*(?:trong đó|trong số đó)(?!\w)")
# A list of parts: "các đơn vị nhận quân gồm: Sư đoàn 324 là 86 tân binh; ..."
LIST_OPENING_RE = re.compile(r"gồm\s*:")
# A figure with its share of the total after it is a part: "thành thị 1.172 vụ (52,2%)".
SHARE_AFTER_RE = re.compile(r"\s*\(\s*(?:chiếm\s+)?\d+(?:,\d+)?\s?%\s*\)")
# A sentence that details the one before it: "Cụ thể: huyện A 50 thanh niên, huyện B 40 thanh niên".
ITEMS_OPENING_RE = re.compile(r"\W*(?:cụ thể|trong đó|trong số đó|bao gồm|gồm)(?!\w)")
# After a figure of a list by unit, what leads to the next item: "132, huyện B 26", "132 và B 26".
_NEXT_ITEM_RE = re.compile(r"\s*(?:,|;|và(?!\w))")
_MAX_LIST_ITEMS = 60


def list_sibling(doc: Doc, rules, nums: list, k: int, s, cs: int, ce: int, sib: tuple | None):
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


def names_itself(low: str, r, cs: int, start: int) -> bool:
    """An item of a list after "gồm:" that names its own indicator before its figure ("lực lượng
    ... gồm: bảo vệ dân phố 58 người; dân phòng 214 người") is a figure of its own, not a part of a
    total (as "các đơn vị nhận quân gồm: Sư đoàn 324 là 86 tân binh" is)."""
    a = cs
    for m in _ITEM_START_RE.finditer(low, cs, start):
        a = m.end()
    return any(rx is not None and rx.search(low, a, start) is not None for rx in (r.left_near, r.left))

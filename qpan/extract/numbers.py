"""Figures in Vietnamese text: "7.173", "4,6 tỷ đồng", "93,3%", "172/311", "hơn 1.000",
"hai mươi lăm". Works on the lower-cased normalised text (see normalize.py).

`find_numbers` returns only candidate figures: document numbers ("44-KL/TW"), named
bodies ("Ban Chỉ đạo 138", "Sư đoàn 324"), dates ("21/5/2019", "Sáng 6-1"), years and
plan periods ("giai đoạn 2021 - 2025"), ordinal ranks ("thứ 7") and clock times are
dropped here, so downstream rules never see them.
"""
from __future__ import annotations

import re
from typing import NamedTuple

_DIGITS = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_MULT = {"nghìn": 10**3, "ngàn": 10**3, "triệu": 10**6, "tỷ": 10**9, "tỉ": 10**9}
_NUMBER_WORDS = {
    "một": 1, "mốt": 1, "hai": 2, "ba": 3, "bốn": 4, "tư": 4, "năm": 5, "lăm": 5,
    "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9,
}
_WORD_ALT = "mười|mươi|trăm|linh|lẻ|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))

# Digits first, so the regex engine can skip ahead to digits; what comes before a match
# is checked in Python (a look-behind in front would make the scan several times slower).
# The figure is spelt with one leading `\d` outside the alternation (the same language as
# _DIGITS, tried in the same order): a pattern that opens on a character class lets the
# regex engine jump from digit to digit instead of trying every position (~2.5x faster).
_DIGITS_SCAN = r"\d(?:\d{0,2}(?:\.\d{3})+(?:,\d+)?|\d*(?:,\d+)?)"
# A bare year ("2023": 19xx/20xx, not followed by a digit, "/" or ",digit") is no figure: the
# look-ahead after the first digit turns it down inside the regex engine. (The figure
# find_numbers would get there, num = the four digits and no denominator, is the one it drops
# as a year; a match turned down here would not have started a figure anyway, and what the
# scan meets next, up to where that match would have ended, is glued to a digit.)
_NOT_YEAR = r"(?!(?<=1)9\d\d(?![\d/]|,\d)|(?<=2)0\d\d(?![\d/]|,\d))"
# A figure glued to the token on its left ("A1", "21/5/2019", "-19": see _glued) is turned down
# there too, by a look-behind after the first digit: find_numbers would drop the match, and
# every digit the scan meets inside it is glued as well, so no figure is lost; the scan then
# no longer stops at each digit of a rejected year or date.
_NOT_GLUED = r"(?<![\w.,/%:–-]\d)"
_NUM_RE = re.compile(
    rf"""
    (?P<num>\d{_NOT_GLUED}{_NOT_YEAR}{_DIGITS_SCAN[2:]})
    (?:/(?P<den>{_DIGITS})(?![/\d]))?
    (?P<pct>\s?%)?
    (?:\s+(?P<mult>nghìn|ngàn|triệu|tỷ|tỉ)(?!\w))?
    (?![\w/:])
    """,
    re.X,
)
# A lone word counts only if it is clearly a number word ("năm" alone is "year", "tư" alone
# is "private"...): the regex asks for two or more words, or one unambiguous word, so the
# common lone "năm" never comes back to Python as a match.
# "một" alone is the indefinite article far more often than a count ("một người thanh niên").
_AMBIGUOUS_ALONE = ("năm", "tư", "lăm", "mốt", "mươi", "trăm", "linh", "lẻ", "một")
_WORD_ALONE_ALT = "|".join(w for w in _WORD_ALT.split("|") if w not in _AMBIGUOUS_ALONE)


def _by_first_letter(alts: list[tuple[str, str]]) -> str:
    """(word, regex) alternatives as one alternation grouped by the word's first letter,
    keeping their order inside a group: "m(?:ười...|ột...)|t(?:răm...|ám...)". Alternatives
    that open on different letters never both match at one position, so this matches
    exactly what the flat alternation matches; the engine tests one letter per group
    instead of every alternative, and every group opens on a literal, so the scan only
    stops at those letters."""
    groups: dict[str, list[str]] = {}
    for w, rx in alts:
        groups.setdefault(w[0], []).append(rx[len(w[0]):])
    return "|".join(f"{c}(?:{'|'.join(rest)})" for c, rest in groups.items())


_WORD_GROUPED = _by_first_letter([(w, w) for w in _WORD_ALT.split("|")])
# The same matches, tried in the same order, as
# `(?:W)(?:\s+(?:W))+(?!\w)|(?:A)(?!\w)` (W: all words, A: the unambiguous ones): one
# alternative per first word (alternation distributes over what follows it), then grouped
# by first letter (see _by_first_letter).
_WORDS_RE = re.compile(
    "(?P<words>"
    + _by_first_letter([(w, rf"{w}(?:\s+(?:{_WORD_GROUPED}))+(?!\w)") for w in _WORD_ALT.split("|")]
                       + [(w, rf"{w}(?!\w)") for w in _WORD_ALONE_ALT.split("|")])
    + r")(?:\s+(?P<wmult>nghìn|ngàn|triệu|tỷ|tỉ)(?!\w))?"
)
_GLUED_BEFORE = frozenset(".,/%:–-")
_MONEY_RE = re.compile(r"\s*(?:đồng(?!\s+chí)|đ|vnđ|vnd)(?!\w)")  # "đồng chí" is "comrade"
# A document or unit code glued to the number: "44-kl/tw", "137-qđ/tu", "09-ct/tw".
_CODE_AFTER_RE = re.compile(r"[-/–][^\W\d_]")
# A date or range continues after the number: "6-1", "21/5", "2021-2025", "2021 - 2025".
_RANGE_AFTER_RE = re.compile(r"\s*[-–]\s*\d")
_TIME_AFTER_RE = re.compile(r"\s*(?:giờ|h\d|g\d|phút)(?!\w)")

# Words right before a number that make it a name, a code, a date or a rank. Checked
# as the last one or two words before the figure (a set look-up, not a regex scan).
_NOT_FIGURE_WORDS = frozenset("""
số thứ hạng khóa khoá đoàn quốc lộ ql km điều khoản chương mục ngày sáng chiều tối trưa
đêm hôm tháng quý lúc năm covid luật tổ khu xóm thôn bản lô vòng phiên lần mẫu mã cấp
phòng đội cụm từ kt-qp ktqp kt-qp: loại (khóa (khoá
""".split())
_NOT_FIGURE_PAIRS = frozenset(p.strip() for p in """
quân khu|quân đoàn|đại đội|tỉnh lộ|nhiệm kỳ|giai đoạn|quyết định|nghị định|
nghị quyết|thông tư|chỉ thị|kết luận|quy định|công văn|đề án|chương trình|tờ trình|
báo cáo|hướng dẫn|kế hoạch|đến năm|đối tượng|tiểu đoàn|trung đoàn|lữ đoàn|sư đoàn|hải đoàn|binh đoàn
""".split("|"))
# A force named before its figure ("dân phòng 85 người"), not a room or an office number.
_FORCE_NAMES = frozenset(["dân phòng"])
_COMPARATOR_WORDS = {
    "khoảng": "~", "chừng": "~", "gần": "~", "ước": "~", "tầm": "~", "xấp xỉ": "~",
    "trên dưới": "~", "ước tính": "~",
    "hơn": ">", "trên": ">", "ngoài": ">", "ít nhất": ">", "tối thiểu": ">", "hàng": ">",
    "dưới": "<", "chưa đến": "<", "chưa tới": "<", "chưa đầy": "<", "không quá": "<", "tối đa": "<",
}


# Named bodies whose last words are also ordinary verbs ("Ban Chỉ đạo 138" vs "chỉ đạo 4 xã").
_NOT_FIGURE_TRIPLES = frozenset(["ban chỉ đạo", "ban chỉ huy"])


# The last words of the pairs and triples: only a figure after one of them needs the look-up.
_PAIR_LAST = frozenset(p.rsplit(" ", 1)[-1] for p in _NOT_FIGURE_PAIRS)
_TRIPLE_LAST = frozenset(p.rsplit(" ", 1)[-1] for p in _NOT_FIGURE_TRIPLES)


def _not_figure(text: str, pos: int) -> bool:
    # the last three words are all that is read (rsplit: the same words as split() at the end)
    ws = text[pos - 30 if pos > 30 else 0:pos].rstrip(" .:").rsplit(None, 3)
    if not ws:
        return False
    w1 = ws[-1]
    if w1 == "số":  # "số 6" is a label; "tổng số 85", "con số 85", "quân số 60" (a head count) are figures
        if len(ws) == 1:
            return True
        if ws[-2] == "quân":  # "quân số 60 đồng chí"; "điểm giao nhận quân số 6" is a label
            return len(ws) > 2 and ws[-3] in ("nhận", "giao", "nhận,", "giao,")
        return ws[-2] not in ("tổng", "con")
    if w1 in _NOT_FIGURE_WORDS and not (len(ws) > 1 and f"{ws[-2]} {w1}" in _FORCE_NAMES):
        return True
    if w1 in _PAIR_LAST and f"{ws[-2] if len(ws) > 1 else ''} {w1}" in _NOT_FIGURE_PAIRS:
        return True
    return w1 in _TRIPLE_LAST and len(ws) > 2 and " ".join(ws[-3:]) in _NOT_FIGURE_TRIPLES


_YEAR_RE = re.compile(r"(?:19|20)\d\d")


class NumberMention(NamedTuple):
    """A candidate figure (a named tuple: there is one per figure of every article)."""
    start: int        # span of the figure in the text (comparator word excluded)
    end: int
    value: int | float
    comparator: str   # "=", ">", "<", "~"
    kind: str         # "count", "percent", "money", "ratio"
    denominator: int | float | None = None
    words: bool = False  # written in words ("hai mươi lăm")


def _as_number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def parse_digits(s: str) -> int | float | None:
    """'7.173' -> 7173, '4,6' -> 4.6, '04' -> 4, '1.000,5' -> 1000.5. None if not a number."""
    s = s.strip()
    if not re.fullmatch(_DIGITS, s):
        return None
    whole, _, frac = s.partition(",")
    whole = whole.replace(".", "")
    return _as_number(float(f"{int(whole)}.{frac}" if frac else int(whole)))


def words_to_int(words: list[str]) -> int | None:
    """'hai mươi lăm' -> 25, 'một trăm' -> 100, 'ba trăm linh năm' -> 305."""
    total, block, last = 0, 0, None
    for w in words:
        if w in _NUMBER_WORDS:
            d = _NUMBER_WORDS[w]
            block += d
            last = d
        elif w == "mười":
            block += 10
            last = None
        elif w == "mươi":
            if last is None:
                return None
            block += last * 9
            last = None
        elif w == "trăm":
            if last is None:
                return None
            block += last * 99
            last = None
        elif w in ("linh", "lẻ"):
            last = None
        elif w in ("nghìn", "ngàn"):
            total += (block or 1) * 1000
            block, last = 0, None
        else:
            return None
    value = total + block
    return value if value > 0 else None


def parse_number(s: str) -> int | float | None:
    """Parse one figure as written: '4,6 tỷ' -> 4600000000, '93,3%' -> 93.3,
    'hai mươi lăm' -> 25. None when the string is not a single figure."""
    try:
        low = s.strip().lower()
        mults = 1
        parts = low.split()
        if len(parts) > 1 and parts[-1] in _MULT:
            mults = _MULT[parts[-1]]
            low = " ".join(parts[:-1])
        low = low.rstrip("%").strip()
        v = parse_digits(low)
        if v is None:
            v = words_to_int(low.split()) if low else None
        return None if v is None else _as_number(v * mults)
    except (ValueError, OverflowError):
        return None


def _comparator(text: str, start: int) -> str:
    ws = text[start - 14 if start > 14 else 0:start].rsplit(None, 2)  # the last two words
    if len(ws) >= 2 and f"{ws[-2]} {ws[-1]}" in _COMPARATOR_WORDS:
        return _COMPARATOR_WORDS[f"{ws[-2]} {ws[-1]}"]
    return _COMPARATOR_WORDS.get(ws[-1], "=") if ws and text[start - 1] == " " else "="


def _glued(text: str, s: int) -> bool:
    """The match continues a token on its left ("A1", "21/5/2019", "-19")."""
    if s == 0:
        return False
    c = text[s - 1]
    return c.isalnum() or c == "_" or c in _GLUED_BEFORE


# One match for the three "not a figure after all" continuations above (same strings).
_NOT_AFTER_RE = re.compile(rf"{_CODE_AFTER_RE.pattern}|{_RANGE_AFTER_RE.pattern}|{_TIME_AFTER_RE.pattern}")
_YEAR_HEADS = frozenset(("19", "20"))
# A ratio above 1 followed by people is more handed over than asked ("6/5 công dân, đạt 120%").
_OVER_QUOTA_RE = re.compile(r"\s+(?:công dân|thanh niên|tân binh|chiến sĩ mới|người)(?!\w)")
_AMBIGUOUS_ALONE_SET = frozenset(_AMBIGUOUS_ALONE)


def find_numbers(text: str, start: int = 0, end: int | None = None) -> list[NumberMention]:
    """Candidate figures in lower-cased normalised `text[start:end]`, in text order."""
    end = len(text) if end is None else end
    out: list[NumberMention] = []
    append = out.append
    not_after = _NOT_AFTER_RE.match
    money = _MONEY_RE.match
    new = tuple.__new__  # NumberMention(...) without the named tuple's Python-level __new__
    for m in _NUM_RE.finditer(text, start, end):
        num, den_s, pct, mult = m.groups()
        # A bare year ("2023") is a date, not a figure (the regex already turns most down).
        if den_s is None and len(num) == 4 and num[:2] in _YEAR_HEADS and "," not in num:
            continue
        s = m.start()  # (not glued to a token on its left: the regex saw to that, see _NOT_GLUED)
        if _not_figure(text, s):
            continue
        e = m.end()
        if not_after(text[e:e + 6]):
            continue
        whole, _, frac = num.partition(",")  # the regex guarantees the shape
        if len(whole) > 40:  # a run of thousands of digits is no figure (and int() refuses > 4300 digits)
            continue
        value = _as_number(float(f"{whole.replace('.', '')}.{frac}")) if frac else int(whole.replace(".", ""))
        kind = "count"
        den = None
        if den_s:
            den = parse_digits(den_s)
            if den is None or den == 0 or (value > den and not _OVER_QUOTA_RE.match(text, e)):
                continue  # "21/5" style day/month, or nonsense (not "giao quân 6/5 công dân": over the quota)
            kind = "ratio"
        if pct:
            kind = "percent"
        if mult:
            value = _as_number(value * _MULT[mult])
        if money(text, e):
            kind = "money"
        append(new(NumberMention, (s, e, value, _comparator(text, s), kind, den, False)))
    words = []
    for m in _WORDS_RE.finditer(text, start, end):
        s = m.start()
        if s > 0 and (text[s - 1].isalnum() or text[s - 1] == "_"):
            continue
        e = m.end()
        ws = m.group("words").split()
        # "năm" alone is the word "year", "tư" alone is "private"...: a lone word
        # counts only if it is clearly a number word.
        if len(ws) == 1 and ws[0] in _AMBIGUOUS_ALONE_SET:
            continue
        if _not_figure(text, s):
            continue
        v = words_to_int(ws)
        if v is None:
            continue
        mult = m.group("wmult")
        value = v * _MULT[mult] if mult else v
        kind = "money" if mult and money(text, e) else "count"
        words.append(new(NumberMention, (s, e, value, _comparator(text, s), kind, None, True)))
    if words:
        out = sorted(out + words, key=lambda n: n.start)
    return out

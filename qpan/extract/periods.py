"""Dates and periods: when an article was published, which year a figure describes.

All functions take the lower-cased normalised text (see normalize.py) and never raise
on odd input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PubDate:
    year: int
    month: int | None = None
    day: int | None = None

    def as_date(self) -> date:
        return date(self.year, self.month or 12, self.day or (28 if self.month else 31))


def _valid(y: int, m: int | None = None, d: int | None = None) -> bool:
    if not 1990 <= y <= 2100:
        return False
    if m is not None and not 1 <= m <= 12:
        return False
    if d is not None:
        try:
            date(y, m or 1, d)
        except ValueError:
            return False
    return True


# Only the head of a page carries its date line; deeper dates belong to documents
# cited in the body ("Quy định số 11-Qđi/TW ngày 21/5/2019").
_HEAD_CHARS = 1500
# The patterns that open on a digit or a word boundary are spelt so that they open on the
# digit or the word itself (the look-behind moved after it: "(?<![\d/])\d" is written
# "\d(?<![\d/]\d)"; "\d{1,2}" is "\d\d?"): the same matches, but the regex engine can then
# jump between digits instead of trying every position of the page head.
_PUB_PATTERNS = [
    # "Đăng lúc: 15:50:13 18/12/2020 (GMT+7)", "Đăng lúc: 23/11/2022 (GMT+7)"
    re.compile(r"(?:đăng lúc|ngày đăng|cập nhật|đăng ngày|ngày xuất bản)\s*:?\s*(?:\d{1,2}:\d{2}(?::\d{2})?\s*,?\s*)?"
               r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"),
    # "Thứ ba, 14/03/2023 15:55", "Chủ nhật, 5/12/2023 - 10:20"
    re.compile(r"(?:thứ\s+(?:hai|ba|tư|năm|sáu|bảy|2|3|4|5|6|7)|chủ nhật)\s*,?\s*(?:ngày\s+)?"
               r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})"),
    # "14/03/2023 15:55", "14/03/2023 - 15:55"
    re.compile(r"(?P<d>\d(?<![\d/]\d)\d?)/(?P<m>\d{1,2})/(?P<y>\d{4})\s*[-|,]?\s*\d{1,2}:\d{2}"),
    # "15:55 14/03/2023"
    re.compile(r"\d\d?:\d{2}(?::\d{2})?\s*[-|,]?\s*(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),
    # ISO "2023-12-05"
    re.compile(r"(?P<y>\d(?<![\d-]\d)\d{3})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])"),
    # "date 2023-01" (a date widget with year and month only)
    re.compile(r"date(?<!\wdate)\s+(?P<y>\d{4})-(?P<m>\d{1,2})(?![\d-])"),
]


# Literal substrings one of which each pattern needs: skip patterns that cannot match.
_PUB_REQUIRES = [("đăng", "cập nhật", "xuất bản"), ("thứ", "chủ nhật"), (":",), (":",), ("-",), ("date",)]


def parse_publication_date(low: str) -> PubDate | None:
    head = low[:_HEAD_CHARS]
    best: tuple[int, PubDate] | None = None
    for rx, req in zip(_PUB_PATTERNS, _PUB_REQUIRES):
        if not any(r in head for r in req):
            continue
        m = rx.search(head)
        if not m:
            continue
        gd = m.groupdict()
        y, mo = int(gd["y"]), int(gd["m"])
        d = int(gd["d"]) if gd.get("d") else None
        if _valid(y, mo, d) and (best is None or m.start() < best[0]):
            best = (m.start(), PubDate(y, mo, d))
    return best[1] if best else None


# "Sáng 5/12", "Chiều 6-1", "Ngày 18/12/2020": the event date of a report.
_EVENT_RE = re.compile(
    r"(?:^|[\s(,.])(?:sáng|chiều|tối|trưa|ngày|hôm)\s+(?:nay\s+)?(?:\(?\s*)?"
    r"(?P<d>\d{1,2})\s*[/-]\s*(?P<m>\d{1,2})(?:\s*[/-]\s*(?P<y>\d{4}))?(?![\d/-])"
)


def parse_event_date(low: str, pub: PubDate | None, review_year: int | None = None) -> PubDate | None:
    """The first "Sáng 5/12"-style date near the top; its year from the text, else from
    the publication date (the event is not after publication), else from the reviewed
    year (a December or January review meeting)."""
    m = _EVENT_RE.search(low[:_HEAD_CHARS * 2])
    if not m:
        return None
    d, mo = int(m.group("d")), int(m.group("m"))
    if m.group("y"):
        y = int(m.group("y"))
    elif pub is not None:
        y = pub.year
        if pub.month is not None and mo > pub.month + 1:
            y -= 1
    elif review_year is not None:
        y = review_year + 1 if mo <= 3 else review_year
    else:
        return None
    return PubDate(y, mo, d) if _valid(y, mo, d) else None


_REVIEW_RE = re.compile(r"tổng kết[^.\n;]{0,220}?năm\s+(\d{4})")


def reviewed_year(head_low: str, pub: PubDate | None) -> int | None:
    """The year a year-end review reports on ("tổng kết công tác QP-AN năm 2023"); when
    the year is not written, a review published in Jan-Feb reports on the year before."""
    m = _REVIEW_RE.search(head_low)
    if m:
        y = int(m.group(1))
        if _valid(y) and (pub is None or y <= pub.year):
            return y
    if pub is not None and pub.month is not None and pub.month <= 2 and "tổng kết" in head_low:
        return pub.year - 1
    return None


# "giai đoạn 2019 - 2022", "từ năm 2016 đến năm 2021", "trong 5 năm (2016-2020)",
# "từ năm 2015 đến ngày 14/3/2025", "từ năm 2019 đến nay" (the span ends at publication)
_SPAN_RE = re.compile(
    r"(?:giai đoạn|từ năm|từ|thời kỳ|sau \S+ năm|trong \S+ năm(?: qua)?)\s*\(?\s*(?P<a>(?:19|20)\d\d)\s*"
    r"(?:(?:-|–|—|đến(?: năm)?|tới(?: năm)?)\s*(?P<b>(?:19|20)\d\d)"
    r"|(?:,\s*)?(?:đến|tới)\s+(?:hết\s+)?(?:ngày\s+\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*|tháng\s+\d{1,2}\s*[/.-]\s*)(?P<c>(?:19|20)\d\d)"
    r"|(?:,\s*)?(?:đến|tới)\s+(?P<now>nay|hiện nay|hiện tại|thời điểm hiện tại))"
)


def find_span(low: str, start: int = 0, end: int | None = None,
              present: int | None = None) -> tuple[int, int, int] | None:
    """(first year, last year, position) of a multi-year span in low[start:end]; a span
    "đến nay" ends in `present` (the publication year) and is only read when it is known."""
    end = len(low) if end is None else end
    if low.find("20", start, end) < 0 and low.find("19", start, end) < 0:
        return None  # no year to span (the cheap test: most clauses have none)
    for m in _SPAN_RE.finditer(low, start, end):
        a = int(m.group("a"))
        b = m.group("b") or m.group("c")
        if b is None:
            if present is None:
                continue
            b = present
        b = int(b)
        if a < b:
            return (a, b, m.start())
    return None


# "Sơ kết 10 năm xây dựng ..., giai đoạn 2009-2019": a review of a span of years.
_REVIEW_SPAN_RE = re.compile(
    r"(?:sơ kết|tổng kết)\s+(?:\d+|mười|năm|ba|hai|bốn|sáu|bảy|tám|chín|hai mươi|mười lăm)\s+năm[^\n]{0,160}?"
    r"(?P<a>(?:19|20)\d\d)\s*(?:-|–|—|đến(?: năm)?)\s*(?P<b>(?:19|20)\d\d)")


def reviewed_span(head_low: str, present: int | None = None) -> tuple[int, int] | None:
    """(first, last year) of a review of several years, from the title and lead; with the
    publication year `present`, also a review that names no year ("tổng kết 10 năm thực hiện
    Chỉ thị 16": the ten years up to it)."""
    if "kết" not in head_low:  # "sơ kết" / "tổng kết": the cheap test first
        return None
    m = _REVIEW_SPAN_RE.search(head_low)
    if not m:
        m = _REVIEW_YEARS_RE.search(head_low) if present is not None else None
        n = _count(m.group("n")) if m else None
        return (present - n, present) if n and 1 < n <= 50 else None
    a, b = int(m.group("a")), int(m.group("b"))
    return (a, b) if a < b else None


_YEAR_COUNT_WORDS = r"\d{1,2}|mười|năm|ba|hai|bốn|sáu|bảy|tám|chín|hai mươi|mười lăm|ba mươi"
# "Tổng kết 10 năm thực hiện ...", "sơ kết 5 năm" (no years written)
_REVIEW_YEARS_RE = re.compile(rf"(?:sơ kết|tổng kết)\s+(?P<n>{_YEAR_COUNT_WORDS})\s+năm(?!\s+(?:19|20)\d\d)")
# "5 năm qua", "những năm qua", "hằng năm": a figure said of the years a review covers
_YEARS_PAST_RE = re.compile(rf"(?:(?<!\w)(?:{_YEAR_COUNT_WORDS}|những|các|nhiều|mấy)\s+năm\s+(?:qua|gần đây|vừa qua)|hằng năm|hàng năm)(?!\w)")
_COUNT_WORDS = {"mười": 10, "năm": 5, "ba": 3, "hai": 2, "bốn": 4, "sáu": 6, "bảy": 7, "tám": 8, "chín": 9,
                "hai mươi": 20, "mười lăm": 15, "ba mươi": 30}


def _count(w: str) -> int | None:
    return int(w) if w.isdigit() else _COUNT_WORDS.get(w)


def years_past(low: str, start: int, end: int) -> bool:
    """The text speaks of the past years ("những năm qua", "5 năm qua", "hằng năm")."""
    return _YEARS_PAST_RE.search(low, start, end) is not None


# "năm 2023" not after "so với"/"cùng kỳ" (a comparison) nor inside a plan period.
# (written "năm(?<!\wnăm)" for "(?<!\w)năm": the same matches, found as a string search)
_YEAR_IN_TEXT_RE = re.compile(r"năm(?<!\wnăm)\s+((?:19|20)\d\d)(?!\d)")
_COMPARE_BEFORE_RE = re.compile(
    r"(?:so với|cùng kỳ|hơn|từ|đến|tới|nhiệm kỳ|giai đoạn|kể từ|trước|sau|khóa)\s*(?:cùng kỳ\s*)?$"
)


def years_in(low: str, start: int, end: int) -> list[tuple[int, int]]:
    """(year, position) of "năm YYYY" that date the clause (comparisons excluded)."""
    out: list[tuple[int, int]] = []
    if low.find("20", start, end) < 0 and low.find("19", start, end) < 0:
        return out  # no year at all (the cheap test: most clauses have none)
    for m in _YEAR_IN_TEXT_RE.finditer(low, start, end):
        if _COMPARE_BEFORE_RE.search(low, max(start, m.start() - 16), m.start()):
            continue
        out.append((int(m.group(1)), m.start()))
    return out


_LEAD_YEAR_RE = re.compile(r"(?:trong\s+|cả\s+|tính đến hết\s+|hết\s+|đến hết\s+)?năm\s+((?:19|20)\d\d)\s*[,:]")


def leading_year(low: str, start: int) -> int | None:
    """'Năm 2022, ...' at the start of a sentence."""
    m = _LEAD_YEAR_RE.match(low, start)
    return int(m.group(1)) if m else None


# r"\b(?:hiện nay|hiện tại|hiện có|hằng năm|hàng năm|đến nay|tới nay|tính đến nay)\b": every
# phrase opens and ends on a letter, so the boundaries are "no word character before / after";
# each alternative opens on its phrase (see rules.literal_first) so the engine skips ahead.
_PRESENT_RE = re.compile("|".join(
    rf"{p}(?<!\w{p})(?!\w)"
    for p in ("hiện nay", "hiện tại", "hiện có", "hằng năm", "hàng năm", "đến nay", "tới nay", "tính đến nay")))


# "Hiện, ...", "Hiện địa phương quản lý 31 mô hình": "hiện" opening a clause is "now" ("thực
# hiện", "phát hiện", "hiện đại" never open one).
_CLAUSE_PRESENT_RE = re.compile(r"[\s\W]*hiện(?:\s+(?:nay|tại|có|đang|vẫn|còn))?[\s,]+(?!đại|trường|tượng|hành|vật|ra|lên|diện|thực)")


def is_present(low: str, start: int, end: int) -> bool:
    if _CLAUSE_PRESENT_RE.match(low, start, end):
        return True
    return _PRESENT_RE.search(low, start, end) is not None


def format_period(a: int, b: int | None = None) -> str:
    return f"{a}" if b is None or b == a else f"{a}/{b}"

"""The fast paths of the extractor give exactly what the plain versions give.

The speed-ups rewrite regexes into equivalent forms the regex engine scans faster (literal
first, grouped alternatives, rejections moved into the pattern), memoise per clause, and skip
searches a required word rules out. Each is checked here against a plain reference
implementation (the code as it was before the rewrite) on the seed and test articles and on
generated domain-like text, so a later edit that breaks an equivalence fails loudly.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from qpan.core.config import SHARED_DIR
from qpan.extract import normalize as nz
from qpan.extract import numbers as nb
from qpan.extract import gazetteer, periods
from qpan.extract.rules import PATTERNS_PATH, default_rules, literal_first, may_match, phrase_re, required_literals, words_re

HERE = Path(__file__).parent


def _real_texts() -> list[str]:
    out = []
    for d in (HERE / "articles", SHARED_DIR / "seeds"):
        if d.exists():
            out += [p.read_text(encoding="utf-8") for p in sorted(d.glob("*.txt"))]
    return out


REAL = _real_texts()
TOKENS = list("0123456789.,/%-–:;!?…\"”’)( \n\tabhmnstuĐđTÀàáạảãâăêôơưừứựửữ_") + [
    "\u00a0", "\u00ad", "\u200b", "\u0301", "hoà", "thuỷ", "quý", "quả", "QUẢ", "uá", "oÉ", "UỶ", "khoẻ", "Qoà", "TP.", "H.", "đ/c.", "năm ", "Năm 2023, ",
    "hai mươi", "mười một", "một trăm", " ba", "khai ba", " nghìn", " tỷ đồng", "2023", "2019/2020", "2023,5",
    "2023.000", "20234", "1.000", "12,5", "100%", "21/5/2019", "số ", "tổng số ", "thứ ", "ban chỉ đạo ", "sư đoàn ",
    " giờ", "h3", " đồng chí", " vụ", "ngày ", "hơn ", "khoảng ", "trên dưới ", "huyện ", "Thọ Xuân", "xã ",
    "giai đoạn 2019 - 2022", "từ năm 2016 đến năm 2021", "hiện nay", "xhiện nay", "hằng năm", "so với năm 2022",
    "Đăng lúc: 15:50:13 18/12/2020", "2023-12-05", "date 2023-01", "Thứ ba, 14/03/2023 15:55", " tập thể",
    " cá nhân", "phấn đấu", "sẽ", "yêu cầu", "đúng yêu cầu", "cần thiết", "cần", "phải", "không để xảy ra",
    "điểm nóng", "hoàn thành", "chỉ tiêu", "giao quân", "đạt 100% chỉ tiêu", "tân binh", "chủ tịch UBND huyện",
    "quốc phòng - an ninh", "tăng", "giảm", "dân quân", " người", "trong đó", " thanh niên", "Huyện ủy ",
]
TEXTS = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)


# ---------------------------------------------------------------- reference versions
_REF_DIGITS = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"
_REF_NUM_RE = re.compile(
    rf"""
    (?P<num>{_REF_DIGITS})
    (?:/(?P<den>{_REF_DIGITS})(?![/\d]))?
    (?P<pct>\s?%)?
    (?:\s+(?P<mult>nghìn|ngàn|triệu|tỷ|tỉ)(?!\w))?
    (?![\w/:])
    """,
    re.X,
)
_REF_WORDS_RE = re.compile(
    rf"(?P<words>(?:{nb._WORD_ALT})(?:\s+(?:{nb._WORD_ALT}))+(?!\w)|(?:{nb._WORD_ALONE_ALT})(?!\w))"
    rf"(?:\s+(?P<wmult>nghìn|ngàn|triệu|tỷ|tỉ)(?!\w))?"
)


def _ref_not_figure(text: str, pos: int) -> bool:
    ws = text[max(0, pos - 30):pos].rstrip(" .:").split()
    if not ws:
        return False
    w1 = ws[-1]
    w0 = ws[-2] if len(ws) > 1 else ""
    if w1 == "số":
        return w0 != "tổng"
    if w1 in nb._NOT_FIGURE_WORDS or f"{w0} {w1}" in nb._NOT_FIGURE_PAIRS:
        return True
    return len(ws) > 2 and " ".join(ws[-3:]) in nb._NOT_FIGURE_TRIPLES


def _ref_find_numbers(text: str) -> list[tuple]:
    out = []
    for m in _REF_NUM_RE.finditer(text):
        s, e = m.start(), m.end()
        if nb._glued(text, s) or _ref_not_figure(text, s):
            continue
        num = m.group("num")
        after = text[e:e + 6]
        if nb._CODE_AFTER_RE.match(after) or nb._RANGE_AFTER_RE.match(after) or nb._TIME_AFTER_RE.match(after):
            continue
        whole, _, frac = num.partition(",")
        if len(whole) > 40:
            continue
        value = nb._as_number(float(f"{whole.replace('.', '')}.{frac}")) if frac else int(whole.replace(".", ""))
        if "." not in num and "," not in num and nb._YEAR_RE.fullmatch(num) and not m.group("den"):
            continue
        kind, den = "count", None
        if m.group("den"):
            den = nb.parse_digits(m.group("den"))
            if den is None or den == 0 or value > den:
                continue
            kind = "ratio"
        if m.group("pct"):
            kind = "percent"
        if m.group("mult"):
            value = nb._as_number(value * nb._MULT[m.group("mult")])
        if nb._MONEY_RE.match(text, e):
            kind = "money"
        out.append((s, e, value, type(value), nb._comparator(text, s), kind, den, False))
    words = []
    for m in _REF_WORDS_RE.finditer(text):
        s, e = m.start(), m.end()
        if s > 0 and (text[s - 1].isalnum() or text[s - 1] == "_"):
            continue
        ws = m.group("words").split()
        if len(ws) == 1 and ws[0] in nb._AMBIGUOUS_ALONE:
            continue
        if _ref_not_figure(text, s):
            continue
        v = nb.words_to_int(ws)
        if v is None:
            continue
        mult = m.group("wmult")
        value = v * nb._MULT[mult] if mult else v
        kind = "money" if mult and nb._MONEY_RE.match(text, e) else "count"
        words.append((s, e, value, type(value), nb._comparator(text, s), kind, None, True))
    return sorted(out + words, key=lambda n: n[0]) if words else out


def _new_numbers(text: str) -> list[tuple]:
    return [(n.start, n.end, n.value, type(n.value), n.comparator, n.kind, n.denominator, n.words)
            for n in nb.find_numbers(text)]


_REF_BOUNDARY_RE = re.compile(r"[.!?…]+[\"”’)]*(?:/\.)?(?=\s+|$)|;\s*(?=\n)")


def _ref_split(text: str) -> list[tuple]:
    out = []
    for pi, pm in enumerate(re.finditer(r"[^\n]+", text)):
        p0, p1 = pm.start(), pm.end()
        while p0 < p1 and text[p0].isspace():
            p0 += 1
        while p1 > p0 and text[p1 - 1].isspace():
            p1 -= 1
        if p0 >= p1:
            continue
        seg_start, first = p0, True
        for bm in _REF_BOUNDARY_RE.finditer(text, p0, p1):
            cut = bm.end()
            if text[bm.start()] == ".":
                ws = text[max(seg_start, bm.start() - 8):bm.start()].split()
                if ws and ws[-1].lower().rstrip(".") in nz._ABBREV:
                    continue
                nxt = cut
                while nxt < p1 and text[nxt].isspace():
                    nxt += 1
                if nxt < p1 and text[nxt].islower():
                    continue
            if cut - seg_start > 1:
                out.append((seg_start, cut, pi, first))
                first = False
            seg_start = cut
            while seg_start < p1 and text[seg_start].isspace():
                seg_start += 1
        if seg_start < p1:
            out.append((seg_start, p1, pi, first))
    return out


_REF_TONE_RE = re.compile(r"([oOuU])([" + "".join(nz._SECOND) + r"])(?![^\W\d_])")


def _ref_move_tone(m: re.Match) -> str:
    first, second = m.group(1), m.group(2)
    if m.start() > 0 and m.string[m.start() - 1] in "qQ":
        return m.group(0)  # "quý": the u belongs to "qu"
    mark, base = nz._SECOND[second]
    if first not in {"a": "oO", "e": "oO", "y": "uU", "A": "oO", "E": "oO", "Y": "uU"}[base]:
        return m.group(0)
    return unicodedata.normalize("NFC", first + mark) + base


def _ref_unify_tones(s: str) -> str:
    """Every o/u + toned a/e/y looked at, the ones to leave alone left in the callback."""
    return _REF_TONE_RE.sub(_ref_move_tone, s)


def _ref_normalize(original: str) -> tuple:
    s = nz._SPACE_RE.sub(" ", original)
    if unicodedata.is_normalized("NFC", s) and not nz._DELETE_RE.search(s):
        text = _ref_unify_tones(s)
        return text, nz._lower(text), None
    n = nz.normalize(original)  # the slow path itself is unchanged
    return n.text, n.lower, n._starts


def _ref_words_re(phrases: list[str]) -> str:
    """words_re as one boundary check around the whole alternation."""
    plain = [phrase_re(p) for p in phrases if not p.startswith("re:")]
    raw = [p[3:] for p in phrases if p.startswith("re:")]
    alts = []
    if plain:
        alts.append(r"(?<!\w)(?:" + "|".join(sorted(plain, key=len, reverse=True)) + r")(?!\w)")
    alts += [f"(?:{r})" for r in raw]
    return "|".join(alts)


def _cue_lists() -> list[list[str]]:
    import yaml

    data = yaml.safe_load(PATTERNS_PATH.read_text(encoding="utf-8"))
    lists = [data["plan_cues"], data["plan_paragraph_cues"], data["trainee_groups"], *data["award_fields"].values()]
    for r in data["number_rules"]:
        lists += [r[k] for k in ("left", "left_near", "right", "clause", "not_left", "not_right", "not_clause") if r.get(k)]
    for f in data["flag_rules"]:
        lists += [[p] for p in f["patterns"]]
    lists += [[p] for p in data["award_bodies"]]
    return lists


CUES = [(re.compile(_ref_words_re(c)), re.compile(words_re(c))) for c in _cue_lists()]


def _windows(text: str):
    n = len(text)
    yield 0, n
    for a in range(0, n, 37):
        yield a, min(n, a + 53)


def _same_cue_matches(low: str) -> None:
    for ref, new in CUES:
        for a, b in _windows(low):
            assert [m.span() for m in ref.finditer(low, a, b)] == [m.span() for m in new.finditer(low, a, b)], new.pattern


# ---------------------------------------------------------------- the checks
@pytest.mark.parametrize("text", REAL, ids=range(len(REAL)))
def test_real_articles_take_the_same_paths(text):
    low = nz.normalize(text).lower
    assert _new_numbers(low) == _ref_find_numbers(low)
    n = nz.normalize(text)
    assert (n.text, n.lower, n._starts) == _ref_normalize(text)
    for variant in (text, unicodedata.normalize("NFD", text), text.upper()):
        assert nz.unify_tones(variant) == _ref_unify_tones(variant)
    assert [tuple(s) for s in nz.split_sentences(n.text)] == _ref_split(n.text)
    _same_cue_matches(low)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_numbers_match_the_reference(text):
    assert _new_numbers(text) == _ref_find_numbers(text)
    assert _new_numbers(text.lower()) == _ref_find_numbers(text.lower())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.,/% :-–ax\n", max_size=40))
def test_digit_runs_match_the_reference(text):
    assert _new_numbers(text) == _ref_find_numbers(text)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_normalize_and_sentences_match_the_reference(text):
    n = nz.normalize(text)
    assert (n.text, n.lower, n._starts) == _ref_normalize(text)
    assert nz.unify_tones(text) == _ref_unify_tones(text)
    assert [tuple(s) for s in nz.split_sentences(n.text)] == _ref_split(n.text)


@settings(max_examples=150, deadline=None)
@given(TEXTS)
def test_cue_regexes_match_the_reference(text):
    _same_cue_matches(text.lower())


_REF_YEAR_IN_TEXT_RE = re.compile(r"(?<!\w)năm\s+((?:19|20)\d\d)(?!\d)")
_REF_PRESENT_RE = re.compile(r"\b(?:hiện nay|hiện tại|hiện có|hằng năm|hàng năm|đến nay|tới nay|tính đến nay)\b")
_REF_PUB = [
    r"(?<![\d/])(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\s*[-|,]?\s*\d{1,2}:\d{2}",
    r"\d{1,2}:\d{2}(?::\d{2})?\s*[-|,]?\s*(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})",
    r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d-])",
    r"\bdate\s+(?P<y>\d{4})-(?P<m>\d{1,2})(?![\d-])",
]


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_period_regexes_match_the_reference(text):
    low = text.lower()
    for a, b in _windows(low):
        assert ([m.span() for m in _REF_YEAR_IN_TEXT_RE.finditer(low, a, b)]
                == [m.span() for m in periods._YEAR_IN_TEXT_RE.finditer(low, a, b)])
        assert ([m.span() for m in _REF_PRESENT_RE.finditer(low, a, b)]
                == [m.span() for m in periods._PRESENT_RE.finditer(low, a, b)])
    for ref, new in zip(_REF_PUB, periods._PUB_PATTERNS[2:]):
        r, n = re.search(ref, low), new.search(low)
        assert (r and (r.span(), r.groupdict())) == (n and (n.span(), n.groupdict()))


def test_head_dispatch_matches_the_full_head_regex():
    rules = default_rules()
    for text in REAL:
        low = nz.normalize(text).lower
        for pos in range(len(low)):
            full = rules.head_re.match(low, pos)
            rx = rules.head_by_char.get(low[pos], rules.head_by_char[""])
            cut = rx.match(low, pos) if rx is not None else None
            assert (full and (full.lastgroup, full.end())) == (cut and (cut.lastgroup, cut.end()))


def test_literal_first_keeps_the_meaning():
    assert literal_first(r"(?<!\w)sẽ(?!\w)") == r"sẽ(?<!\wsẽ)(?!\w)"
    assert literal_first(r"(?<!a|b)xy+z") == r"x(?<!(?:a|b)x)y+z"  # a quantified letter stays put
    assert literal_first(r"(?:ab)") == r"(?:ab)"  # nothing to move
    for rx in (r"(?<!\w)cần(?! thiết)(?!\w)", r"(?<!đúng )(?<!theo )yêu cầu", r"(?<![\d/])ab|cd"):
        a, b = re.compile(rx), re.compile(literal_first(rx))
        for text in ("cần", "xcần", "cần thiết", "đúng yêu cầu", "theo yêu cầu", "yêu cầu", "ab", "1ab", "/ab cd"):
            assert [m.span() for m in a.finditer(text)] == [m.span() for m in b.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_required_literals_never_rule_out_a_match(text):
    rules = default_rules()
    low = text.lower()
    checks = [(f.pattern, f.needs) for f in rules.flag_rules] + list(zip(rules.award_bodies, rules.award_body_needs))
    for rx, needs in checks:
        for a, b in _windows(low):
            if rx.search(low, a, b):
                assert may_match(needs, low, a, b), rx.pattern


def test_required_literals_read_the_pattern():
    assert required_literals(r"(?:ab|cd)ef") == (("ab", "cd"), ("ef",))
    assert required_literals(r"(?:ab|)cd") == (("cd",),)
    assert required_literals(r"(?i)abc") == ()
    assert required_literals(r"x(?:yz)+w?") == (("yz",),)


def _ref_find_span(low: str, start: int, end: int):
    m = periods._SPAN_RE.search(low, start, end)
    if not m:
        return None
    a, b = int(m.group("a")), int(m.group("b"))
    return (a, b, m.start()) if a < b else None


def _ref_years_in(low: str, start: int, end: int):
    return [(int(m.group(1)), m.start()) for m in _REF_YEAR_IN_TEXT_RE.finditer(low, start, end)
            if not periods._COMPARE_BEFORE_RE.search(low, max(start, m.start() - 16), m.start())]


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_span_and_year_shortcuts_match_the_reference(text):
    low = text.lower()
    for a, b in _windows(low):
        assert periods.find_span(low, a, b) == _ref_find_span(low, a, b)
        assert periods.years_in(low, a, b) == _ref_years_in(low, a, b)


# ---------------------------------------------------------------- place names
_REF_TYPE_WORDS = frozenset("""huyện ủy|thành ủy|tỉnh ủy|thị ủy|quận ủy|đảng ủy xã|đảng ủy phường|thành phố|
thị xã|thị trấn|đặc khu|huyện|tỉnh|xã|phường|quận|tp|tp.|tx|tx.|tt|tt.|h.|q.|p.|huyen|tinh|xa|phuong|
quan|thanh pho|thi xa|thi tran""".replace("\n", "").split("|"))
_REF_TOKEN_RE = re.compile(r"\w+")


def _ref_type_len_before(head: str) -> int:
    ws = head.split()
    n = len(head)
    for k in (3, 2, 1):
        if len(ws) >= k:
            cand = " ".join(ws[-k:])
            if cand in _REF_TYPE_WORDS and head.startswith(cand + " ", n - len(cand) - 1):
                return len(cand) + 1
    return 0


def _ref_run_mentions(gaz, run: str) -> tuple:
    """Every length tried, longest first, up to the longest name opening on the word."""
    toks = [(m.group(0), m.start(), m.end()) for m in _REF_TOKEN_RE.finditer(run)]
    out = []
    i = 0
    while i < len(toks):
        n = gaz.max_len.get(toks[i][0], 0)
        if not n and toks[i][0].isascii():
            n = gaz.max_len.get(nz.strip_diacritics(toks[i][0]), 0)
        hit = None
        for k in range(min(n, len(toks) - i), 0, -1):
            key = tuple(t[0] for t in toks[i:i + k])
            found = gaz.index.get(key)
            if found is None and all(t.isascii() for t in key):
                found = gaz.ascii_index.get(key)
            if found is not None:
                hit = (k, found)
                break
        if hit:
            k, (ids, typed) = hit
            out.append((toks[i][1], toks[i + k - 1][2], tuple(sorted(ids)), typed))
            i += k
        else:
            i += 1
    return tuple(out)


def _ref_find_mentions(gaz, text: str, low: str, start: int, end: int) -> list[tuple]:
    out = []
    for rm in gazetteer.RUN_RE.finditer(text, start, end):
        rs, re_ = rm.span()
        if rs and low[rs - 1] == " ":
            rs -= _ref_type_len_before(low[max(0, rs - 18):rs])
        out += [(rs + a, rs + b, ids, typed) for a, b, ids, typed in _ref_run_mentions(gaz, low[rs:re_])]
    return out


PLACE_TOKENS = TOKENS + [
    "Thọ Xuân", "Tho Xuan", "Thanh Hóa", "THANH HÓA", "Xuân Lai", "Nga Sơn", "Bà Rịa", "Vũng Tàu", "Quận 1", "Hà Nội",
    " - ", "-", "–", ". ", "tp ", "tx. ", "huyện ủy ", "đảng ủy xã ", "thành phố ", "thi xa ", "tỉnh ", "Công an ",
    "Năm ", "Ban Chỉ huy Quân sự ", "Cẩm Thủy", "Cẩm Thuỷ", "Nguyễn Văn A ",
]


def _same_mentions(text: str) -> None:
    gaz = gazetteer.default_gazetteer()
    n = nz.normalize(text)
    for a, b in _windows(n.text):
        assert [tuple(m) for m in gaz.find_mentions(n.text, n.lower, a, b)] == \
            _ref_find_mentions(gaz, n.text, n.lower, a, b)


@pytest.mark.parametrize("text", REAL, ids=range(len(REAL)))
def test_place_names_of_real_articles_match_the_reference(text):
    _same_mentions(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PLACE_TOKENS), max_size=40).map("".join))
def test_place_names_match_the_reference(text):
    _same_mentions(text)

from hypothesis import given, settings, strategies as st

from qpan.extract.numbers import find_numbers, parse_number, words_to_int


def figures(text: str) -> list[tuple[str, object, str, str]]:
    return [(text[n.start:n.end], n.value, n.comparator, n.kind) for n in find_numbers(text)]


def test_thousands_decimals_and_leading_zero():
    assert parse_number("7.173") == 7173
    assert parse_number("11.580") == 11580
    assert parse_number("4,6") == 4.6
    assert parse_number("5,5") == 5.5
    assert parse_number("04") == 4
    assert parse_number("1.000") == 1000


def test_multipliers_percent_and_words():
    assert parse_number("4,6 tỷ") == 4_600_000_000
    assert parse_number("2 triệu") == 2_000_000
    assert parse_number("3 nghìn") == 3000
    assert parse_number("93,3%") == 93.3
    assert parse_number("hai mươi lăm") == 25
    assert parse_number("một trăm") == 100
    assert parse_number("ba trăm linh năm") == 305
    assert words_to_int(["mươi"]) is None
    assert parse_number("không phải số") is None


def test_money_ratio_percent_and_comparators():
    t = "cấp hơn 4,6 tỷ đồng, lên 172/311 phố, thôn, 325/325 xã, đạt 93,3%, gần 100%, dưới 10 vụ, khoảng 20 người"
    got = figures(t)
    assert ("4,6 tỷ", 4_600_000_000, ">", "money") in got
    assert ("172/311", 172, "=", "ratio") in got
    assert ("325/325", 325, "=", "ratio") in got
    assert ("93,3%", 93.3, "=", "percent") in got
    assert ("100%", 100, "~", "percent") in got
    assert ("10", 10, "<", "count") in got
    assert ("20", 20, "~", "count") in got


def test_comrade_is_not_money():
    assert figures("với 165 đồng chí") == [("165", 165, "=", "count")]


def test_not_figures():
    t = ("Kết luận số 44-KL/TW ngày 22/1/2019, Chỉ thị số 09-CT/TW, Quy định số 11-Qđi/TW ngày 21/5/2019, "
         "Quyết định 137-QĐ/TU, Ban Chỉ đạo 138 tỉnh, Đoàn KT-QP 337, Sư đoàn 324, giai đoạn 2021 - 2025, "
         "nhiệm kỳ 2020-2025, xếp thứ 7 toàn tỉnh, Sáng 5/12, Sáng 6-1, năm 2023, 15:50:13 18/12/2020, Covid -19").lower()
    assert figures(t) == []


def test_verb_chi_dao_keeps_its_figure():
    assert [v for _, v, _, _ in figures("huyện chỉ đạo 4 xã diễn tập")] == [4]
    assert [v for _, v, _, _ in figures("tổng số 45 vụ")] == [45]


def test_number_words_in_text():
    got = figures("tặng giấy khen cho hai tập thể và mười hai cá nhân")
    assert [(v, k) for _, v, _, k in got] == [(2, "count"), (12, "count")]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(s):
    find_numbers(s)
    find_numbers(s.lower())
    parse_number(s)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_dotted_thousands_round_trip(n):
    written = f"{n:,}".replace(",", ".")
    assert parse_number(written) == n

from hypothesis import given, settings, strategies as st

from qpan.extract.normalize import normalize
from qpan.extract.periods import (PubDate, find_span, is_present, leading_year, parse_event_date,
                                  parse_publication_date, reviewed_year, years_in)


def low(s: str) -> str:
    return normalize(s).lower


def test_publication_date_formats():
    assert parse_publication_date(low("Đăng lúc: 15:50:13 18/12/2020 (GMT+7)")) == PubDate(2020, 12, 18)
    assert parse_publication_date(low("Đăng lúc: 23/11/2022 (GMT+7)")) == PubDate(2022, 11, 23)
    assert parse_publication_date(low("Thứ ba, 14/03/2023 15:55")) == PubDate(2023, 3, 14)
    assert parse_publication_date(low(" date 2023-01 TP Thanh Hoá tổng kết")) == PubDate(2023, 1, None)
    assert parse_publication_date(low("Ngày đăng: 28/12/2022")) == PubDate(2022, 12, 28)
    assert parse_publication_date(low("Không có ngày; Quy định số 11 ngày 21/5/2019")) is None


def test_event_date_year_resolution():
    assert parse_event_date(low("Sáng 6-1, TP tổ chức"), PubDate(2023, 1)) == PubDate(2023, 1, 6)
    # a December meeting reported in early January belongs to the previous year
    assert parse_event_date(low("Sáng 28/12, huyện"), PubDate(2024, 1, 2)) == PubDate(2023, 12, 28)
    # no publication date: the reviewed year decides (a January review is the year after)
    assert parse_event_date(low("Sáng 5/12, Ban"), None, 2023) == PubDate(2023, 12, 5)
    assert parse_event_date(low("Sáng 9-1, Huyện ủy"), None, 2022) == PubDate(2023, 1, 9)


def test_reviewed_year():
    assert reviewed_year(low("hội nghị tổng kết công tác quốc phòng - an ninh năm 2023; triển khai nhiệm vụ năm 2024"), None) == 2023
    assert reviewed_year(low("tổng kết hoạt động phố, thôn năm 2022"), PubDate(2023, 1)) == 2022
    assert reviewed_year(low("hội nghị tổng kết công tác"), PubDate(2024, 1, 10)) == 2023
    assert reviewed_year(low("triển khai nhiệm vụ năm 2024"), PubDate(2024, 1, 10)) is None


def test_spans_and_years():
    t = low("Giai đoạn 2019 - 2022, các cấp ủy")
    assert find_span(t)[:2] == (2019, 2022)
    assert find_span(low("từ năm 2016 đến năm 2021, huyện"))[:2] == (2016, 2021)
    assert find_span(low("nhiệm kỳ 2020-2025")) is None
    t = low("kết nạp được 67 đảng viên (tăng 24 đảng viên so với năm 2021) trong năm 2022")
    assert [y for y, _ in years_in(t, 0, len(t))] == [2022]
    assert leading_year(low("Năm 2022, Chủ tịch UBND"), 0) == 2022
    assert leading_year(low("Trong năm 2023, lực lượng"), 0) == 2023
    t = low("Hiện nay, Hải Dương có hơn 1.000")
    assert is_present(t, 0, len(t))


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises(s):
    t = s.lower()
    pub = parse_publication_date(t)
    parse_event_date(t, pub, 2023)
    parse_event_date(t, None, None)
    reviewed_year(t, pub)
    find_span(t)
    years_in(t, 0, len(t))
    leading_year(t, 0)

"""The classes of extraction error of issue #15, each on sentences written for this test
(not taken from the corpus): the source prior, bare type words, which recruitment number is
which, parts taken as totals, scope, periods, and the less common indicators."""
from datetime import date

import pytest

from qpan.extract import extract_article
from qpan.extract.sources import slug, unit_for_url


def keys(facts):
    return {(f.indicator, f.value, f.unit_id, f.period) for f in facts}


def indicators(facts):
    return {(f.indicator, f.value) for f in facts}


# ------------------------------------------------------------------ 1. the source prior
@pytest.mark.parametrize("url, on, unit", [
    ("https://baonghean.vn/tin/abc-123.html", date(2022, 3, 1), "40"),            # provincial paper
    ("https://www.baoquangbinh.vn/quoc-phong/x.htm", date(2021, 1, 5), "44"),
    ("https://truyenhinhthanhhoa.vn/x", date(2023, 1, 1), "38"),                   # provincial TV
    ("https://bacninhtv.vn/x", date(2023, 1, 1), "27"),
    ("https://thoxuan.thanhhoa.gov.vn/portal/Pages/x.aspx", date(2020, 5, 1), "38.395"),  # district portal
    ("https://quynhluu.nghean.gov.vn/x", date(2021, 5, 1), "40.421"),
    ("https://hoinongdan.thanhhoa.gov.vn/x", date(2021, 5, 1), "38"),            # a department: the province
    ("https://baogialai.com.vn/x", date(2019, 2, 1), "64"),                       # before the 2025 merger
    ("https://baogialai.com.vn/x", date(2026, 2, 1), "52"),                       # after it: the successor
    ("https://vnexpress.net/x", date(2024, 1, 1), None),                          # national outlets
    ("https://dangcongsan.vn/x", date(2024, 1, 1), None),
    ("not a url at all", None, None),
    ("http://127.0.0.1:8765/tin/x.html", None, None),                          # an address is no place
    ("http://127.0.0.5:55442/a", date(2023, 1, 1), None),
])
def test_source_prior_from_the_url(url, on, unit):
    assert unit_for_url(url, on) == unit


def test_slug_is_how_hosts_write_place_names():
    assert slug("Thọ Xuân") == "thoxuan" and slug("Đô Lương") == "doluong"


def test_a_provincial_paper_gives_toan_tinh_its_province():
    title = "Ra quân huấn luyện năm 2024"
    body = "Toàn tỉnh có 3.150 thanh niên lên đường nhập ngũ, đạt 100% chỉ tiêu."
    facts = extract_article(title, body, date(2024, 2, 27), url="https://baonghean.vn/ra-quan-123.html")
    assert {("recruits_enlisted", 3150, "40", "2024"), ("recruitment_quota_pct", 100, "40", "2024"),
            ("recruitment_quota_met", True, "40", "2024")} <= keys(facts)
    # without a prior and with no place in the text, no unit can be claimed: no fact
    assert extract_article(title, body, date(2024, 2, 27)) == []


def test_bare_type_words_refer_to_the_unit_of_that_type():
    title = "Huyện Yên Định: Sơ kết công tác tuyển quân"
    body = ("Sáng 20/2/2023, huyện Yên Định, tỉnh Thanh Hóa tổ chức sơ kết.\n"
            "Năm nay, huyện giao 214 tân binh cho các đơn vị. Toàn tỉnh có 3.600 tân binh.")
    k = keys(extract_article(title, body))
    assert ("recruits_enlisted", 214, "38.394", "2023") in k
    assert ("recruits_enlisted", 3600, "38", "2023") in k


def test_nested_names_give_the_more_specific_unit():
    title = "Tuyển quân năm 2023"
    body = "Năm 2023, huyện Nga Sơn, tỉnh Thanh Hóa có 190 thanh niên lên đường nhập ngũ."
    assert ("recruits_enlisted", 190, "38.401", "2023") in keys(extract_article(title, body))


# ------------------------------------------------------------------ 2. which recruitment number
def test_quota_recruits_and_their_ratio():
    title = "Huyện Hà Trung giao quân năm 2022"
    body = ("Năm 2022, huyện Hà Trung được giao chỉ tiêu tuyển chọn và gọi 180 công dân nhập ngũ. "
            "Huyện đã hoàn thành 100% chỉ tiêu giao quân với 180 tân binh lên đường.")
    k = keys(extract_article(title, body))
    assert ("recruitment_quota", 180, "38.392", "2022") in k
    assert ("recruits_enlisted", 180, "38.392", "2022") in k
    assert ("recruitment_quota_met", True, "38.392", "2022") in k


def test_a_ratio_of_recruits_gives_the_quota_and_its_fulfilment():
    k = keys(extract_article("Xã Định Tân giao quân", "Năm 2021, xã Định Tân, huyện Yên Định giao quân 12/12 thanh niên."))
    assert {("recruits_enlisted", 12, "38.394.15457", "2021"), ("recruitment_quota", 12, "38.394.15457", "2021"),
            ("recruitment_quota_pct", 100, "38.394.15457", "2021"),
            ("recruitment_quota_met", True, "38.394.15457", "2021")} == k


@pytest.mark.parametrize("sentence", [
    "Năm 2024, huyện Vĩnh Lộc có 95 thanh niên viết đơn tình nguyện nhập ngũ.",
    "Năm 2024, huyện Vĩnh Lộc có 410 công dân đủ sức khỏe nhập ngũ.",
    "Năm 2024, kết quả khám tuyển huyện Vĩnh Lộc có sức khỏe loại 1 là 120 thanh niên.",
    "Năm 2024, huyện Vĩnh Lộc có 230 thanh niên nhận lệnh gọi nhập ngũ.",
    "Năm 2024, huyện Vĩnh Lộc kết nạp Đảng cho 17 thanh niên ưu tú trước khi lên đường nhập ngũ.",
])
def test_volunteers_health_grades_orders_and_party_admissions_are_not_recruits(sentence):
    facts = extract_article("Tin tuyển quân", sentence)
    assert not any(f.indicator == "recruits_enlisted" for f in facts), indicators(facts)


def test_party_admissions_are_new_party_members():
    facts = extract_article("Tin tuyển quân", "Năm 2024, huyện Vĩnh Lộc kết nạp Đảng cho 17 thanh niên ưu tú trước khi lên đường nhập ngũ.")
    assert ("new_party_members", 17, "38.393", "2024") in keys(facts)


def test_a_quota_announced_in_november_is_next_years_intake():
    facts = extract_article("Chuẩn bị giao quân", "Năm nay, huyện Như Thanh được giao chỉ tiêu 150 công dân nhập ngũ.",
                            date(2023, 11, 20))
    assert keys(facts) == {("recruitment_quota", 150, "38.403", "2024")}


# ------------------------------------------------------------------ 3. parts taken as totals
def test_breakdowns_lists_and_ceremony_points_are_parts():
    title = "Thành phố Thanh Hóa giao quân năm 2023"
    body = ("Năm 2023, thành phố Thanh Hóa giao 420 tân binh, trong đó có 380 thanh niên nhập ngũ vào quân đội và 40 thanh niên "
            "thực hiện nghĩa vụ công an nhân dân. Các đơn vị nhận quân gồm: Sư đoàn 390 là 200 tân binh; Lữ đoàn 147 là 180 tân binh. "
            "Tại điểm giao quân phường Đông Vệ có 60 tân binh.")
    k = indicators(extract_article(title, body))
    assert ("recruits_enlisted", 420) in k
    assert not ({("recruits_enlisted", v) for v in (380, 40, 200, 180, 60)} & k)


def test_cause_breakdowns_worst_cases_and_the_injured_are_not_totals():
    title = "Công an huyện Triệu Sơn tổng kết năm 2022"
    body = ("Năm 2022, trên địa bàn huyện Triệu Sơn xảy ra 31 vụ cháy, trong đó 12 vụ cháy do chập điện, chiếm 38% tổng số vụ. "
            "Toàn huyện xảy ra 14 vụ tai nạn giao thông, làm 9 người chết, 11 người bị thương.")
    k = keys(extract_article(title, body))
    assert {("fires", 31, "38.397", "2022"), ("traffic_accidents", 14, "38.397", "2022"),
            ("traffic_deaths", 9, "38.397", "2022")} <= k
    assert not {f for f in k if f[1] in (12, 11)}


# ------------------------------------------------------------------ 4. scope
def test_national_figures_and_part_of_a_year_are_not_the_units():
    title = "Thanh Hóa: Bảo đảm trật tự an toàn giao thông"
    body = ("Cả nước có hơn 4.000 mô hình tự quản về an ninh trật tự. "
            "Trong 6 tháng đầu năm 2024, toàn tỉnh Thanh Hóa xảy ra 120 vụ tai nạn giao thông. "
            "Năm 2023, toàn tỉnh Thanh Hóa xảy ra 260 vụ tai nạn giao thông.")
    k = keys(extract_article(title, body, date(2024, 7, 10)))
    assert ("traffic_accidents", 260, "38", "2023") in k
    assert not {f for f in k if f[1] in (4000, 120)}


# ------------------------------------------------------------------ 5. periods
def test_spans_to_now_and_to_a_date():
    body = ("Từ năm 2018 đến nay, tỉnh Thanh Hóa đã bố trí 1.200 công an chính quy về xã. "
            "Từ năm 2016 đến ngày 30/6/2024, toàn tỉnh Thanh Hóa xảy ra 700 vụ cháy.")
    k = keys(extract_article("Công an chính quy về xã", body, date(2024, 8, 1)))
    assert ("regular_commune_police", 1200, "38", "2018/2024") in k
    assert ("fires", 700, "38", "2016/2024") in k


def test_a_review_of_several_years_dates_its_figures_with_the_span():
    title = "Huyện Thường Xuân sơ kết 5 năm thực hiện Luật Dân quân tự vệ, giai đoạn 2019 - 2024"
    body = "Công tác tuyển quân đạt 100% chỉ tiêu giao quân với 850 thanh niên lên đường nhập ngũ."
    k = keys(extract_article(title, body, date(2024, 9, 1)))
    assert ("recruits_enlisted", 850, "38.396", "2019/2024") in k


def test_a_headline_figure_takes_the_bodys_period():
    title = "Thanh Hóa: 3.700 thanh niên lên đường nhập ngũ"
    body = "Năm 2024, toàn tỉnh Thanh Hóa có 3.700 thanh niên lên đường nhập ngũ."
    facts = extract_article(title, body, date(2024, 2, 26))
    assert [(f.indicator, f.value, f.period) for f in facts] == [("recruits_enlisted", 3700, "2024")]
    assert facts[0].span_start > len(title)


def test_present_tense_is_the_publication_year():
    body = "Hiện toàn huyện Nông Cống duy trì 46 mô hình tự quản về an ninh trật tự."
    k = keys(extract_article("Tổng kết năm 2023", body, date(2024, 1, 15)))
    assert ("security_movement_models", 46, "38.404", "2024") in k


# ------------------------------------------------------------------ 6. the less common indicators
def test_course_trainees_by_the_articles_topic():
    title = "Khai giảng lớp bồi dưỡng kiến thức quốc phòng và an ninh cho đối tượng 4"
    body = ("Sáng 3/4/2023, Ban Chỉ huy Quân sự huyện Quảng Xương khai giảng lớp học.\n"
            "Tham gia lớp học có 135 học viên là trưởng thôn, bí thư chi bộ trên địa bàn huyện.")
    assert ("defence_education_trainees", 135, "38.406", "2023") in keys(extract_article(title, body))


def test_counts_of_units_in_an_area():
    body = ("Năm 2022, hội nghị có sự tham gia của đại biểu 24 xã, thị trấn trên địa bàn huyện Hậu Lộc "
            "và 18/18 thôn của xã Hòa Lộc có tổ an ninh.")
    k = indicators(extract_article("Hội nghị", body))
    assert ("commune_units", 24) in k and ("residential_groups", 18) in k


def test_movement_models_by_the_articles_topic_and_running_totals():
    title = "Xã Hoằng Lộc đẩy mạnh phong trào toàn dân bảo vệ an ninh Tổ quốc"
    body = ("Năm 2023, xã Hoằng Lộc đang duy trì 7 mô hình. Bên cạnh đó, xã nhân rộng 2 mô hình cấp xã. "
            "Qua đó nâng tổng số mô hình trên địa bàn xã lên 9.")
    k = indicators(extract_article(title, body))
    assert ("security_movement_models", 7) in k and ("security_movement_models", 9) in k
    assert ("security_movement_models", 2) not in k


def test_analyse_article_is_extract_and_describe_in_one_reading():
    from qpan.extract.engine import analyse_article, describe_article

    title = "Huyện Thọ Xuân tổng kết công tác quốc phòng - an ninh năm 2020, triển khai nhiệm vụ năm 2021"
    body = "Năm 2020, huyện giao 226 tân binh, đạt 100% chỉ tiêu."
    facts, profile = analyse_article(title, body, date(2020, 12, 18), url="https://baothanhhoa.vn/x.htm")
    assert [f.to_json() for f in facts] == \
        [f.to_json() for f in extract_article(title, body, date(2020, 12, 18), url="https://baothanhhoa.vn/x.htm")]
    assert profile == describe_article(title, body, date(2020, 12, 18), url="https://baothanhhoa.vn/x.htm")
    assert (profile.subject_unit_id, profile.reviewed_year) == ("38.395", 2020)

"""The classes of error issue #25 found on unseen articles: for each, a sentence of the kind
that must give its fact and one that must not. The sentences are written for these tests
(real unit names from the gazetteer, invented figures), not taken from any corpus."""
from __future__ import annotations

from datetime import date

import pytest

from qpan.extract import extract_article

PUB = date(2024, 3, 1)


def facts(body: str, title: str = "Tin địa phương", published=PUB, unit: str | None = "38") -> set[tuple]:
    return {(f.indicator, f.value, f.unit_id, f.period) for f in extract_article(title, body, published, unit)}


def indicators(body: str, title: str = "Tin địa phương", **kw) -> set[str]:
    return {f[0] for f in facts(body, title, **kw)}


# ---- 1. lists of figures by unit
def test_a_list_of_quotas_by_unit_gives_one_fact_per_unit_and_the_total():
    got = facts("Năm 2024, tỉnh được giao 900 chỉ tiêu tuyển chọn và gọi công dân nhập ngũ, trong đó: "
                "huyện Nga Sơn 120 chỉ tiêu, huyện Hậu Lộc 110 chỉ tiêu; các huyện Hoằng Hóa 200 chỉ tiêu, "
                "Thọ Xuân 180 chỉ tiêu.")
    assert ("recruitment_quota", 900, "38", "2024") in got
    for uid, v in (("38.401", 120), ("38.400", 110), ("38.399", 200), ("38.395", 180)):
        assert ("recruitment_quota", v, uid, "2024") in got


def test_a_list_whose_head_comes_last_gives_each_unit_its_figure():
    got = facts("Năm 2024, huyện Nga Sơn 132, huyện Hậu Lộc 26, huyện Hoằng Hóa 40 thanh niên lên đường nhập ngũ.")
    for uid, v in (("38.401", 132), ("38.400", 26), ("38.399", 40)):
        assert ("recruits_enlisted", v, uid, "2024") in got


@pytest.mark.parametrize("body", [
    "Năm 2024, toàn tỉnh giao 500 thanh niên nhập ngũ. Cụ thể: huyện Nga Sơn 50 thanh niên, huyện Hậu Lộc 40 thanh niên.",
    "Năm 2024, các địa phương giao quân gồm: huyện Nga Sơn: 50 tân binh; huyện Hậu Lộc: 40 tân binh.",
])
def test_list_items_in_a_sentence_of_their_own_or_after_gom(body):
    got = facts(body)
    assert {("recruits_enlisted", 50, "38.401", "2024"), ("recruits_enlisted", 40, "38.400", "2024")} <= got


def test_receiving_units_and_groups_in_a_list_are_no_unit():
    got = facts("Năm 2024, huyện Nga Sơn giao 300 tân binh, trong đó Sư đoàn 341 nhận 120 tân binh, "
                "Vùng 5 Hải quân 80 tân binh; các xã miền biển 60 tân binh.")
    assert ("recruits_enlisted", 300, "38.401", "2024") in got
    assert {f[1] for f in got} == {300}


# ---- 2. quota fulfilment in other words
@pytest.mark.parametrize("body", [
    "Năm 2024, huyện Nga Sơn có 215 công dân trúng tuyển nhập ngũ, đạt 100% kế hoạch.",
    "Năm 2024, huyện Nga Sơn hoàn thành 100% chỉ tiêu giao nhận quân.",
    "Năm 2024, huyện Nga Sơn tổ chức lễ giao quân an toàn, đạt 100%.",
    "Năm 2024, huyện Nga Sơn hoàn thành, 100% chỉ tiêu giao quân với 215 công dân.",
])
def test_quota_met_in_other_words(body):
    assert ("recruitment_quota_met", True, "38.401", "2024") in facts(body)


def test_over_the_quota_is_met_and_gives_both_figures():
    got = facts("Năm 2024, xã đã giao quân 6/5 công dân, đạt 120% chỉ tiêu giao.", unit="38.401")
    assert ("recruits_enlisted", 6, "38.401", "2024") in got
    assert ("recruitment_quota", 5, "38.401", "2024") in got
    assert ("recruitment_quota_met", True, "38.401", "2024") in got
    assert {f[1] for f in got if f[0] == "recruitment_quota_pct"} == {120}


def test_a_purpose_is_no_result():
    got = indicators("Năm 2024, huyện Nga Sơn rà soát nguồn thanh niên, nhằm tạo nguồn cho các xã giao quân đạt 100% "
                     "chỉ tiêu trên giao.")
    assert not got & {"recruitment_quota_met", "recruitment_quota_pct"}


def test_quota_met_with_the_cue_in_the_title():
    got = facts("Sáng 20/2, huyện tổ chức buổi lễ trang trọng. Huyện Nga Sơn đạt 100% chỉ tiêu trên giao.",
                title="Huyện Nga Sơn giao quân năm 2024")
    assert ("recruitment_quota_met", True, "38.401", "2024") in got


@pytest.mark.parametrize("body", [
    "Năm 2024, huyện Nga Sơn đăng ký nghĩa vụ quân sự cho công dân nam đủ 17 tuổi đạt 100%.",
    "Năm 2024, điểm giao nhận quân số 6 của huyện Nga Sơn gồm các xã ven biển.",
    # another quota in a recruitment article
    "Năm 2024, huyện Nga Sơn giao 215 thanh niên nhập ngũ. Công tác thu ngân sách đạt 100% chỉ tiêu.",
])
def test_registration_labels_and_other_quotas_are_no_recruitment_quota(body):
    assert not indicators(body) & {"recruitment_quota", "recruitment_quota_met", "recruitment_quota_pct"}


# ---- 3. police and civil forces
def test_abbreviated_regular_police():
    assert ("regular_commune_police", 45, "38.401", "2024") in facts(
        "Năm 2024, huyện Nga Sơn đã bố trí 45 CBCS công an chính quy về các xã.")


def test_force_named_before_its_figure():
    got = facts("Năm 2024, huyện Nga Sơn kiện toàn lực lượng tại cơ sở (bảo vệ dân phố 120 người; dân phòng 85 người).")
    assert ("civil_guards", 120, "38.401", "2024") in got
    assert ("civil_defense_members", 85, "38.401", "2024") in got


def test_one_total_for_several_forces_is_none_of_theirs():
    got = indicators("Năm 2024, huyện Nga Sơn có lực lượng công an viên, bảo vệ dân phố và dân phòng với tổng số 640 người.")
    assert not got & {"civil_guards", "civil_defense_members"}


def test_a_rule_per_village_is_no_count():
    assert not facts("Năm 2024, huyện Nga Sơn quy định mỗi thôn ít nhất 1 tổ dân phòng, 5 thành viên dân phòng.")


# ---- 4. implicit spans
REVIEW = "Tổng kết 10 năm thực hiện Chỉ thị về công tác quốc phòng"


def test_the_past_years_of_a_review_of_several_years_are_its_span():
    got = facts("Những năm qua, huyện Nga Sơn hằng năm hoàn thành 100% chỉ tiêu giao quân. 10 năm qua, huyện Nga Sơn "
                "đã xây dựng 25 mô hình tự quản về an ninh trật tự.", title=REVIEW, published=date(2024, 11, 20))
    assert ("recruitment_quota_met", True, "38.401", "2014/2024") in got
    assert ("security_movement_models", 25, "38.401", "2014/2024") in got


def test_every_year_outside_a_review_is_the_publication_year():
    got = facts("Huyện Nga Sơn hằng năm hoàn thành 100% chỉ tiêu giao quân.", title="Huyện Nga Sơn giao quân",
                published=date(2024, 11, 20))
    assert ("recruitment_quota_met", True, "38.401", "2024") in got


# ---- 5. commune counts in other words
@pytest.mark.parametrize("body", [
    "Năm 2024, 27 xã, phường trong toàn tỉnh đã ra mắt mô hình.",
    "Năm 2024, tỉnh có 27 xã - thị trấn.",
    "Năm 2024, 27 đơn vị xã, thị trấn trên địa bàn tỉnh tổ chức hội nghị.",
])
def test_commune_counts_in_other_words(body):
    assert ("commune_units", 27, "38", "2024") in facts(body)


def test_slash_joined_group_heads():
    assert ("residential_groups", 210, "38.401", "2024") in facts("Năm 2024, huyện Nga Sơn có 210 thôn/tổ dân phố.")


# ---- 6. groups of units are no unit
@pytest.mark.parametrize("body", [
    "Năm 2024, các huyện miền núi giao 410 thanh niên nhập ngũ.",
    "Năm 2024, 3 xã biên giới của huyện Nga Sơn giao 410 thanh niên nhập ngũ.",
    "Năm 2024, các huyện Nga Sơn, Hậu Lộc giao 410 thanh niên nhập ngũ.",
])
def test_a_group_of_units_is_no_unit(body):
    assert not {f for f in facts(body) if f[1] == 410}


def test_all_the_communes_of_a_district_are_the_district():
    got = facts("Năm 2024, các xã, thị trấn trên địa bàn huyện Nga Sơn đã giao 215 thanh niên nhập ngũ.")
    assert ("recruits_enlisted", 215, "38.401", "2024") in got


@pytest.mark.parametrize("body", [
    "Tại hội nghị, Công an huyện Nga Sơn tặng giấy khen cho 3 tập thể, 5 cá nhân của xã Nga Thủy.",
    "Dịp này, Công an huyện Nga Sơn và UBND xã Nga Thủy tặng giấy khen cho 3 tập thể, 5 cá nhân có thành tích.",
])
def test_awards_at_a_communes_event_with_the_commune_named_are_the_communes(body):
    got = facts(body, title="Xã Nga Thủy ra mắt mô hình tự quản về an ninh trật tự")
    assert {(f[0], f[1], f[2]) for f in got} >= {("awarded_collectives", 3, "38.401.16156"),
                                                   ("awarded_individuals", 5, "38.401.16156")}


def test_a_provincial_body_acting_in_a_city_gives_the_city_its_figure():
    got = facts("Năm 2024, Bộ Chỉ huy Quân sự tỉnh phối hợp với thành phố Sầm Sơn tổ chức giao 120 thanh niên nhập ngũ.")
    assert ("recruits_enlisted", 120, "38.382", "2024") in got


# ---- 7. breakdowns
def test_subgroups_of_recruits_are_not_totals():
    got = facts("Năm 2024, huyện Nga Sơn giao 250 thanh niên nhập ngũ. Trong số công dân nhập ngũ có 9 là nữ, "
                "30 thanh niên đã học lớp cảm tình Đảng.")
    assert {f[1] for f in got if f[0] == "recruits_enlisted"} == {250}


def test_a_part_whose_total_was_not_read_stays():
    got = facts("Năm 2024, huyện Nga Sơn tổ chức nhiều hoạt động, trong đó giao 250 thanh niên nhập ngũ.")
    assert ("recruits_enlisted", 250, "38.401", "2024") in got


# ---- 8. head counts vs labels
def test_a_course_head_count_is_a_count():
    got = facts("Năm 2024, huyện Nga Sơn khai giảng lớp bồi dưỡng kiến thức quốc phòng và an ninh, quân số 60 đồng chí.")
    assert ("defence_education_trainees", 60, "38.401", "2024") in got


def test_a_force_named_after_a_generic_head_is_counted_but_not_its_training():
    assert ("militia_members", 1250, "38.401", "2023") in facts("Năm 2023, huyện Nga Sơn có 1.250 đồng chí dân quân tự vệ.")
    assert "militia_members" not in indicators("Năm 2023, huyện Nga Sơn tổ chức huấn luyện cho 900 đồng chí dân quân.")


# ---- 9. rates and lumps
def test_a_rate_is_no_count_of_accidents():
    assert "traffic_accidents" not in indicators(
        "Năm 2024, trên địa bàn huyện Nga Sơn bình quân 3 ngày xảy ra 1 vụ tai nạn giao thông.")


def test_a_lump_of_collectives_and_individuals_is_neither():
    got = indicators("Năm 2024, UBND huyện Nga Sơn khen thưởng 35 tập thể, cá nhân có thành tích trong phong trào.")
    assert not got & {"awarded_collectives", "awarded_individuals"}


# ---- 10. the indicator noun before the figure
@pytest.mark.parametrize("body", [
    "Năm 2024, số vụ tai nạn giao thông trên địa bàn huyện Nga Sơn là 12, số người chết là 7.",
    "Năm 2024, tai nạn giao thông trên địa bàn huyện Nga Sơn: số vụ là 12, số người chết là 7.",
])
def test_indicator_noun_before_the_figure(body):
    assert {("traffic_accidents", 12, "38.401", "2024"), ("traffic_deaths", 7, "38.401", "2024")} <= facts(body)


# ---- 11. a coming year in a neighbouring clause
def test_a_next_year_in_a_neighbouring_clause_is_no_plan():
    got = facts("Huyện Nga Sơn giao 250 thanh niên nhập ngũ, đạt 100% chỉ tiêu; đồng thời hoàn thành đăng ký nghĩa vụ quân sự năm 2025 "
                "cho công dân đủ tuổi.", published=date(2024, 3, 1))
    assert ("recruits_enlisted", 250, "38.401", "2024") in got


def test_a_next_year_in_the_figures_own_clause_is_a_plan():
    got = facts("Năm 2025, huyện Nga Sơn phấn đấu giao 250 thanh niên nhập ngũ.", published=date(2024, 3, 1))
    assert "recruits_enlisted" not in {f[0] for f in got}


# ---- periods: an early-January report is about the year just ended
def test_an_early_january_report_is_about_the_year_just_ended():
    got = facts("Trên địa bàn huyện Nga Sơn xảy ra 6 vụ cháy, thiệt hại khoảng 1,2 tỷ đồng.", published=date(2024, 1, 9))
    assert ("fires", 6, "38.401", "2023") in got


def test_recruitment_in_january_is_the_coming_intakes():
    got = facts("Huyện Nga Sơn đã kết nạp 12 thanh niên ưu tú vào Đảng trước khi nhập ngũ.", published=date(2024, 1, 9))
    assert ("new_party_members", 12, "38.401", "2024") in got


# ---- look-alikes: the same heads for other things
@pytest.mark.parametrize("body, indicator", [
    ("Lễ giao nhận quân có sự tham dự của hơn 2.000 người dân và thân nhân tân binh tại huyện Nga Sơn.", "recruits_enlisted"),
    ("Năm 2024, huyện Nga Sơn xảy ra 2 vụ tai nạn lao động, làm 1 người chết.", "traffic_accidents"),
    ("Năm 2024, huyện Nga Sơn xảy ra 2 vụ tai nạn lao động, làm 1 người chết.", "crime_cases"),
    ("Năm 2024, 30 cán bộ công an chính quy của huyện Nga Sơn tham gia lớp tập huấn.", "regular_commune_police"),
])
def test_look_alikes_are_not_the_indicator(body, indicator):
    assert indicator not in indicators(body)

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from qpan.extract.gazetteer import default_gazetteer
from qpan.extract.normalize import normalize


@pytest.fixture(scope="module")
def gaz():
    return default_gazetteer()


def resolve(gaz, text, on=None, context=None):
    n = normalize(text)
    out = []
    for m in gaz.find_mentions(n.text, n.lower):
        u = gaz.pick(m.units, on, context)
        out.append((n.text[m.start:m.end], u.unit_id if u else None))
    return out


def test_typed_and_abbreviated_forms(gaz):
    assert resolve(gaz, "UBND huyện Thọ Xuân") == [("huyện Thọ Xuân", "38.395")]
    assert resolve(gaz, "Chủ tịch UBND TP. Sầm Sơn") == [("TP. Sầm Sơn", "38.382")]
    assert resolve(gaz, "Huyện ủy Ngọc Lặc") == [("Huyện ủy Ngọc Lặc", "38.389")]
    assert resolve(gaz, "H. Thọ Xuân") == [("H. Thọ Xuân", "38.395")]
    assert resolve(gaz, "TX Bỉm Sơn") == [("TX Bỉm Sơn", "38.381")]


def test_city_versus_province(gaz):
    assert resolve(gaz, "TP Thanh Hóa") == [("TP Thanh Hóa", "38.380")]
    assert resolve(gaz, "tỉnh Thanh Hóa") == [("tỉnh Thanh Hóa", "38")]
    # bare name of a province means the province
    assert resolve(gaz, "Thanh Hóa") == [("Thanh Hóa", "38")]


def test_tone_placement_nfd_and_no_diacritics(gaz):
    import unicodedata
    assert resolve(gaz, "TP Thanh Hoá") == [("TP Thanh Hóa", "38.380")]
    assert resolve(gaz, unicodedata.normalize("NFD", "huyện Hoằng Hoá"))[0][1] == "38.399"
    assert resolve(gaz, "huyen Tho Xuan")[0][1] == "38.395"


def test_other_provinces(gaz):
    assert resolve(gaz, "Tỉnh ủy Hải Dương") == [("Tỉnh ủy Hải Dương", "30")]
    assert resolve(gaz, "Huyện ủy Thanh Miện")[0][1] == "30.300"
    assert resolve(gaz, "Công an quận Hoàng Mai")[0][1] == "01.008"


def test_version_valid_at_date(gaz):
    # code 38.407 is huyện Tĩnh Gia until 2020, TX Nghi Sơn after
    n = normalize("thị xã Nghi Sơn")
    m = gaz.find_mentions(n.text, n.lower)[0]
    u = gaz.pick(m.units, date(2023, 1, 1))
    assert (u.unit_id, u.name, u.valid_from) == ("38.407", "Nghi Sơn", date(2020, 6, 1))
    # after the 2025 reform "xã Các Sơn" is a commune directly under the province
    assert resolve(gaz, "xã Các Sơn", date(2025, 9, 1), {"38"}) == [("xã Các Sơn", "38.16591")]
    assert resolve(gaz, "xã Các Sơn", date(2023, 9, 1), {"38"}) == [("xã Các Sơn", "38.407.16591")]


def test_ambiguous_commune_needs_context(gaz):
    assert resolve(gaz, "xã Quảng Phú", date(2023, 1, 1)) == [("xã Quảng Phú", None)]
    assert resolve(gaz, "xã Quảng Phú", date(2023, 1, 1), {"38.395"}) == [("xã Quảng Phú", "38.395.15571")]


def test_person_names_and_common_words_are_not_places(gaz):
    assert resolve(gaz, "Ban Thường vụ Thành ủy tặng Giấy khen") == []


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_never_raises(s):
    gaz = default_gazetteer()
    n = normalize(s)
    for m in gaz.find_mentions(n.text, n.lower):
        gaz.pick(m.units, None, {"38"})

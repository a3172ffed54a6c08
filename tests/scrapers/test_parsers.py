"""Template parsers on the committed sample pages (no network): seeds verbatim, chrome
stripped, dates from the page (else URL, never now), captions apart, variants, failures."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from scrapers.fetch import decode_body
from scrapers.portal_server import encode_cp1258
from scrapers.registry import Relevance, DEFAULT_KEYWORDS
from scrapers.templates import ParseError, parse_article
from scrapers.templates.baothanhhoa import deobfuscate, obfuscate
from scrapers.templates.common import VN_TZ, parse_vn_datetime
from scrapers.text import clean, unify_tones

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "fixtures" / "portal"
MANIFEST = json.loads((FIX / "manifest.json").read_text(encoding="utf-8"))
SEEDS_DIR = Path("/work/shared/seeds")
TEMPLATE = {"thoxuan": "thanhhoa_portal", "ngoclac": "thanhhoa_portal", "baothanhhoa": "baothanhhoa",
            "dangcongsan": "dangcongsan", "huonghoa": "generic"}
EXPECTED_DATES = {"000": datetime(2023, 12, 5, 11, 5, tzinfo=VN_TZ), "001": datetime(2020, 12, 18, 15, 50, 13, tzinfo=VN_TZ),
                  "002": datetime(2023, 12, 20, 16, 20, 5, tzinfo=VN_TZ), "003": datetime(2023, 3, 14, 15, 55, tzinfo=VN_TZ),
                  "004": datetime(2023, 1, 6, 16, 20, tzinfo=VN_TZ)}
CHROME = ["Cổng thông tin điện tử", "PHẤN ĐẤU", "Tin liên quan", "Thăm dò ý kiến", "Không có dữ liệu", "noData",
          "CÓ THỂ BẠN QUAN TÂM", "Ý kiến bình luận", "Họ và tên", "Xác thực", "Chịu trách nhiệm nội dung",
          "Đăng lúc", "av.jpg", "Tác giả", "ảnh minh họa", "Báo Thanh Hóa ra mắt", "Tổng Biên tập"]


def page(site, route):
    return (FIX / MANIFEST["sites"][site]["routes"][route]["file"]).read_text(encoding="utf-8")


def parse(site, route, **kw):
    return parse_article(TEMPLATE[site], page(site, route), "http://sample" + route, source="s", **kw)


@pytest.mark.parametrize("prefix", sorted(MANIFEST["seeds"]))
def test_seed_page_body_is_the_seed_text_verbatim(prefix):
    meta = MANIFEST["seeds"][prefix]
    art = parse(meta["site"], meta["path"])
    lines = (SEEDS_DIR / meta["file"]).read_text(encoding="utf-8").split("\n")
    a, b = meta["body_lines"]
    seed_paras = [clean(x) for x in lines[a:(b + 1 if b is not None else None)] if clean(x)]
    assert art.body_text.split("\n\n") == seed_paras
    assert art.title == clean(meta["title"])
    assert art.published_at == EXPECTED_DATES[prefix]
    assert art.lead == seed_paras[0]
    for chrome in CHROME:
        assert chrome not in art.body_text, chrome
    assert "100%" not in art.body_text.split("\n\n") and "date" not in art.body_text.split("\n\n")
    if meta["author"]:
        assert art.author == clean(meta["author"]).removeprefix("Tác giả:").strip()
    assert art.body_variant == ("decoded" if prefix == "004" else "html")
    if prefix != "004":
        assert art.captions and "ảnh minh họa" in art.captions[0]
        assert art.captions[0] not in art.body_text


def test_newer_layout_date_only_and_image_file_names_dropped():
    art = parse("thoxuan", "/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh/tho-xuan-ra-quan-huan-luyen-dan-quan-tu-ve-nam-2022.html")
    assert art.published_at == datetime(2022, 11, 23, tzinfo=VN_TZ)
    assert "av.jpg" not in art.body_text and art.author == "Ban CHQS huyện"


def test_date_from_url_when_the_page_has_none_and_never_now():
    html = page("ngoclac", "/portal/Pages/2023-2-14/Ngoc-Lac-giao-quan-nam-2023-a11b22.aspx").replace("Đăng lúc:", "Cập nhật")
    html = html.replace("08:15:00 14/02/2023", "")
    art = parse_article("thanhhoa_portal", html, "http://x/portal/Pages/2023-2-14/A-1.aspx", source="s")
    assert art.published_at == datetime(2023, 2, 14, tzinfo=VN_TZ)
    art = parse_article("thanhhoa_portal", html, "http://x/portal/KenhTin/A-1.aspx", source="s")
    assert art.published_at is None


def test_template_change_and_error_page_raise_parse_errors():
    with pytest.raises(ParseError) as e1:
        parse("thoxuan", "/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh/tho-xuan-dien-tap-khu-vuc-phong-thu-nam-2022.html")
    assert e1.value.reason == "title selector matched nothing"
    with pytest.raises(ParseError) as e2:
        parse("ngoclac", "/portal/Pages/2023-11-2/Ngoc-Lac-trien-khai-cong-tac-tuyen-quan-nam-2024-d44e55.aspx")
    assert e2.value.reason == "error page: no article"
    with pytest.raises(ParseError) as e3:
        parse_article("dangcongsan", "<html><body><h1 class='post-title'>Tiêu đề</h1></body></html>", "http://x/a", source="s")
    assert e3.value.reason == "body selector matched nothing"


def test_obfuscated_body_decodes_else_rss_fallback_else_error():
    route = "/bo-chqs-tinh-tong-ket-cong-tac-giao-duc-quoc-phong-va-an-ninh-175500.htm"
    with pytest.raises(ParseError) as e:
        parse("baothanhhoa", route)
    assert "not decodable" in e.value.reason
    art = parse("baothanhhoa", route, rss_item={"description": "<p>Chiều 12/1, Bộ CHQS tỉnh tổng kết.</p><p>Đoạn hai của tin.</p>"})
    assert art.body_variant == "rss" and "Chiều 12/1, Bộ CHQS tỉnh tổng kết.\n\nĐoạn hai của tin." in art.body_text
    text = "Sáng 6-1, TP Thanh Hóa tổ chức hội nghị.\nĐoạn thứ hai có chữ Việt."
    assert deobfuscate(obfuscate(text)) == text.split("\n")
    assert deobfuscate("not base64!!") is None


def test_generic_template_uses_trafilatura():
    art = parse("huonghoa", "/-/view-article/huong-hoa-tong-ket-cong-tac-quoc-phong-an-ninh-nam-2022")
    assert art.title.startswith("Hướng Hóa tổng kết") and "giao quân đạt 100% chỉ tiêu" in art.body_text
    assert art.published_at.date().isoformat() == "2023-01-11" and art.template == "generic"


def test_vietnamese_dates():
    assert parse_vn_datetime("Thứ ba, 14/03/2023 15:55") == datetime(2023, 3, 14, 15, 55, tzinfo=VN_TZ)
    assert parse_vn_datetime("Đăng lúc: 15:50:13 18/12/2020 (GMT+7)") == datetime(2020, 12, 18, 15, 50, 13, tzinfo=VN_TZ)
    assert parse_vn_datetime("Đăng lúc: 23/11/2022 (GMT+7)") == datetime(2022, 11, 23, tzinfo=VN_TZ)
    assert parse_vn_datetime("không có ngày") is None


def test_tone_placement_and_nfc():
    import unicodedata

    assert unify_tones("Thanh Hoá") == "Thanh Hóa" and unify_tones("Huyện uỷ") == "Huyện ủy"
    assert unify_tones("quý hoàng khuya thuyền") == "quý hoàng khuya thuyền"
    assert clean(unicodedata.normalize("NFD", "sức khoẻ")) == "sức khỏe"


def test_relevance_keeps_diacritics_and_word_boundaries():
    rel = Relevance(list(DEFAULT_KEYWORDS))
    assert rel.decide("Ngọc Lặc chủ động phòng, chống bão số 3")[0]
    assert not rel.decide("Ngọc Lặc tập huấn nghiệp vụ báo chí năm 2023")[0]
    assert not rel.decide("Báo Thanh Hóa ra mắt ấn phẩm Xuân")[0]
    assert rel.decide("Tổng kết công tác QP – AN năm 2023")[0]
    assert rel.decide("x", "Bảo đảm ANTT dịp Tết")[0]
    assert not rel.decide("Hội thi văn nghệ quần chúng")[0]
    assert not rel.decide("Công tác anninh")[0]  # no word boundary, no match


def test_encoding_fallback_cp1258_declared_utf8_and_vice_versa():
    text = "<html><head><meta charset=\"utf-8\"></head><body>Ngọc Lặc tổng kết công tác Quốc phòng – An ninh, sức khỏe</body></html>"
    assert decode_body(encode_cp1258(text), "text/html; charset=utf-8") == text
    assert decode_body(text.encode("utf-8"), "text/html; charset=windows-1258") == text

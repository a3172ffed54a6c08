"""A small, realistic sample of raw articles and indicator mentions (Thanh Hóa, 2019-2024)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from qpan.extract.engine import describe_article

EXTRACTOR = "rules-0.1"


@dataclass
class Article:
    key: str
    source: str
    title: str
    published_at: str  # ISO, local time +07
    source_unit_id: str | None
    body: str
    synthetic: bool = False
    facts: list[tuple] = field(default_factory=list)  # (indicator, value, unit_id, period, qualifiers, evidence)


UBND_QPAN = {"awarded_by": "Chủ tịch UBND", "field": "QP-AN"}

INITIAL = [
    Article(
        "thoxuan-2023", "sample_thoxuan",
        "Thọ Xuân tổng kết công tác quốc phòng - an ninh năm 2023", "2023-12-20T09:00:00+07:00", "38.395",
        "Sáng 20/12, huyện Thọ Xuân tổ chức hội nghị tổng kết công tác QP-AN năm 2023. Huyện đã giao "
        "226 công dân nhập ngũ, đạt 100% chỉ tiêu; không để hình thành điểm nóng.",
        facts=[
            ("recruits_enlisted", 226, "38.395", "2023", {}, "giao 226 công dân nhập ngũ"),
            ("recruitment_quota", 226, "38.395", "2023", {}, "chỉ tiêu 226"),
            ("recruitment_quota_pct", 100, "38.395", "2023", {}, "đạt 100% chỉ tiêu"),
            ("recruitment_quota_met", 1, "38.395", "2023", {}, "đạt 100% chỉ tiêu"),
            ("security_hotspots", 0, "38.395", "2023", {}, "không để hình thành điểm nóng"),
            ("awarded_collectives", 8, "38.395", "2023", UBND_QPAN, "tặng Giấy khen cho 8 tập thể"),
            ("awarded_individuals", 12, "38.395", "2023", UBND_QPAN, "và 12 cá nhân"),
            ("awarded_collectives", 5, "38.395", "2023",
             {"awarded_by": "Ban Thường vụ Huyện ủy", "field": "XDCS&THQCDC"}, "Huyện ủy tặng 5 tập thể"),
        ],
    ),
    Article(
        "btt-giaoquan-2023", "sample_baothanhhoa",
        "Thanh Hóa: hơn 3.500 thanh niên lên đường nhập ngũ", "2023-02-15T08:00:00+07:00", "38",
        "Toàn tỉnh có 3.500 công dân nhập ngũ. Huyện Thọ Xuân giao 226 công dân; huyện Ngọc Lặc 180.",
        facts=[
            ("recruits_enlisted", 3500, "38", "2023", {}, "Toàn tỉnh có 3.500 công dân nhập ngũ"),
            ("recruits_enlisted", 226, "38.395", "2023", {}, "Huyện Thọ Xuân giao 226 công dân"),
            ("recruits_enlisted", 180, "38.389", "2023", {}, "huyện Ngọc Lặc 180"),
        ],
    ),
    Article(
        "ngoclac-2023", "sample_ngoclac",
        "Ngọc Lặc tổng kết công tác Quốc phòng – An ninh năm 2023", "2024-01-10T10:00:00+07:00", "38.389",
        "UBND huyện Ngọc Lặc tổng kết công tác quốc phòng - an ninh năm 2023: hoàn thành chỉ tiêu "
        "tuyển chọn, gọi công dân nhập ngũ với 185 tân binh; tổ chức 3 cuộc diễn tập.",
        facts=[
            ("recruitment_quota_met", 1, "38.389", "2023", {}, "hoàn thành chỉ tiêu tuyển chọn"),
            ("recruits_enlisted", 185, "38.389", "2023", {}, "185 tân binh"),
            ("drills_held", 3, "38.389", "2023", {}, "tổ chức 3 cuộc diễn tập"),
            ("awarded_collectives", 14, "38.389", "2023",
             {"awarded_by": "Huyện ủy, UBND huyện", "field": "QP-AN, XDCS&THQCDC"}, "khen thưởng 14 tập thể"),
        ],
    ),
    Article(
        "tpth-2023", "thanhphothanhhoa",
        "TP Thanh Hóa tổng kết công tác quốc phòng - an ninh", "2023-12-05T09:00:00+07:00", "38.380",
        "Sáng 5/12, TP Thanh Hóa tổng kết công tác QP-AN năm 2023: giao quân đạt 95% chỉ tiêu.",
        facts=[
            ("recruitment_quota_pct", 95, "38.380", "2023", {}, "đạt 95% chỉ tiêu"),
            ("recruitment_quota_met", 0, "38.380", "2023", {}, "đạt 95% chỉ tiêu"),
            ("crime_cases", 120, "38.380", "2023", {}, "phát hiện 120 vụ phạm tội"),
        ],
    ),
    Article(
        "dongson-2023", "dongson",
        "Đông Sơn: 150 thanh niên lên đường nhập ngũ", "2023-02-14T07:30:00+07:00", "38.405",
        "Huyện Đông Sơn có 150 công dân nhập ngũ năm 2023.",
        facts=[("recruits_enlisted", 150, "38.405", "2023", {}, "150 công dân nhập ngũ")],
    ),
    Article(
        "nghison-2019", "nghison",
        "Tĩnh Gia tổng kết công tác quân sự, quốc phòng năm 2019", "2020-01-08T09:00:00+07:00", "38.407",
        "Huyện Tĩnh Gia tổng kết công tác quân sự, quốc phòng năm 2019; tổ chức 2 cuộc diễn tập.",
        facts=[("drills_held", 2, "38.407", "2019", {}, "tổ chức 2 cuộc diễn tập")],
    ),
    Article(
        "dcs-haiduong", "sample_dangcongsan",
        "Nâng cao hiệu quả công tác lãnh đạo của Đảng với phong trào toàn dân bảo vệ ANTQ",
        "2023-03-14T15:55:00+07:00", None,
        "(ĐCSVN) - Hải Dương có 1.000 công an chính quy xã; giai đoạn 2019 - 2022 có 7.173 mô hình.",
        facts=[
            ("regular_commune_police", 1000, "30", "2023", {}, "1.000 công an chính quy"),
            ("security_movement_models", 7173, "30", "2019/2022", {}, "7.173 mô hình"),
        ],
    ),
    Article(
        "hatrung-synthetic", "hatrung",
        "Hà Trung tổng kết công tác quốc phòng năm 2023 (synthetic)", "2023-12-01T09:00:00+07:00", "38.392",
        "Synthetic article: Hà Trung hoàn thành chỉ tiêu giao quân.", synthetic=True,
        facts=[("recruitment_quota_met", 1, "38.392", "2023", {}, "hoàn thành chỉ tiêu giao quân")],
    ),
    Article(
        "muonglat-news-2023", "muonglat",
        "Mường Lát ra quân làm đường giao thông nông thôn", "2023-05-02T09:00:00+07:00", "38.384",
        "Bài viết không có số liệu quốc phòng.",
    ),
]

# The second batch: a third source confirms Ngọc Lặc's 185 and Bỉm Sơn reports its quota met.
NEW = [
    Article(
        "btt-tongket-2023", "sample_baothanhhoa",
        "Các địa phương hoàn thành chỉ tiêu giao quân năm 2023", "2024-01-20T08:00:00+07:00", "38",
        "Ngọc Lặc giao 185 công dân; thị xã Bỉm Sơn hoàn thành 100% chỉ tiêu giao quân năm 2023.",
        facts=[
            ("recruits_enlisted", 185, "38.389", "2023", {}, "Ngọc Lặc giao 185 công dân"),
            ("recruitment_quota_met", 1, "38.381", "2023", {}, "Bỉm Sơn hoàn thành 100% chỉ tiêu"),
        ],
    ),
]


def insert(conn: psycopg.Connection, articles: list[Article], age: str = "0 days") -> dict[str, int]:
    """Insert articles and their mentions; loaded_at/extracted_at are set `age` in the past.
    Like the extraction step (qpan.ingest.extraction.extract_pending), each article's extraction row
    carries its profile as the extractor reads it (describe_article: subject unit, reviewed
    year), which the coverage mart uses. Returns article ids by key."""
    ids = {}
    for art in articles:
        url = f"https://example.test/{art.source}/{art.key}.html"
        profile = describe_article(art.title, art.body, published_at=datetime.fromisoformat(art.published_at),
                                   source_unit_id=art.source_unit_id, url=url)
        row = conn.execute(
            """insert into raw.articles (source, url, title, published_at, body_text, source_unit_id,
                   template, content_hash, synthetic, parsed_at, loaded_at)
               values (%s, %s, %s, %s, %s, %s, 'sample', md5(%s), %s,
                       now() - %s::interval, now() - %s::interval)
               returning article_id""",
            (art.source, url, art.title, art.published_at,
             art.body, art.source_unit_id, art.body, art.synthetic, age, age),
        ).fetchone()
        ids[art.key] = row[0]
        conn.execute(
            """insert into raw.article_extractions (article_id, extractor_version, n_facts, subject_unit_id,
                   reviewed_year, profiled_at, extracted_at)
               values (%s, %s, %s, %s, %s, now() - %s::interval, now() - %s::interval)""",
            (row[0], EXTRACTOR, len(art.facts), profile.subject_unit_id, profile.reviewed_year, age, age))
        for pos, (indicator, value, unit_id, period, qualifiers, evidence) in enumerate(art.facts):
            value_type = "boolean" if indicator == "recruitment_quota_met" else "number"
            conn.execute(
                """insert into raw.indicator_mentions (article_id, extractor_version, indicator, value,
                       value_type, comparator, unit_id, period, qualifiers, evidence, span_start, span_end,
                       confidence, extracted_at)
                   values (%s, %s, %s, %s, %s, '=', %s, %s, %s, %s, %s, %s, 0.9, now() - %s::interval)""",
                (row[0], EXTRACTOR, indicator, value, value_type, unit_id, period, json.dumps(qualifiers,
                 ensure_ascii=False), evidence, pos * 100, pos * 100 + len(evidence), age),
            )
    return ids

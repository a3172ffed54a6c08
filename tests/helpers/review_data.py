"""Three articles with real evidence spans (the text the extractor read), loaded as the current
extractor's output, so a qpan_transform run through Airflow does not re-extract them."""
from __future__ import annotations

import json
from datetime import datetime

from qpan.extract import EXTRACTOR_VERSION
from qpan.extract.engine import describe_article

ARTICLES = {
    "thoxuan": dict(
        url="https://thoxuan.example.test/tong-ket-qp-an-2023.html", source="sample_thoxuan", unit="38.395",
        published="2023-12-20T09:00:00+07:00",
        title="Thọ Xuân tổng kết công tác quốc phòng - an ninh năm 2023",
        body=("Sáng 20/12, huyện Thọ Xuân tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm 2023. "
              "Huyện đã giao 226 công dân nhập ngũ, đạt 100% chỉ tiêu. Lực lượng dân quân tự vệ có 1.200 "
              "đồng chí được huấn luyện. Trong năm, tổ chức 120 lượt khám sức khỏe nghĩa vụ quân sự."),
        facts=[("recruits_enlisted", 226, "2023", "giao 226 công dân nhập ngũ"),
               ("recruitment_quota_pct", 100, "2023", "đạt 100% chỉ tiêu"),
               # the extractor's mistake: a health-check count read as drills
               ("drills_held", 120, "2023", "tổ chức 120 lượt khám sức khỏe")]),
    "ngoclac": dict(
        url="https://ngoclac.example.test/tong-ket-2023.html", source="sample_ngoclac", unit="38.389",
        published="2024-01-10T10:00:00+07:00",
        title="Ngọc Lặc tổng kết công tác Quốc phòng – An ninh năm 2023",
        body=("UBND huyện Ngọc Lặc tổng kết công tác quốc phòng - an ninh năm 2023: hoàn thành chỉ tiêu tuyển "
              "chọn, gọi công dân nhập ngũ với 185 tân binh; tổ chức 3 cuộc diễn tập chiến đấu trị an."),
        facts=[("recruits_enlisted", 185, "2023", "185 tân binh"),
               ("drills_held", 3, "2023", "tổ chức 3 cuộc diễn tập")]),
    "province": dict(
        url="https://baothanhhoa.example.test/giao-quan-2023.html", source="sample_baothanhhoa", unit="38",
        published="2023-02-15T08:00:00+07:00",
        title="Thanh Hóa: hơn 3.500 thanh niên lên đường nhập ngũ",
        body=("Toàn tỉnh có 3.500 công dân nhập ngũ trong đợt giao quân năm 2023. Huyện Thọ Xuân giao 226 "
              "công dân; huyện Ngọc Lặc giao 180 công dân, đều hoàn thành chỉ tiêu được giao."),
        facts=[("recruits_enlisted", 3500, "2023", "3.500 công dân nhập ngũ", "38"),
               ("recruits_enlisted", 180, "2023", "huyện Ngọc Lặc giao 180 công dân", "38.389")]),
}


def span(article: dict, evidence: str) -> tuple[int, int]:
    text = article["title"] + "\n" + article["body"]
    start = text.index(evidence)
    return start, start + len(evidence)


def load(conn, version: str = EXTRACTOR_VERSION, skip: tuple[str, ...] = ()) -> None:
    """The articles and their mentions (as extractor `version`); `skip`: evidence the extractor no
    longer finds (a re-extraction that drops a mention)."""
    for art in ARTICLES.values():
        published = datetime.fromisoformat(art["published"])
        article_id = conn.execute(
            """insert into raw.articles (source, url, title, published_at, body_text, source_unit_id, template,
                   content_hash) values (%s, %s, %s, %s, %s, %s, 'sample', md5(%s))
               on conflict (url) do update set loaded_at = now() returning article_id""",
            (art["source"], art["url"], art["title"], published, art["body"], art["unit"], art["body"])).fetchone()[0]
        extract(conn, article_id, art, version, skip)


def extract(conn, article_id: int, art: dict, version: str, skip: tuple[str, ...] = ()) -> None:
    profile = describe_article(art["title"], art["body"], published_at=datetime.fromisoformat(art["published"]),
                               source_unit_id=art["unit"], url=art["url"])
    conn.execute("delete from raw.indicator_mentions where article_id = %s", (article_id,))
    facts = [f for f in art["facts"] if f[3] not in skip]
    conn.execute(
        """insert into raw.article_extractions (article_id, extractor_version, n_facts, subject_unit_id,
               reviewed_year, profiled_at, extracted_at) values (%s, %s, %s, %s, %s, now(), now())
           on conflict (article_id) do update set extractor_version = excluded.extractor_version,
               n_facts = excluded.n_facts, profiled_at = now(), extracted_at = now()""",
        (article_id, version, len(facts), profile.subject_unit_id, profile.reviewed_year))
    for indicator, value, period, evidence, *unit in facts:
        start, end = span(art, evidence)
        conn.execute(
            """insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type,
                   comparator, unit_id, period, qualifiers, evidence, span_start, span_end, confidence)
               values (%s, %s, %s, %s, 'number', '=', %s, %s, %s, %s, %s, %s, %s)""",
            (article_id, version, indicator, value, unit[0] if unit else art["unit"], period, json.dumps({}),
             evidence, start, end, 0.6 if indicator == "drills_held" else 0.9))


def key(name: str, indicator: str, evidence: str) -> str:
    from qpan.review.catalog import review_key

    art = ARTICLES[name]
    return review_key(art["url"], indicator, *span(art, evidence))

"""Units across the 1 July 2025 reform (issue 29), published the real way (landing gate, dbt
build, candidate gate, publish) and asked as `qpan_analyst`:

- the lineage of the divided Thanh Hóa communes (Resolution 1686/NQ-UBTVQH15) is partial;
- mart_unit_year has rows at every level, post-reform communes included;
- mart_former_district_year sums only the new communes wholly inside a former district and
  says when the sum is incomplete, so a district's 2024 figure can sit beside its 2026 one.

Figures are hand-made mentions (as the extractor lands them) in articles written here.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest

from qpan.core import config, db
from qpan.gate import validate as gate
from qpan.gate import publish
from qpan.transform import warehouse
from qpan.extract import EXTRACTOR_VERSION
from qpan.extract.engine import describe_article

pytestmark = pytest.mark.slow

# (key, source unit, title, published, [(indicator, value, comparator, unit, period)])
ARTICLES = [
    # Vĩnh Lộc (38.393) before the reform, and its three new communes, all wholly inside it
    ("vinhloc-2024", "38.393", "Huyện Vĩnh Lộc giao 120 công dân nhập ngũ năm 2024", "2024-02-20T09:00:00+07:00",
     [("recruits_enlisted", 120, "=", "38.393", "2024")]),
    ("vinhloc-xa-2026", "38", "Các xã Vĩnh Lộc, Tây Đô, Biện Thượng giao quân năm 2026", "2026-02-25T09:00:00+07:00",
     [("recruits_enlisted", 40, "=", "38.15349", "2026"), ("recruits_enlisted", 35, "=", "38.15361", "2026"),
      ("recruits_enlisted", 30, ">", "38.15382", "2026")]),
    # Hà Trung (38.392): xã Hà Trung (new, wholly inside) reports; xã Hà Long does not; phường
    # Bỉm Sơn took xã Hà Vinh but lies mostly outside: its figure must never be added
    ("hatrung-2024", "38.392", "Huyện Hà Trung giao 140 công dân nhập ngũ năm 2024", "2024-02-21T09:00:00+07:00",
     [("recruits_enlisted", 140, "=", "38.392", "2024")]),
    ("hatrung-xa-2026", "38", "Xã Hà Trung và phường Bỉm Sơn giao quân năm 2026", "2026-02-26T09:00:00+07:00",
     [("recruits_enlisted", 45, "=", "38.15271", "2026"), ("recruits_enlisted", 60, "=", "38.14812", "2026")]),
]


def _load(conn, key, unit_id, title, published, facts):
    url = f"https://portal.test/reform/{key}"
    body = f"{title}. Lễ giao nhận quân diễn ra nhanh gọn, an toàn, đúng quy định. " + " ".join(
        f"{unit} {value}" for _, value, _, unit, _ in facts)
    article_id = conn.execute(
        "insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id) "
        "values ('test_portal', %s, %s, %s, %s, md5(%s), %s) returning article_id",
        (url, title, published, body, url, unit_id)).fetchone()[0]
    for pos, (indicator, value, comparator, unit, period) in enumerate(facts):
        evidence = f"{unit} {value}"
        conn.execute(
            "insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, "
            "comparator, unit_id, period, qualifiers, evidence, span_start, span_end) "
            "values (%s, %s, %s, %s, 'number', %s, %s, %s, '{}', %s, %s, %s)",
            (article_id, EXTRACTOR_VERSION, indicator, value, comparator, unit, period, evidence,
             pos * 100, pos * 100 + len(evidence)))
    profile = describe_article(title, body, published_at=datetime.fromisoformat(published), source_unit_id=unit_id,
                               url=url)
    conn.execute(
        "insert into raw.article_extractions (article_id, extractor_version, n_facts, subject_unit_id, reviewed_year, "
        "profiled_at) values (%s, %s, %s, %s, %s, now())",
        (article_id, EXTRACTOR_VERSION, len(facts), profile.subject_unit_id, profile.reviewed_year))


@pytest.fixture(scope="module")
def published(warehouse_url):
    with db.connect(autocommit=True) as conn:
        for article in ARTICLES:
            _load(conn, *article)
    gate.run_landing_gate("issue29")
    warehouse.build()
    results = gate.run_candidate_gate("issue29")
    publish.publish("issue29")
    return results


def _analyst():
    return psycopg.connect(config.database_url("qpan_analyst"), autocommit=True, connect_timeout=10)


def test_the_thanh_hoa_divided_communes_are_partial_in_the_lineage(published):
    with _analyst() as conn:
        rows = conn.execute(
            "select old_unit_id, new_unit_id, relation, is_new_within_old from marts.dim_admin_unit_lineage "
            "where old_unit_id in ('38.392.15271', '38.392.15328', '38.398.15772') "
            "order by old_unit_id, new_unit_id").fetchall()
        successors = dict(conn.execute(
            "select unit_id, successor_id from marts.dim_admin_unit "
            "where unit_id in ('38.392.15271', '38.392.15304', '38.393')").fetchall())
    assert rows == [
        # thị trấn Hà Trung, xã Hà Bình: between xã Hà Trung and xã Hoạt Giang
        ("38.392.15271", "38.15271", "partial", False), ("38.392.15271", "38.15286", "partial", False),
        ("38.392.15328", "38.15271", "partial", False), ("38.392.15328", "38.15286", "partial", False),
        # thị trấn Thiệu Hóa: among xã Thiệu Hóa, Thiệu Quang, Thiệu Trung
        ("38.398.15772", "38.15772", "partial", False), ("38.398.15772", "38.15796", "partial", False),
        ("38.398.15772", "38.15835", "partial", False),
    ]
    # one whole successor only: xã Hà Ngọc went whole into xã Hà Trung; the divided town and
    # the district (spread over several communes) have none
    assert successors == {"38.392.15271": None, "38.392.15304": "38.15271", "38.393": None}


def test_a_district_maps_to_the_new_communes_covering_its_communes(published):
    with _analyst() as conn:
        rows = conn.execute(
            "select new_unit_id, new_unit_full_name, relation, is_new_within_old from marts.dim_admin_unit_lineage "
            "where old_unit_id = '38.392' order by new_unit_id").fetchall()
    assert ("38.14812", "phường Bỉm Sơn", "partial", False) in rows  # took xã Hà Vinh, lies mostly outside
    assert ("38.15271", "xã Hà Trung", "partial", True) in rows
    assert len(rows) == 6 and sum(1 for r in rows if r[3]) == 5


def test_mart_unit_year_has_every_level_before_and_after_the_reform(published):
    with _analyst() as conn:
        rows = dict(conn.execute(
            "select unit_id || '/' || year, level || ' ' || unit_full_name || ' ' || recruits_enlisted "
            "|| recruits_enlisted_comparator from marts.mart_unit_year "
            "where unit_id in ('38.393', '38.15349', '38.15382', '38.14812') and recruits_enlisted is not null"
        ).fetchall())
    assert rows == {
        "38.393/2024": "district huyện Vĩnh Lộc 120=",
        "38.15349/2026": "commune xã Vĩnh Lộc 40=",
        "38.15382/2026": "commune xã Biện Thượng 30>",
        "38.14812/2026": "commune phường Bỉm Sơn 60=",
    }


def test_a_former_districts_2024_figure_beside_its_communes_2026_sum(published):
    """The README question: each former district's 2024 recruits beside the 2026 sum of the new
    communes wholly inside it, marked incomplete where it is."""
    with _analyst() as conn:
        rows = conn.execute("""
            select d.unit_id, d.recruits_enlisted as recruits_2024, f.value as communes_2026, f.comparator,
                   f.n_communes_reporting, f.n_communes_within, f.communes_partly_inside, f.is_complete
            from marts.mart_district_year d
            join marts.mart_former_district_year f
              on f.district_unit_id = d.unit_id and f.year = 2026 and f.indicator_code = 'recruits_enlisted'
            where d.year = 2024 order by d.unit_id""").fetchall()
    assert rows == [
        # TX Bỉm Sơn (a coverage row in 2024, no figure): its one reporting new commune, phường
        # Bỉm Sơn, also took xã Hà Vinh of Hà Trung: never summed, so no value
        ("38.381", None, None, None, 0, 1, ["38.14812"], False),
        # Hà Trung: only xã Hà Trung (45) is summed; phường Bỉm Sơn (60) lies partly outside
        ("38.392", Decimal(140), Decimal(45), "=", 1, 5, ["38.14812"], False),
        # Vĩnh Lộc: its three new communes all reported; one of them "hơn 30": a lower bound
        ("38.393", Decimal(120), Decimal(105), ">", 3, 3, [], True),
    ]


NEW_SUITES = ("candidate__mart_unit_year", "candidate__dim_admin_unit_lineage", "candidate__lineage_divided_as_whole",
              "candidate__mart_former_district_year", "candidate__former_district_overstated")


def test_the_candidate_gate_validated_the_new_marts(published):
    with db.connect() as conn:
        rows = dict(conn.execute(
            "select suite, bool_and(success) from audit.validation_results where run_id = 'issue29' "
            "and suite = any(%s) group by suite", (list(NEW_SUITES),)).fetchall())
    assert rows == dict.fromkeys(NEW_SUITES, True)


@pytest.mark.parametrize("tamper", [
    "update {c}.mart_former_district_year set is_complete = true where district_unit_id = '38.392'",
    "update {c}.mart_former_district_year set communes_summed = communes_summed || communes_partly_inside "
    "where district_unit_id = '38.392'",
])
def test_the_gate_query_finds_a_former_district_sum_said_complete_or_adding_a_partly_inside_commune(published, tamper):
    """What candidate__former_district_overstated validates (0 rows expected): dbt's view of the
    rule (check_former_district_overstated), here over the published mart tampered in a
    transaction that is rolled back."""
    with db.connect() as conn:
        assert conn.execute("select * from marts.check_former_district_overstated").fetchall() == []
        conn.execute(tamper.format(c="marts"))
        found = conn.execute("select * from marts.check_former_district_overstated").fetchall()
        conn.rollback()
    assert len(found) == 1

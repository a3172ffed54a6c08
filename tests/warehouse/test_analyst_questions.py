"""Marts that never mislead (issue 16): each defect is stated as the analyst's question, asked
in SQL as `qpan_analyst` against marts published the real way (extraction step, landing gate,
dbt build, candidate gate, publish), with its right answer on data loaded here.

- Real-data-shaped reviews ("tổng kết … năm X, triển khai nhiệm vụ năm X+1", published in
  December of X or January of X+1, one of them by the provincial newspaper) go through the
  real extractor (qpan.ingest.extraction.extract_pending), which stores each article's subject unit
  and reviewed year.
- Bounds and partial sums are hand-made mentions (the extractor's comparators as they land).
"""
from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime
from decimal import Decimal

import psycopg
import pytest

from qpan.core import config, db
from qpan.gate import validate as gate
from qpan.ingest import extraction as pipeline
from qpan.gate import publish
from qpan.report import page as report
from qpan.transform import warehouse
from qpan.extract import EXTRACTOR_VERSION
from qpan.extract.engine import describe_article

pytestmark = pytest.mark.slow

# -- real-data-shaped year-end reviews, through the real extractor ----------------------------
REVIEWS = [
    # Thọ Xuân reviews 2022 in December 2022 (its own portal)
    ("thoxuan", "https://thoxuan.thanhhoa.gov.vn/tin-tuc/tong-ket-qp-an-2022", "38.395",
     "Hội nghị tổng kết công tác quốc phòng - an ninh năm 2022, triển khai nhiệm vụ năm 2023",
     "Sáng 16/12, Huyện ủy Thọ Xuân tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm 2022, "
     "triển khai nhiệm vụ năm 2023. Năm 2022, huyện Thọ Xuân đã giao 230 công dân nhập ngũ, đạt 100% chỉ "
     "tiêu; tổ chức 2 cuộc diễn tập chiến đấu phòng thủ. Năm 2023, huyện phấn đấu giao 240 công dân nhập ngũ.",
     "2022-12-16T09:00:00+07:00"),
    # Ngọc Lặc reviews 2022 in January 2023 (its own portal)
    ("ngoclac", "https://ngoclac.thanhhoa.gov.vn/tin-tuc/tong-ket-qp-an-2022", "38.389",
     "Ngọc Lặc tổng kết công tác quốc phòng - an ninh năm 2022, triển khai nhiệm vụ năm 2023",
     "Sáng 10/1, UBND huyện Ngọc Lặc tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm 2022, "
     "triển khai nhiệm vụ năm 2023. Năm 2022, huyện Ngọc Lặc tổ chức 3 cuộc diễn tập; giao 190 công dân "
     "nhập ngũ, đạt 100% chỉ tiêu.",
     "2023-01-10T10:00:00+07:00"),
    # TP Thanh Hóa's 2023 review, published by the provincial newspaper (its source speaks for 38)
    ("baothanhhoa", "https://baothanhhoa.vn/quoc-phong-an-ninh/tp-thanh-hoa-tong-ket-qp-an-2023", "38",
     "TP Thanh Hóa tổng kết công tác quốc phòng - an ninh năm 2023, triển khai nhiệm vụ năm 2024",
     "Sáng 5/12, Thành ủy TP Thanh Hóa tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm 2023, "
     "triển khai nhiệm vụ năm 2024. Năm 2023, thành phố đã giao 350 công dân nhập ngũ, đạt 100% chỉ tiêu; "
     "phát hiện 120 vụ phạm tội.",
     "2023-12-05T09:00:00+07:00"),
]

# -- hand-made mentions: (indicator, value, comparator, unit_id, period, qualifiers) -----------
AWARD_UBND = {"awarded_by": "Chủ tịch UBND", "field": "QP-AN"}
AWARD_HU = {"awarded_by": "Ban Thường vụ Huyện ủy", "field": "QP-AN"}
BOUNDS = [
    # Mường Lát 2023: "hơn 1.000 bảo vệ dân phố", "hơn 4,6 tỷ đồng"; awards 12 + "hơn 20" individuals
    ("muonglat", "38.384", "Mường Lát tổng kết phong trào toàn dân bảo vệ ANTQ năm 2023", "2023-12-10T09:00:00+07:00", [
        ("civil_guards", 1000, ">", "38.384", "2023", {}),
        ("security_movement_budget_vnd", 4_600_000_000, ">", "38.384", "2023", {}),
        ("awarded_individuals", 12, "=", "38.384", "2023", AWARD_UBND),
        ("awarded_individuals", 20, ">", "38.384", "2023", AWARD_HU),
        ("awarded_collectives", 5, "=", "38.384", "2023", AWARD_UBND),
        ("security_hotspots", 0, "=", "38.384", "2023", {}),
    ]),
    # the province's own figure, a lower bound: "toàn tỉnh có hơn 11.000 bảo vệ dân phố"
    ("province", "38", "Thanh Hóa: hơn 11.000 bảo vệ dân phố", "2023-12-20T09:00:00+07:00", [
        ("civil_guards", 11000, ">", "38", "2023", {}),
    ]),
]


def _districts_of_thanh_hoa(year: int) -> list[str]:
    """Every district-level unit of Thanh Hóa in the year, from the gazetteer seed."""
    out = set()
    with open(config.REPO_ROOT / "dbt_project" / "seeds" / "admin_units.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["level"] != "district" or row["parent_id"] != "38":
                continue
            start = date.fromisoformat(row["valid_from"]) if row["valid_from"] else date.min
            end = date.fromisoformat(row["valid_to"]) if row["valid_to"] else date.max
            if start <= date(year, 12, 31) and end >= date(year, 1, 1):
                out.add(row["unit_id"])
    return sorted(out)


DISTRICTS_2021 = _districts_of_thanh_hoa(2021)
# drills held in 2021: every district reports (one of them "hơn 3"): the province's sum is complete
DRILLS_2021 = {unit: 1 + i % 3 for i, unit in enumerate(DISTRICTS_2021)}
# recruits enlisted in 2020: only Thọ Xuân reports (226): a partial sum, never the province's figure
PARTIAL = [("thoxuan-2020", "38.395", "Thọ Xuân giao 226 công dân nhập ngũ năm 2020", "2020-02-20T09:00:00+07:00", [
    ("recruits_enlisted", 226, "=", "38.395", "2020", {}),
])]


def _load(conn, key: str, unit_id: str, title: str, published: str, facts: list[tuple], source: str = "test_portal"):
    """An article with its mentions and its extraction row (profile included), as the extraction
    step leaves them: extract_pending then has nothing to do for it."""
    url = f"https://portal.test/{key}"
    body = (f"{title}. Tình hình an ninh chính trị, trật tự an toàn xã hội trên địa bàn ổn định. "
            + " ".join(f"{ind} {val}" for ind, val, *_ in facts))
    article_id = conn.execute(
        "insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id) "
        "values (%s, %s, %s, %s, %s, md5(%s), %s) returning article_id",
        (source, url, title, published, body, url, unit_id)).fetchone()[0]
    for pos, (indicator, value, comparator, unit, period, qualifiers) in enumerate(facts):
        evidence = f"{indicator} {value}"
        conn.execute(
            "insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, "
            "comparator, unit_id, period, qualifiers, evidence, span_start, span_end) "
            "values (%s, %s, %s, %s, 'number', %s, %s, %s, %s, %s, %s, %s)",
            (article_id, EXTRACTOR_VERSION, indicator, value, comparator, unit, period,
             json.dumps(qualifiers, ensure_ascii=False), evidence, pos * 100, pos * 100 + len(evidence)))
    profile = describe_article(title, body, published_at=datetime.fromisoformat(published), source_unit_id=unit_id,
                               url=url)
    conn.execute(
        "insert into raw.article_extractions (article_id, extractor_version, n_facts, subject_unit_id, reviewed_year, "
        "profiled_at) values (%s, %s, %s, %s, %s, now())",
        (article_id, EXTRACTOR_VERSION, len(facts), profile.subject_unit_id, profile.reviewed_year))
    return article_id


def _analyst():
    return psycopg.connect(config.database_url("qpan_analyst"), autocommit=True, connect_timeout=10)


def _ask(sql: str, params: tuple = ()) -> list[tuple]:
    with _analyst() as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def published(warehouse_url):
    with db.connect(autocommit=True) as conn:
        for source, url, unit_id, title, body, published_at in REVIEWS:
            conn.execute(
                "insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id) "
                "values (%s, %s, %s, %s, %s, md5(%s), %s)", (source, url, title, published_at, body, body, unit_id))
        for key, unit_id, title, published_at, facts in BOUNDS + PARTIAL:
            _load(conn, key, unit_id, title, published_at, facts)
        drills = [("drills_held", n, ">" if unit == "38.399" else "=", unit, "2021", {})
                  for unit, n in DRILLS_2021.items()]
        _load(conn, "drills-2021", "38", "Các huyện tổ chức diễn tập năm 2021", "2021-12-28T09:00:00+07:00", drills)
    stats = pipeline.extract_pending()
    assert stats.articles == len(REVIEWS) and stats.failed == 0  # only the reviews needed the extractor
    gate.run_landing_gate("issue16")
    warehouse.build()
    gate.run_candidate_gate("issue16")
    publish.publish("issue16")
    return warehouse_url


def test_the_extraction_step_stores_each_articles_subject_and_reviewed_year(published):
    with db.connect() as conn:
        rows = conn.execute(
            "select a.source, e.subject_unit_id, e.reviewed_year, e.profiled_at is not null "
            "from raw.article_extractions e join raw.articles a using (article_id) "
            "where a.source <> 'test_portal' order by a.source").fetchall()
    assert rows == [("baothanhhoa", "38.380", 2023, True), ("ngoclac", "38.389", 2022, True),
                    ("thoxuan", "38.395", 2022, True)]


def test_an_extraction_without_a_profile_is_extracted_again(published):
    """A warehouse extracted before the profile existed (profiled_at null) is profiled by the
    next extraction step, without an extractor version bump."""
    with db.connect(autocommit=True) as conn:
        conn.execute("update raw.article_extractions set subject_unit_id = null, reviewed_year = null, "
                     "profiled_at = null where article_id = (select article_id from raw.articles where source = 'thoxuan')")
    stats = pipeline.extract_pending()
    assert stats.articles == 1
    with db.connect() as conn:
        row = conn.execute("select e.subject_unit_id, e.reviewed_year from raw.article_extractions e "
                           "join raw.articles a using (article_id) where a.source = 'thoxuan'").fetchone()
    assert row == ("38.395", 2022)
    assert pipeline.extract_pending().articles == 0


# 1. Which districts held their year-end QP-AN review of 2022? (README question 4's column)
REVIEWED_IN = """
select year, array_agg(unit_full_name order by unit_full_name) as districts
from marts.mart_reporting_coverage
where unit_level = 'district' and current_province_id = '38' and has_year_end_review
group by year
order by year
"""


def test_a_review_counts_for_the_year_it_reviews_not_the_year_it_plans(published):
    # "tổng kết … năm 2022, triển khai nhiệm vụ năm 2023": the 2022 review, whether held on
    # 16/12/2022 (Thọ Xuân) or 10/1/2023 (Ngọc Lặc); nothing reviewed 2023 but TP Thanh Hóa
    assert _ask(REVIEWED_IN) == [
        (2022, ["huyện Ngọc Lặc", "huyện Thọ Xuân"]),
        (2023, ["thành phố Thanh Hóa"]),
    ]
    urls = _ask("select year_end_review_urls from marts.mart_reporting_coverage where unit_id = '38.395' "
                "and year = 2022")
    assert urls == [(["https://thoxuan.thanhhoa.gov.vn/tin-tuc/tong-ket-qp-an-2022"],)]


# 2. TP Thanh Hóa in 2023: articles found, review found, facts extracted?
COVERAGE_OF = """
select unit_id, year, n_articles, has_year_end_review, n_facts, coverage_status
from marts.mart_reporting_coverage
where unit_id = %s and year = %s
"""


def test_a_districts_review_published_by_the_provincial_paper_counts_for_the_district(published):
    # the review is about TP Thanh Hóa (38.380), published by Báo Thanh Hóa (a source for 38)
    assert _ask(COVERAGE_OF, ("38.380", 2023)) == [("38.380", 2023, 1, True, 4, "facts_extracted")]
    province = _ask(COVERAGE_OF, ("38", 2023))
    assert province and province[0][3] is False  # the province held no review of 2023 here


def test_no_coverage_row_has_facts_but_no_article(published):
    assert _ask("select unit_id, year from marts.mart_reporting_coverage "
                "where (n_facts > 0 or has_year_end_review) and n_articles = 0") == []
    # 27 districts report 2021 drills through one provincial article: each has that article
    assert _ask("select count(*), min(n_articles), max(n_articles) from marts.mart_reporting_coverage "
                "where year = 2021 and n_facts > 0") == [(len(DISTRICTS_2021), 1, 1)]


# 3. How many civil guards did Mường Lát have in 2023, and what did it spend?
BOUNDED = """
select civil_guards, civil_guards_comparator, security_movement_budget_vnd, security_movement_budget_vnd_comparator,
       awarded_individuals, awarded_individuals_comparator, awarded_collectives, awarded_collectives_comparator,
       bounded_indicators
from marts.mart_district_year
where unit_id = '38.384' and year = 2023
"""


def test_a_lower_bound_is_never_shown_as_an_exact_figure(published):
    # "hơn 1.000" is > 1000; 12 + "hơn 20" individuals is > 32: a sum over a bound is a bound
    assert _ask(BOUNDED) == [(
        Decimal(1000), ">", Decimal(4_600_000_000), ">", Decimal(32), ">", Decimal(5), "=",
        ["awarded_individuals", "civil_guards", "security_movement_budget_vnd"])]
    province = _ask("select value, comparator, value_basis from marts.mart_province_year "
                    "where province_id = '38' and year = 2023 and indicator_code = 'civil_guards'")
    assert province == [(Decimal(11000), ">", "reported")]
    fact = _ask("select value, comparator from marts.fct_indicator_facts "
                "where unit_id = '38.384' and period = '2023' and indicator_code = 'civil_guards'")
    assert fact == [(Decimal(1000), ">")]


def test_every_wide_mart_value_has_its_comparator(published):
    with _analyst() as conn:
        cols = [r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'mart_district_year'").fetchall()]
        codes = [r[0] for r in conn.execute(
            "select indicator_code from marts.dim_indicator where is_in_district_year_mart").fetchall()]
        assert codes and all(f"{c}_comparator" in cols for c in codes)
        missing = conn.execute(
            "select d.unit_id, d.year, i.indicator_code from marts.mart_district_year d "
            "cross join marts.dim_indicator i where i.is_in_district_year_mart "
            "and to_jsonb(d) -> i.indicator_code <> 'null'::jsonb "
            "and to_jsonb(d) -> (i.indicator_code || '_comparator') = 'null'::jsonb").fetchall()
        assert missing == []
        assert conn.execute("select count(*) from marts.mart_province_year "
                            "where value is not null and comparator is null").fetchone()[0] == 0


# 4. How many recruits did Thanh Hóa enlist in 2020? How many drills did it hold in 2021?
PROVINCE_FIGURE = """
select value, comparator, value_basis, district_sum, n_districts_reporting, n_districts
from marts.mart_province_year
where province_id = '38' and year = %s and indicator_code = %s
"""


def test_a_partial_district_sum_is_never_the_provinces_figure(published):
    # one district of 27 reported: the province's 2020 figure is unknown, the partial sum is kept
    assert _ask(PROVINCE_FIGURE, (2020, "recruits_enlisted")) == [
        (None, None, None, Decimal(226), 1, len(DISTRICTS_2021))]


def test_a_complete_district_sum_is_the_provinces_figure_and_a_bound_when_one_district_is(published):
    total = Decimal(sum(DRILLS_2021.values()))
    assert len(DISTRICTS_2021) == 27
    assert _ask(PROVINCE_FIGURE, (2021, "drills_held")) == [(total, ">", "district_sum", total, 27, 27)]


def test_a_district_is_in_a_year_only_while_one_of_its_versions_is_valid(published):
    """Issue 27, point 4 (the behaviour was right): Đông Sơn, merged into TP Thanh Hóa on 1 March
    2025, existed in January and February 2025, so it is one of 2025's 27 districts, and of no later
    year's; a year's rows and its district count follow the gazetteer's validity."""
    assert "38.405" in _districts_of_thanh_hoa(2025) and len(_districts_of_thanh_hoa(2025)) == 27
    assert "38.405" not in _districts_of_thanh_hoa(2026)
    rows = _ask("select unit_id, year from marts.mart_district_year where current_province_id = '38'")
    assert rows and all(unit in _districts_of_thanh_hoa(year) for unit, year in rows)
    counts = _ask("select year, max(n_districts) from marts.mart_province_year where province_id = '38' group by year")
    assert counts and all(n == len(_districts_of_thanh_hoa(year)) for year, n in counts)


@pytest.fixture(scope="module")
def candidate(published):
    """A fresh candidate, equal to the published marts, for the gate to judge."""
    warehouse.build()


# The gate refuses a candidate that breaks an invariant (GX, on every build)
@pytest.mark.parametrize("suite,table,column,key,bad", [
    ("candidate__coverage_without_articles", "mart_reporting_coverage", "n_articles",
     "unit_id = '38.380' and year = 2023", "0"),
    ("candidate__province_partial_value", "mart_province_year", "value",
     "province_id = '38' and year = 2020 and indicator_code = 'recruits_enlisted'", "district_sum"),
    ("candidate__bounds_without_comparator", "mart_district_year", "civil_guards_comparator",
     "unit_id = '38.384' and year = 2023", "'='"),
    ("candidate__bounds_without_comparator", "mart_district_year", "civil_guards_comparator",
     "unit_id = '38.384' and year = 2023", "null"),
])
def test_the_gate_refuses_a_candidate_that_breaks_an_invariant(candidate, suite, table, column, key, bad):
    target = f"marts_candidate.{table}"
    with db.connect(autocommit=True) as conn:
        before = conn.execute(f"select {column} from {target} where {key}").fetchall()
        assert len(before) == 1
        conn.execute(f"update {target} set {column} = {bad} where {key}")
        if table == "mart_province_year":
            conn.execute(f"update {target} set comparator = '=', value_basis = 'district_sum' where {key}")
        try:
            with pytest.raises(gate.GateFailed, match=suite):
                gate.run_candidate_gate(f"break-{suite}")
        finally:
            conn.execute(f"update {target} set {column} = %s where {key}", (before[0][0],))
            if table == "mart_province_year":
                conn.execute(f"update {target} set comparator = null, value_basis = null where {key}")
    gate.run_candidate_gate(f"restored-{suite}")  # the untouched candidate passes


# 7. Consistency: one spelling of a unit's name, a zero drawn as a zero, the audit trail described
def test_the_report_spells_units_as_the_marts_do_and_draws_a_zero(published, tmp_path):
    page = report.build_report(tmp_path).read_text(encoding="utf-8")
    marts_names = {name for (name,) in _ask(
        "select unit_full_name from marts.dim_admin_unit where level = 'district' and unit_id like '38.%%'")}
    shown = set(re.findall(r"district: ([^;\"]+)", page))
    assert shown and shown <= marts_names, shown - marts_names  # "huyện Mường Lát", never "Huyện Mường Lát"
    hotspots = page.split('id="ind-security_hotspots"', 1)[1].split("</article>", 1)[0]
    assert "<svg" in hotspots and ">0</text>" in hotspots  # Mường Lát's reported 0, labelled
    # drawn: the bar (of length 0) and the tick that makes it visible
    assert len(re.findall(r'aria-label="Security hotspots formed \(hotspots\): 0; district: huyện Mường Lát; '
                          r'year: 2023"', hotspots)) == 2
    # a bound keeps its comparator in the page too
    assert "&gt; 1,000" in page


def test_the_audit_trail_is_described_for_bi_users(published):
    undescribed = _ask(
        "select c.relname, a.attname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "left join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped "
        "where n.nspname = 'audit' and c.relkind = 'r' "
        "and (obj_description(c.oid, 'pg_class') is null or col_description(c.oid, a.attnum) is null)")
    assert undescribed == []
    assert _ask("select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "where n.nspname = 'audit' and c.relkind = 'r'")[0][0] >= 4


# 6. Where does Thọ Xuân's 2022 figure come from, once the portal's page is gone?
EVIDENCE_OF = """
select f.value, e ->> 'url' as url, m.evidence, m.evidence_paragraph, m.evidence_paragraph_offset
from marts.fct_indicator_facts as f
cross join lateral jsonb_array_elements(f.evidence) as e
join marts.fct_indicator_mentions as m on m.mention_id = (e ->> 'mention_id')::bigint
where f.indicator_code = 'recruits_enlisted' and f.unit_id = '38.395' and f.period = '2022'
"""


def test_every_figure_keeps_its_url_and_its_stored_paragraph(published, tmp_path, capsys):
    [(value, url, evidence, paragraph, offset)] = _ask(EVIDENCE_OF)
    assert value == Decimal(230) and url == "https://thoxuan.thanhhoa.gov.vn/tin-tuc/tong-ket-qp-an-2022"
    assert "230 công dân nhập ngũ" in evidence
    assert paragraph[offset:offset + len(evidence)] == evidence and paragraph.startswith("Sáng 16/12")
    # the report embeds the paragraph, the sentence marked, and names the stored copy
    page = report.build_report(tmp_path).read_text(encoding="utf-8")
    assert f"<mark>{evidence}</mark>" in page.replace("&quot;", '"')
    assert f"qpan show {url}" in page
    # `qpan show URL` prints the stored article with the evidence marked, whatever became of the page
    from qpan.cli import main

    assert main(["show", url, "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert f"[[{evidence}]]" in out and "recruits_enlisted = 230" in out
    assert main(["show", "https://nowhere.test/none"]) == 1
    # a mention the article does not have is an error, not the article without marks (issue 27, point 11)
    capsys.readouterr()
    assert main(["show", url, "--mention", "999999999"]) == 1
    assert "no mention 999999999" in capsys.readouterr().err

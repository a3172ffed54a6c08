"""The dbt warehouse end to end: a small realistic sample in raw, the real `dbt build` through
qpan.transform.warehouse, then what an analyst sees in `marts` (as qpan_analyst)."""
from __future__ import annotations

import time
from decimal import Decimal

import psycopg
import pytest
from psycopg import errors

from qpan.core import config, db
from qpan.transform import warehouse

from helpers import sample

pytestmark = pytest.mark.slow

MARTS = ("dim_admin_unit", "dim_indicator", "dim_source", "fct_indicator_facts", "fct_indicator_mentions",
         "mart_district_year", "mart_province_year", "mart_reporting_coverage")
# Columns that record when dbt computed a row, not what the row says.
VOLATILE = {"processed_at", "last_processed_at", "consolidated_at", "load_watermark"}


def _admin():
    return db.connect(autocommit=True)


def _analyst():
    return psycopg.connect(config.database_url("qpan_analyst"), autocommit=True, connect_timeout=10)


def _publish_grants() -> None:
    with _admin() as conn:
        db.grant_analyst(conn)


def _rows(conn, table: str, key: str) -> dict:
    cur = conn.execute(f"select * from {table}")
    cols = [d.name for d in cur.description]
    out = {}
    for row in cur.fetchall():
        rec = {c: v for c, v in zip(cols, row) if c not in VOLATILE}
        out[tuple(rec[k] for k in key.split(","))] = rec
    return out


@pytest.fixture(scope="module")
def built(sample_warehouse):
    """The sample (helpers/sample.py, INITIAL, two days old) as `make run` publishes it: dbt build,
    gate, publish swap (tests/conftest.py, built once per session); this module's own copy, which
    the incremental tests below change."""
    with _admin() as conn:
        # dbt-postgres incremental models stage their delta in a temporary table.
        dbname = conn.execute("select current_database()").fetchone()[0]
        conn.execute(f'grant temporary on database "{dbname}" to qpan_transformer')
        ids = dict(conn.execute("select split_part(url, '/', 5), article_id from raw.articles").fetchall())
    assert set(ids) == {f"{art.key}.html" for art in sample.INITIAL}
    _publish_grants()
    return ids


def test_every_mart_exists_and_is_not_empty(built):
    with _admin() as conn:
        for table in MARTS:
            kind = conn.execute("select relkind from pg_class where oid = to_regclass(%s)",
                                (f"marts.{table}",)).fetchone()
            assert kind == ("r",), f"marts.{table} is not a plain table"
            assert conn.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0, table


def test_descriptions_become_postgres_comments(built):
    with _admin() as conn:
        table_comment = conn.execute("select obj_description('marts.fct_indicator_facts'::regclass)").fetchone()[0]
        column_comment = conn.execute(
            "select col_description('marts.fct_indicator_facts'::regclass, attnum) from pg_attribute "
            "where attrelid = 'marts.fct_indicator_facts'::regclass and attname = 'has_conflict'").fetchone()[0]
    assert table_comment and "Grain" in table_comment
    assert column_comment and "disagree" in column_comment


def test_fact_grain_is_unique(built):
    with _admin() as conn:
        dupes = conn.execute(
            "select indicator_code, unit_id, period, qualifiers, count(*) from marts.fct_indicator_facts "
            "group by 1, 2, 3, 4 having count(*) > 1").fetchall()
        n_facts, n_ids = conn.execute("select count(*), count(distinct fact_id) from marts.fct_indicator_facts"
                                      ).fetchone()
    assert dupes == [] and n_facts == n_ids


def test_same_fact_from_two_sources_is_one_fact(built):
    with _admin() as conn:
        rows = conn.execute(
            "select value, n_sources, n_mentions, has_conflict, sources, jsonb_array_length(evidence) "
            "from marts.fct_indicator_facts "
            "where indicator_code = 'recruits_enlisted' and unit_id = '38.395' and period = '2023'").fetchall()
    assert rows == [(Decimal(226), 2, 2, False, ["sample_baothanhhoa", "sample_thoxuan"], 2)]


def test_disagreeing_sources_are_flagged_and_all_values_kept(built):
    with _admin() as conn:
        row = conn.execute(
            "select value, has_conflict, distinct_values, value_rule, n_sources "
            "from marts.fct_indicator_facts "
            "where indicator_code = 'recruits_enlisted' and unit_id = '38.389' and period = '2023'").fetchone()
        conflicting = conn.execute(
            "select conflicting_indicators from marts.mart_district_year where unit_id = '38.389' and year = 2023"
        ).fetchone()[0]
    # never averaged (182.5): the most recently published article (Ngọc Lặc's own review, 2024-01-10) wins
    assert row == (Decimal(185), True, [Decimal(180), Decimal(185)], "most_recently_reported", 2)
    assert conflicting == ["recruits_enlisted"]


def test_synthetic_articles_never_reach_the_marts(built):
    with _admin() as conn:
        assert conn.execute("select count(*) from marts.fct_indicator_mentions "
                            "where article_url like '%%synthetic%%'").fetchone()[0] == 0
        assert conn.execute("select count(*) from marts.fct_indicator_facts where unit_id = '38.392'"
                            ).fetchone()[0] == 0


def test_awards_are_summed_across_statements(built):
    with _admin() as conn:
        row = conn.execute("select awarded_collectives, awarded_individuals, security_hotspots, unit_full_name "
                           "from marts.mart_district_year where unit_id = '38.395' and year = 2023").fetchone()
    assert row == (Decimal(13), Decimal(12), Decimal(0), "huyện Thọ Xuân")


def test_gazetteer_versions_and_successor_chain(built):
    with _admin() as conn:
        # a 2019 figure for 38.407 is attached to huyện Tĩnh Gia, not to TX Nghi Sơn (same code, 2020-06-01)
        version = conn.execute(
            "select f.unit_version_key, u.unit_full_name from marts.fct_indicator_facts f "
            "join marts.dim_admin_unit u using (unit_version_key) where f.unit_id = '38.407' and f.period = '2019'"
        ).fetchone()
        assert version == ("38.407@origin", "huyện Tĩnh Gia")
        # Hà Giang (02) was merged into Tuyên Quang (08): its districts roll up to today's 08
        chain = conn.execute(
            "select distinct current_province_id from marts.dim_admin_unit "
            "where unit_id like '02.%%' and level = 'district'").fetchall()
        assert chain == [("08",)]
        dong_son = conn.execute("select current_unit_id, current_province_id from marts.dim_admin_unit "
                                "where unit_id = '38.405'").fetchone()
        assert dong_son == ("38.380", "38")
        # codes keep their leading zeros
        assert conn.execute("select count(*) from marts.dim_admin_unit where unit_id = '01'").fetchone()[0] == 1


def test_province_rollup(built):
    with _admin() as conn:
        row = conn.execute(
            "select value, value_basis, province_reported_value, district_sum, n_districts_reporting "
            "from marts.mart_province_year where province_id = '38' and year = 2023 "
            "and indicator_code = 'recruits_enlisted'").fetchone()
        # 226 (Thọ Xuân) + 185 (Ngọc Lặc) + 150 (Đông Sơn); the province's own figure shown beside it
        assert row == (Decimal(3500), "reported", Decimal(3500), Decimal(561), 3)
        pct = conn.execute(
            "select district_sum, n_districts_reporting from marts.mart_province_year "
            "where province_id = '38' and year = 2023 and indicator_code = 'recruitment_quota_pct'").fetchone()
        assert pct == (None, 2)  # a percentage is never summed
        # Hải Dương's 2023 figure belongs to today's Hải Phòng (31)
        hp = conn.execute("select province_reported_value, provinces_reporting from marts.mart_province_year "
                          "where province_id = '31' and indicator_code = 'regular_commune_police'").fetchone()
        assert hp == (Decimal(1000), ["30"])


def test_coverage_tells_no_data_from_zero(built):
    with _admin() as conn:
        cov = dict(((u, y), (n, r, s)) for u, y, n, r, s in conn.execute(
            "select unit_id, year, n_articles, has_year_end_review, coverage_status "
            "from marts.mart_reporting_coverage where unit_id in ('38.384', '38.389', '38.386')").fetchall())
    assert cov[("38.384", 2023)] == (1, False, "articles_without_facts")
    # Ngọc Lặc's own review (published 2024-01, reviews 2023) and Báo Thanh Hóa's hand-over
    # article with Ngọc Lặc's 180 recruits: a row with facts always has its articles
    assert cov[("38.389", 2023)] == (2, True, "facts_extracted")
    assert cov[("38.386", 2023)] == (0, False, "no_articles")


ANALYST_QUERY = ("select unit_id, unit_full_name from marts.mart_district_year "
                 "where year = 2023 and recruitment_quota_met order by unit_id")


def test_analyst_finds_districts_that_met_their_quota(built):
    with _analyst() as conn:
        rows = conn.execute(ANALYST_QUERY).fetchall()
    # TP Thanh Hóa reached 95 % only; Hà Trung's claim comes from a synthetic article
    assert rows == [("38.389", "huyện Ngọc Lặc"), ("38.395", "huyện Thọ Xuân")]


def test_analyst_reads_marts_only_and_writes_nothing(built):
    with _analyst() as conn:
        for table in MARTS:
            conn.execute(f"select * from marts.{table} limit 1").fetchall()
        for statement in ("select * from raw.articles limit 1",
                          "select * from intermediate.int_indicator_facts__consolidated limit 1",
                          "select * from staging.stg_raw__articles limit 1",
                          "delete from marts.fct_indicator_facts",
                          "insert into marts.dim_source (source) values ('x')",
                          "create table marts.mine (x int)",
                          "create table public.mine (x int)"):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)


def test_incremental_run_changes_only_what_it_should_and_matches_full_refresh(built):
    tables = {"marts.fct_indicator_facts": "fact_id", "marts.mart_district_year": "unit_id,year",
              "marts.mart_province_year": "province_id,year,indicator_code",
              "marts.mart_reporting_coverage": "unit_id,year", "marts.fct_indicator_mentions": "mention_id"}
    with _admin() as conn:
        before = {t: _rows(conn, t, k) for t, k in tables.items()}
        sample.insert(conn, sample.NEW, age="0 days")

    warehouse.run_dbt(["run"], marts_schema="marts")
    with _admin() as conn:
        after = {t: _rows(conn, t, k) for t, k in tables.items()}

    def changed(table, field="unit_id"):
        old, new = before[table], after[table]
        return sorted({(new.get(k) or old.get(k))[field] for k in old.keys() | new.keys() if old.get(k) != new.get(k)})

    facts = after["marts.fct_indicator_facts"]
    changed_facts = sorted((f["indicator_code"], f["unit_id"]) for k, f in facts.items()
                           if before["marts.fct_indicator_facts"].get(k) != f)
    assert changed_facts == [("recruitment_quota_met", "38.381"), ("recruits_enlisted", "38.389")]
    assert len(facts) == len(before["marts.fct_indicator_facts"]) + 1
    ngoc_lac = next(f for f in facts.values() if f["unit_id"] == "38.389" and f["indicator_code"] == "recruits_enlisted")
    assert (ngoc_lac["n_sources"], ngoc_lac["n_mentions"], ngoc_lac["value"]) == (2, 3, Decimal(185))
    # Ngọc Lặc's district-year values do not change (185 again), only its article count (the new
    # article reports its 2023 figure); Bỉm Sơn gets its quota flag
    assert changed("marts.mart_district_year") == ["38.381", "38.389"]
    old_ngoc_lac = before["marts.mart_district_year"][("38.389", 2023)]
    new_ngoc_lac = after["marts.mart_district_year"][("38.389", 2023)]
    assert {c for c in new_ngoc_lac if new_ngoc_lac[c] != old_ngoc_lac[c]} == {"n_articles"}
    assert (old_ngoc_lac["n_articles"], new_ngoc_lac["n_articles"]) == (2, 3)
    assert changed("marts.fct_indicator_mentions") == ["38.381", "38.389"]

    _publish_grants()
    with _analyst() as conn:
        assert [r[0] for r in conn.execute(ANALYST_QUERY).fetchall()] == ["38.381", "38.389", "38.395"]

    warehouse.run_dbt(["run", "--full-refresh"], marts_schema="marts")
    with _admin() as conn:
        refreshed = {t: _rows(conn, t, k) for t, k in tables.items()}
        for model in ("int_indicator_mentions__enriched", "int_indicator_facts__consolidated"):
            assert conn.execute(f"select count(*) from intermediate.{model}").fetchone()[0] > 0
    for table in tables:
        assert refreshed[table] == after[table], f"{table}: full refresh differs from incremental"


def test_a_load_that_commits_after_a_build_started_is_not_missed(built):
    """Rows are stamped with their transaction's start: a load still open while a build runs
    commits rows stamped *before* that build. The next incremental build must pick them up
    (the watermark is the oldest open transaction's start, raw.safe_watermark)."""
    url = "http://late.test/commits-after-the-build"
    with db.connect() as loader:  # one open transaction, like a long crawl batch
        article_id = loader.execute(
            "insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id) "
            "values ('late_portal', %s, 'Giao quân năm 2023', '2023-02-20T08:00:00+07:00', 'x', md5(%s), '38.397') "
            "returning article_id", (url, url)).fetchone()[0]
        loader.execute(
            "insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, comparator, "
            "unit_id, period, qualifiers, evidence, span_start, span_end) values "
            "(%s, 'late', 'recruits_enlisted', 211, 'number', '=', '38.397', '2023', '{}', 'late 211', 0, 8)",
            (article_id,))
        time.sleep(1.1)  # the build below starts strictly after the rows' stamp
        warehouse.run_dbt(["run"], marts_schema="marts")
        loader.commit()
    with _admin() as conn:
        before = conn.execute("select count(*) from marts.fct_indicator_mentions where article_id = %s",
                              (article_id,)).fetchone()[0]
    warehouse.run_dbt(["run"], marts_schema="marts")
    with _admin() as conn:
        after = conn.execute("select value from marts.fct_indicator_mentions where article_id = %s",
                             (article_id,)).fetchall()
    assert before == 0 and after == [(Decimal(211),)]


def test_raw_refuses_a_mention_outside_the_domain_format(built):
    """The mention format (period YYYY or YYYY/YYYY, value type, comparator) is a check constraint
    on raw, enforced at load time, instead of dbt tests that re-scan every mention every build."""
    with _admin() as conn:
        article_id = conn.execute("select min(article_id) from raw.articles").fetchone()[0]
        for period, value_type, comparator in (("2023-2024", "number", "="), ("2023", "text", "="),
                                               ("2023", "number", ">=")):
            with pytest.raises(errors.CheckViolation, match="indicator_mentions_format"):
                conn.execute(
                    "insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, "
                    "comparator, unit_id, period, qualifiers, evidence, span_start, span_end) values "
                    "(%s, 'bad', 'drills_held', 1, %s, %s, '38.397', %s, '{}', 'x', 0, 1)",
                    (article_id, value_type, comparator, period))


def test_deleted_quarantined_and_released_articles_leave_and_come_back_incrementally(built):
    """Removals reach the incremental models through the change log (int_articles__changed),
    not an anti-join over every row: an article deleted from raw, or quarantined by the landing
    gate after it reached the marts, leaves every per-article model at the next build; released,
    it comes back. The result equals a full rebuild."""
    per_article = ("intermediate.int_articles__classified", "intermediate.int_indicator_mentions__enriched",
                   "intermediate.int_articles__fact_unit_years", "marts.fct_indicator_mentions")

    def present(conn, article_id):
        return {t for t in per_article
                if conn.execute(f"select count(*) from {t} where article_id = %s", (article_id,)).fetchone()[0]}

    with _admin() as conn:
        deleted, quarantined = [r[0] for r in conn.execute(
            "select distinct article_id from marts.fct_indicator_mentions m "
            "where exists (select 1 from intermediate.int_articles__fact_unit_years y where y.article_id = m.article_id) "
            "order by 1 limit 2").fetchall()]
        assert present(conn, deleted) == set(per_article) and present(conn, quarantined) == set(per_article)
        conn.execute("delete from raw.articles where article_id = %s", (deleted,))
        assert conn.execute("select count(*) from raw.article_deletions where article_id = %s",
                            (deleted,)).fetchone()[0] == 1
        conn.execute(
            "insert into raw.quarantine (stage, url, reason, payload) values ('landing', %s, 'published_at out of range', "
            "jsonb_build_object('kind', 'article', 'id', %s::bigint))", (f"http://test/q/{quarantined}", quarantined))
    warehouse.run_dbt(["run"], marts_schema="marts")
    with _admin() as conn:
        assert present(conn, deleted) == set()
        assert present(conn, quarantined) == set()
        conn.execute("update raw.quarantine set resolved_at = now(), state_changed_at = now() where url = %s",
                     (f"http://test/q/{quarantined}",))
    warehouse.run_dbt(["run"], marts_schema="marts")
    with _admin() as conn:
        assert present(conn, quarantined) == set(per_article)
        incremental = _rows(conn, "marts.fct_indicator_mentions", "mention_id")
        facts = _rows(conn, "marts.fct_indicator_facts", "fact_id")
    warehouse.run_dbt(["run", "--full-refresh"], marts_schema="marts")
    with _admin() as conn:
        assert _rows(conn, "marts.fct_indicator_mentions", "mention_id") == incremental
        assert _rows(conn, "marts.fct_indicator_facts", "fact_id") == facts


def test_rows_of_a_build_that_failed_its_tests_are_tested_again_until_one_passes(built):
    """The big models' row-level tests cover only rows processed after the start of the latest
    build that passed (audit.tested_builds): a bad row must fail every build until it is gone,
    not only the build that wrote it."""
    def tested_builds():
        with _admin() as conn:
            return conn.execute("select count(*) from audit.tested_builds").fetchone()[0]

    warehouse.build(marts_schema="marts")
    passed = tested_builds()
    assert passed >= 1
    url = "http://bad.test/unknown-indicator"
    with _admin() as conn:
        article_id = conn.execute(
            "insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id) "
            "values ('bad_portal', %s, 'Giao quân năm 2023', '2023-02-20T08:00:00+07:00', 'x', md5(%s), '38.397') "
            "returning article_id", (url, url)).fetchone()[0]
        conn.execute(
            "insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, comparator, "
            "unit_id, period, qualifiers, evidence, span_start, span_end) values "
            "(%s, 'bad', 'not_an_indicator', 1, 'number', '=', '38.397', '2023', '{}', 'bad 1', 0, 5)", (article_id,))
    for attempt in (1, 2):  # the second build changes nothing in raw: the bad row must still fail it
        with pytest.raises(warehouse.DbtError, match="relationships_fct_indicator_mentions_indicator_code"):
            warehouse.build(marts_schema="marts")
        assert tested_builds() == passed, f"build {attempt} failed and must not be recorded as tested"
    with _admin() as conn:
        conn.execute("delete from raw.articles where article_id = %s", (article_id,))
    warehouse.build(marts_schema="marts")
    assert tested_builds() == passed + 1


def test_models_pass_sqlfluff_lint(background_check):
    """`sqlfluff lint models tests` in dbt_project/ (started in the background by conftest.py)."""
    returncode, output = background_check
    assert returncode == 0, output[-6000:]

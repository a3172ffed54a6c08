"""The main job end to end, through Airflow itself (`airflow dags test`), on a fresh database:
sample portal pages over real HTTP → raw → facts → dbt → GX gate → published marts.
A second run must leave every table's row count unchanged. The full astronomer-cosmos run (one
Airflow task per dbt model, ~9 min) is behind the marker `cosmos` (`make test-all`); `make test`
checks its rendering in tests/warehouse/test_cosmos_render.py."""
from __future__ import annotations

import contextlib
import io
from decimal import Decimal

import pytest

from qpan.core import config, db
from qpan.orchestration.run import run_main_job

pytestmark = pytest.mark.slow

SEED_DOCS = 5
# + the articles written for the sample (issue 29): Báo Thanh Hóa's QP-AN section, across the reform
SAMPLE_DOCS = SEED_DOCS + 3
OUTPUT: dict[str, str] = {}


@pytest.fixture(scope="module")
def own_warehouse(airflow_home, warehouse_factory):
    """This module's own database: other tests' rows must not change what a run lands."""
    with warehouse_factory() as url:
        yield url


@pytest.fixture(scope="module")
def first_run(own_warehouse):
    # one `dbt build` task (the quick run's default); the cosmos rendering of the same models is
    # test_cosmos_render.py, the full cosmos run test_the_cosmos_run_* below
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = run_main_job("sample", transform="build")
    OUTPUT["first"] = out.getvalue()
    assert status == 0, out.getvalue()[-3000:]
    with db.connect() as conn:
        return db.table_counts(conn, ("raw", "marts", "audit"))


def test_first_run_lands_all_seed_articles_and_publishes_facts(first_run):
    with db.connect() as conn:
        n_articles = conn.execute("select count(*) from raw.articles where not synthetic").fetchone()[0]
        docs_with_facts = conn.execute(
            "select count(distinct a.url) from marts.fct_indicator_mentions m "
            "join raw.articles a on a.url = m.article_url where not a.synthetic"
        ).fetchone()[0]
        published = conn.execute("select count(*) from audit.publish_log where published").fetchone()[0]
    assert n_articles == SAMPLE_DOCS
    assert docs_with_facts == SAMPLE_DOCS, "every sample article contributes facts to the marts"
    assert first_run["marts.fct_indicator_facts"] > 0
    assert first_run["marts.mart_district_year"] > 0
    assert published == 1


def test_the_run_records_one_tested_build(first_run):
    # every model and test passed: the next run's row-level tests of the big models may skip the
    # rows this one tested (audit.tested_builds)
    assert first_run["audit.tested_builds"] == 1


@pytest.mark.cosmos
def test_the_cosmos_run_records_one_tested_build_and_lands_what_the_build_run_lands(first_run, warehouse_factory):
    """The dbt project rendered by astronomer-cosmos, one Airflow task per model, on a database of
    its own: every model and test task passes (one tested build), and the marts hold the rows the
    one-task `dbt build` run of first_run published."""
    out = io.StringIO()
    with warehouse_factory():
        with contextlib.redirect_stdout(out):
            status = run_main_job("sample", transform="cosmos")
        assert status == 0, out.getvalue()[-3000:]
        assert "dbt through: astronomer-cosmos, one task per model" in out.getvalue()
        with db.connect() as conn:
            cosmos = db.table_counts(conn, ("raw", "marts", "audit"))
    assert cosmos.pop("audit.tested_builds") == 1
    build = {k: v for k, v in first_run.items() if not k.startswith("audit.")}
    cosmos = {k: v for k, v in cosmos.items() if not k.startswith("audit.")}
    # one row per source and UTC day crawled: the two runs may straddle midnight UTC
    assert cosmos.pop("marts.mart_source_health") > 0 and build.pop("marts.mart_source_health") > 0
    assert cosmos == build


def test_second_run_is_idempotent(first_run):
    # The same sample again: nothing may be duplicated.
    assert run_main_job("sample", transform="build") == 0
    with db.connect() as conn:
        again = db.table_counts(conn, ("raw", "marts"))
        days = conn.execute("select count(distinct run_date) from marts.mart_source_health").fetchone()[0]
    before = {k: v for k, v in first_run.items() if not k.startswith("audit.")}
    # mart_source_health keeps a row per source and UTC day crawled: two runs either side of
    # midnight UTC are two days, not a duplicate
    assert again.pop("marts.mart_source_health") == before.pop("marts.mart_source_health") * days
    assert again == before


def test_run_prints_its_log_and_each_task_and_keeps_every_runs_log(first_run):
    """issue 17, item 13: the log path first, a line per finished task as it goes; one log file
    per run (a failure's log survives the next run); per-task logs where Airflow's UI reads them."""
    out = OUTPUT["first"]
    log_line = next(line for line in out.splitlines() if line.strip().startswith("log: "))
    first_log = log_line.split("log: ", 1)[1].strip()
    assert out.index(log_line) < out.index("qpan_ingest.list_sources: success")
    assert "qpan_ingest.crawl[sample_thoxuan]: success" in out
    assert "qpan_transform.extract_facts: success" in out and "qpan_transform.publish: success" in out

    # test_second_run_is_idempotent (above) made another run: the first one's log stays
    logs = config.airflow_home() / "dags-test-logs"
    runs = sorted(logs.glob("run-*.log"))
    assert len(runs) >= 2 and str(runs[0]) <= first_log and (logs / "run.log").resolve() == runs[-1].resolve()
    assert any(path == runs[0] or str(path) == first_log for path in runs)

    task_logs = config.airflow_home() / "logs" / "dag_id=qpan_transform"
    extract_logs = list(task_logs.glob("run_id=*/task_id=extract_facts/attempt=1.log"))
    assert len(extract_logs) >= 2 and all("extract_facts" in p.read_text() for p in extract_logs)
    crawl_logs = list((config.airflow_home() / "logs" / "dag_id=qpan_ingest").glob(
        "run_id=*/task_id=crawl/map_index=*/attempt=1.log"))
    assert len(crawl_logs) >= SEED_DOCS


def test_evidence_of_published_facts_is_in_the_article(first_run):
    with db.connect() as conn:
        rows = conn.execute(
            "select a.title || E'\\n' || a.body_text, m.evidence, m.span_start, m.span_end "
            "from raw.indicator_mentions m join raw.articles a using (article_id)"
        ).fetchall()
    assert rows
    for text, evidence, start, end in rows:
        assert text[start:end] == evidence


def test_readme_analyst_queries_run_as_the_analyst(first_run):
    from bench.publish_load import readme_queries

    queries = readme_queries()
    assert len(queries) >= 5
    with db.connect("qpan_analyst") as conn:
        results = [conn.execute(q).fetchall() for q in queries]
    empty = [q.splitlines()[0] for q, rows in zip(queries, results) if not rows]
    assert empty == [], "every README query returns rows on the sample warehouse"
    met = {row[0] for row in results[0]}
    assert met == {"huyện Ngọc Lặc", "thành phố Thanh Hóa"}  # seeds 000 and 002: quota met in 2023
    assert results[1], "every figure comes with its sentence"
    # question 4: Thọ Xuân's "tổng kết … năm 2020, triển khai nhiệm vụ năm 2021" (18/12/2020) is the
    # 2020 review, not 2021's
    without_review = {year: (missing, total) for year, missing, total in results[3]}
    assert without_review[2020] == (26, 27) and without_review[2021] == (27, 27)
    # question 6: Hải Dương's "hơn 1.000" and "hơn 4,6 tỷ" are lower bounds
    assert {(code, comparator) for code, _, _, comparator, _ in results[5]} == {
        ("regular_commune_police", ">"), ("security_movement_budget_vnd", ">")}
    # question 7: one district's figures are never Thanh Hóa's total
    assert results[6] and all(value is None for _, _, value, *_ in results[6])
    # question 8: huyện Ngọc Lặc's 215 recruits of 2024 beside xã Ngọc Lặc's 42 + xã Minh Sơn's 31 of
    # 2026: two of the six new communes wholly inside it reported, so the sum is incomplete
    assert [row[:5] + row[6:] for row in results[7]] == [
        ("huyện Ngọc Lặc", Decimal(215), Decimal(73), "=", 2, [], False)]
    assert results[7][0][5] == 6
    # question 9: the two communes, each made of former communes of Ngọc Lặc and of the district
    assert {(commune, old_level) for commune, _, old_level, *_ in results[8]} == {
        ("xã Minh Sơn", "commune"), ("xã Minh Sơn", "district"), ("xã Ngọc Lặc", "commune"),
        ("xã Ngọc Lặc", "district")}

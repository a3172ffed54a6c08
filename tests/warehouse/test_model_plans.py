"""The plan guard (issue 31): over a generated warehouse of 22k mentions (1% of them reviewed),
no dbt model's plan may hold a nested loop whose two inputs each have more than 10,000 rows.
Such a join is quadratic: the full build of issue 31 went from 27 s to ~300 s at 80k mentions
because the planner, reading a stack of views, estimated 1 row where there were 80,089, and
joined them to themselves in a nested loop. Estimates alone would not show it (they were the
problem), so the plans are taken with EXPLAIN (ANALYZE, FORMAT JSON): an input counts with the
larger of its estimated and its actual rows (per loop, for the inner side)."""
from __future__ import annotations

import json

import pytest

from bench.loaders import load_review_decisions
from qpan.core import db
from qpan.transform import warehouse

pytestmark = pytest.mark.slow

# One mention per article: the per-article sets (each article's latest extractor version...) are
# as large as the mentions. 22,000 of each, so that even an inner side that a nested loop scans
# only until its first match (half of it on average: a unique inner side) is a large input.
ARTICLES = 22_000
LARGE_INPUT = 10_000


def _generate(conn) -> None:
    """22,000 articles, one mention each, and their extraction rows, in SQL (no review decision yet)."""
    conn.execute(
        """insert into raw.articles (source, url, title, published_at, body_text, source_unit_id, template,
               content_hash, synthetic)
           select 'thanhhoa', 'https://plans.test/bai-' || g || '.html', 'Bài ' || g,
               timestamptz '2023-01-01 08:00+07' + (g %% 700) * interval '1 day',
               'Trong năm, huyện tổ chức ' || (g %% 9 + 1) || ' cuộc diễn tập và có ' || (g %% 500 + 100)
                   || ' dân quân tự vệ.',
               '38', 'plans', md5(g::text), false
           from generate_series(1, %s) as g""", (ARTICLES,))
    conn.execute(
        """insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type,
               comparator, unit_id, period, qualifiers, evidence, span_start, span_end, confidence)
           select a.article_id, 'rules-plans', (array['drills_held', 'militia_members'])[a.article_id % 2 + 1],
               a.article_id % 500 + 1, 'number', '=', (array['38', '38.380', '38.389'])[a.article_id % 3 + 1],
               (2021 + a.article_id % 4)::text, '{}', 'cuộc diễn tập', 20, 33, 0.9
           from raw.articles as a""")
    conn.execute(
        """insert into raw.article_extractions (article_id, extractor_version, n_facts)
           select article_id, 'rules-plans', 1 from raw.articles""")
    conn.execute("analyze raw.articles; analyze raw.indicator_mentions; analyze raw.article_extractions")


@pytest.fixture(scope="module")
def built_models(warehouse_url, tmp_path_factory, monkeypatch_module):
    """The generated warehouse, seeded and every model built in full (no data tests: the plans are
    the subject); returns {model name: compiled SQL} of that build."""
    target = tmp_path_factory.mktemp("dbt-target")
    monkeypatch_module.setenv("DBT_TARGET_PATH", str(target))
    monkeypatch_module.setenv("QPAN_INCLUDE_SYNTHETIC", "false")
    with db.connect(autocommit=True) as conn:
        dbname = conn.execute("select current_database()").fetchone()[0]
        conn.execute(f'grant temporary on database "{dbname}" to qpan_transformer')
        _generate(conn)
    warehouse.run_dbt(["seed"], marts_schema="marts")
    warehouse.run_dbt(["run", "--full-refresh"], marts_schema="marts")
    manifest = json.loads((target / "manifest.json").read_text())
    compiled = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral":
            path = target / "compiled" / node["package_name"] / node["original_file_path"]
            compiled[node["name"]] = path.read_text()
    return compiled


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _rows(plan: dict) -> float:
    """An input's size: the larger of its estimated rows and its actual rows per loop."""
    return max(plan.get("Plan Rows", 0), plan.get("Actual Rows", 0))


def large_nested_loops(plan: dict, path: str = "") -> list[str]:
    """The nested loops of a plan (EXPLAIN FORMAT JSON) whose two inputs both exceed LARGE_INPUT rows."""
    found = []
    here = f"{path} > {plan['Node Type']}" if path else plan["Node Type"]
    children = plan.get("Plans", [])
    if plan["Node Type"] == "Nested Loop" and len(children) == 2:
        outer, inner = children
        if _rows(outer) > LARGE_INPUT and _rows(inner) > LARGE_INPUT:
            found.append(f"{here}: outer {outer['Node Type']} {_rows(outer):,.0f} rows x inner "
                         f"{inner['Node Type']} {_rows(inner):,.0f} rows (per loop)")
    for child in children:
        found += large_nested_loops(child, here)
    return found


def test_the_generated_warehouse_has_the_size_the_guard_needs(built_models):
    with db.connect() as conn:
        articles, mentions = conn.execute(
            "select (select count(*) from raw.articles), (select count(*) from raw.indicator_mentions)").fetchone()
    assert articles == mentions == ARTICLES


def test_the_guard_finds_a_quadratic_join():
    """The check itself: a plan with a nested loop over two large inputs is reported, one with a
    parameterised index scan (a few rows per loop) is not."""
    quadratic = {"Node Type": "Nested Loop", "Plan Rows": 1, "Plans": [
        {"Node Type": "Seq Scan", "Plan Rows": 1, "Actual Rows": 80_089.0},
        {"Node Type": "Materialize", "Plan Rows": 1, "Actual Rows": 10_000.5}]}
    indexed = {"Node Type": "Nested Loop", "Plan Rows": 80_089, "Plans": [
        {"Node Type": "Seq Scan", "Plan Rows": 80_089, "Actual Rows": 80_089.0},
        {"Node Type": "Index Scan", "Plan Rows": 1, "Actual Rows": 1.0}]}
    assert len(large_nested_loops({"Node Type": "Hash Join", "Plans": [quadratic, indexed]})) == 1


def _offenders(conn, models: dict[str, str]) -> dict[str, list[str]]:
    offenders = {}
    for name, sql in sorted(models.items()):
        plan = conn.execute("explain (analyze, timing off, format json) " + sql).fetchone()[0][0]["Plan"]
        if loops := large_nested_loops(plan):
            offenders[name] = loops
    return offenders


def test_no_model_plan_has_a_nested_loop_over_two_large_inputs(built_models):
    """Every model's plan, with no review decision (a fresh warehouse: issue 31's plan) and then
    with 1% of the mentions reviewed (the review loop's joins), without rebuilding in between:
    the models that read the decisions are planned on them either way."""
    assert "int_indicator_mentions__enriched" in built_models
    found = {}
    with db.connect(autocommit=True) as conn:
        conn.execute("set statement_timeout = '300s'")  # a quadratic plan fails here, not after hours
        found["no review decision"] = _offenders(conn, built_models)
        reviewed = load_review_decisions(conn)
        conn.execute("analyze review.decisions")
        assert reviewed >= 200
        found["1% of the mentions reviewed"] = _offenders(conn, built_models)
    assert not any(found.values()), "quadratic joins (nested loops over two inputs > 10,000 rows):\n" + "\n".join(
        f"{state}: {name}: {loop}" for state, offenders in found.items()
        for name, loops in offenders.items() for loop in loops)

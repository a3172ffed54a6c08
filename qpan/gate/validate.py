"""The quality gate: Great Expectations decides what reaches the marts (write-audit-publish).

GX Core is called from plain TaskFlow tasks rather than through the official GX Airflow
provider: airflow-provider-great-expectations 1.0.0 pins a structlog that conflicts with
Airflow 3.3.2, and calling GX Core directly keeps one code path for the DAG, `qpan check`
and the tests.

Three points:
1. landing: row-level rules first (an impossible date, an unknown unit): such rows are
   quarantined with their reason and excluded from the marts, unless more than a configured
   fraction is bad, which stops the run; then the landing suites;
2. candidate: the marts dbt built into `marts_candidate`; a failure stops the publish;
3. published: freshness of the published marts.
Every expectation evaluated is also written to `audit.validation_results`.
"""
from __future__ import annotations

import contextlib
import csv
import json
import fcntl
import logging
import os
import uuid
from datetime import datetime, timedelta, timezone

from qpan.core import config, db, settings
from qpan.gate.assets import CHECKPOINTS, EXCLUDED_ARTICLES, EXCLUDED_MENTIONS, assets as _assets
from qpan.gate.docs import data_docs_index, prune_validation_results, uncommitted_dir, update_data_docs

__all__ = ["GateFailed", "data_docs_index", "prune_validation_results", "run_checkpoint", "run_landing_gate",
           "run_candidate_gate"]
log = logging.getLogger(__name__)
GX_PROJECT = config.REPO_ROOT / "expectations"
SEEDS = config.REPO_ROOT / "dbt_project" / "seeds"
DATASOURCE = "warehouse"


class GateFailed(RuntimeError):
    """The gate said no. The message lists the failed expectations."""


def max_quarantine_fraction() -> float:
    """Above this share of bad rows, quarantining stops being enough: the run stops."""
    return settings.get("QPAN_GATE_MAX_QUARANTINE_FRACTION")


def max_row_drop() -> float:
    """A candidate mart may have at most this fraction fewer rows than the published one."""
    return settings.get("QPAN_GATE_MAX_ROW_DROP")


def max_orphaned_reviews() -> int:
    """At most this many review decisions may be orphaned (their fact gone, e.g. after a new
    extractor version moved the evidence span) before the candidate is refused: a few are normal
    and listed by `qpan review list --orphans`; many mean the decisions no longer apply."""
    return int(settings.get("QPAN_GATE_MAX_ORPHANED_REVIEWS"))


def freshness_hours() -> float:
    return settings.get("QPAN_GATE_FRESHNESS_HOURS")


def keep_validation_runs() -> int:
    """How many runs of each suite GX keeps on disk (and in Data Docs). Every result is also in
    `audit.validation_results`; GX's own store is for browsing, and its index page re-reads
    every stored result, so an unpruned store made each gate slower the longer qpan ran."""
    return int(settings.get("QPAN_GX_KEEP_RUNS"))


# -- catalogue values --------------------------------------------------------------
def indicator_codes() -> list[str]:
    with open(SEEDS / "indicators.csv", newline="", encoding="utf-8") as fh:
        return [row["code"] for row in csv.DictReader(fh)]


# -- 1a. row-level quarantine ------------------------------------------------------
QUARANTINE_ARTICLES = """
insert into raw.quarantine (stage, source, url, reason, payload)
select 'landing', a.source, a.url, 'published_at out of range',
       jsonb_build_object('kind', 'article', 'id', a.article_id, 'published_at', a.published_at)
from raw.articles a
where a.published_at > now() + interval '1 day' or a.published_at < timestamptz '1990-01-01'
on conflict (stage, url, reason) do update
   set last_seen_at = now(), payload = excluded.payload, resolved_at = null,
       state_changed_at = case when raw.quarantine.resolved_at is null
                               then raw.quarantine.state_changed_at else now() end
"""

QUARANTINE_MENTIONS = """
insert into raw.quarantine (stage, source, url, reason, detail, payload)
select 'landing', a.source, a.url || '#mention-' || m.mention_id,
       case when m.unit_id is null then 'unit not resolved'
            when u.unit_id is null then 'unknown unit_id'
            else 'unknown indicator' end,
       m.evidence,
       jsonb_build_object('kind', 'mention', 'id', m.mention_id, 'article_id', m.article_id,
                          'indicator', m.indicator, 'unit_id', m.unit_id, 'value', m.value)
from raw.indicator_mentions m
join raw.articles a using (article_id)
left join audit.gazetteer_unit_ids u on u.unit_id = m.unit_id
left join pg_temp.known_indicators i on i.code = m.indicator
where u.unit_id is null or i.code is null
on conflict (stage, url, reason) do update
   set last_seen_at = now(), payload = excluded.payload, resolved_at = null,
       state_changed_at = case when raw.quarantine.resolved_at is null
                               then raw.quarantine.state_changed_at else now() end
"""

# Quarantine rows whose cause is gone (the article was fixed or re-extracted) are resolved.
RESOLVE_STALE = """
update raw.quarantine q set resolved_at = now(), state_changed_at = now()
where q.stage = 'landing' and q.resolved_at is null and (
   (q.payload->>'kind' = 'mention'
      and not exists (select 1 from raw.indicator_mentions m where m.mention_id = (q.payload->>'id')::bigint))
or (q.payload->>'kind' = 'article'
      and not exists (select 1 from raw.articles a where a.article_id = (q.payload->>'id')::bigint
                      and (a.published_at > now() + interval '1 day' or a.published_at < timestamptz '1990-01-01'))))
"""

def quarantine_bad_rows() -> dict:
    """Quarantine row-level problems; stop when there are too many of them."""
    with db.connect("qpan_loader") as conn:
        with conn.transaction():
            conn.execute("create temp table known_indicators (code text primary key) on commit drop")
            with conn.cursor().copy("copy pg_temp.known_indicators (code) from stdin") as copy:
                for code in indicator_codes():
                    copy.write_row((code,))
            conn.execute(RESOLVE_STALE)
            conn.execute(QUARANTINE_ARTICLES)
            conn.execute(QUARANTINE_MENTIONS)
        n_articles, bad_articles = conn.execute(
            f"select count(*), count(*) filter (where article_id in {EXCLUDED_ARTICLES}) from raw.articles"
        ).fetchone()
        n_mentions, bad_mentions = conn.execute(
            f"select count(*), count(*) filter (where mention_id in {EXCLUDED_MENTIONS}) from raw.indicator_mentions"
        ).fetchone()
    result = {"articles": n_articles, "articles_quarantined": bad_articles,
              "mentions": n_mentions, "mentions_quarantined": bad_mentions}
    log.info("landing quarantine: %s", result)
    limit = max_quarantine_fraction()
    for kind, bad, total in (("articles", bad_articles, n_articles), ("facts", bad_mentions, n_mentions)):
        if total and bad / total > limit:
            raise GateFailed(
                f"{bad} of {total} {kind} failed row-level checks ({bad / total:.0%} > "
                f"QPAN_GATE_MAX_QUARANTINE_FRACTION={limit:.0%}); see raw.quarantine (stage 'landing')"
            )
    return result


# -- GX wiring ---------------------------------------------------------------------
def _context(candidate_schema: str = "marts_candidate"):
    import great_expectations as gx
    # The connection string stays a `${...}` reference in the committed YAML.
    url = config.database_url("qpan_transformer").replace("postgresql://", "postgresql+psycopg://", 1)
    os.environ["QPAN_GX_WAREHOUSE_URL"] = url
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave this machine
    context = gx.get_context(mode="file", project_root_dir=str(GX_PROJECT))
    try:
        datasource = context.data_sources.get(DATASOURCE)
    except (KeyError, ValueError, LookupError):
        datasource = None
    if datasource is None:
        datasource = context.data_sources.add_postgres(name=DATASOURCE, connection_string="${QPAN_GX_WAREHOUSE_URL}")
    definitions = {}
    # Reuse what the committed project already holds; rewrite only what changed, so a run
    # leaves the reviewed JSON files as they are.
    for asset_name, (query, suite_name) in _assets(candidate_schema).items():
        asset = next((a for a in datasource.assets if a.name == asset_name), None)
        if asset is not None and asset.query != query:
            datasource.delete_asset(asset_name)
            asset = None
        if asset is None:
            asset = datasource.add_query_asset(name=asset_name, query=query)
        batch = next((b for b in asset.batch_definitions if b.name == "all_rows"), None) \
            or asset.add_batch_definition_whole_table("all_rows")
        try:
            definition = context.validation_definitions.get(asset_name)
            if definition.data.id != batch.id or definition.suite.name != suite_name:
                raise LookupError("stale")
        except Exception:
            definition = context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=asset_name, data=batch, suite=context.suites.get(suite_name)))
        definitions[asset_name] = definition
    checkpoints = {}
    for name, assets in CHECKPOINTS.items():
        try:
            checkpoint = context.checkpoints.get(name)
            if [v.name for v in checkpoint.validation_definitions] != assets or checkpoint.actions:
                raise LookupError("stale")
        except Exception:
            checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
                name=name,
                validation_definitions=[definitions[a] for a in assets],
                # No UpdateDataDocsAction: it rebuilds the docs index once per validation;
                # run_checkpoint builds the docs once per checkpoint run instead.
                actions=[],
                result_format={"result_format": "SUMMARY"},
            ))
        checkpoints[name] = checkpoint
    return context, checkpoints


def _published_counts() -> dict[str, int]:
    counts = {"fct_indicator_facts": 0, "mart_district_year": 0, "mart_unit_year": 0, "dim_admin_unit_lineage": 0}
    with db.connect("qpan_transformer") as conn:
        for table in counts:
            exists = conn.execute("select to_regclass(%s)", (f"marts.{table}",)).fetchone()[0]
            if exists:
                counts[table] = conn.execute(f"select count(*) from marts.{table}").fetchone()[0]
    return counts


def _parameters() -> dict:
    now = datetime.now(timezone.utc)
    published = _published_counts()
    drop = max_row_drop()
    return {
        "now": (now + timedelta(days=1)).isoformat(),
        "earliest_published": "1990-01-01T00:00:00+00:00",
        "indicator_codes": indicator_codes(),
        "min_rows_fct_indicator_facts": int(published["fct_indicator_facts"] * (1 - drop)),
        "min_rows_mart_district_year": int(published["mart_district_year"] * (1 - drop)),
        "min_rows_mart_unit_year": int(published["mart_unit_year"] * (1 - drop)),
        "min_rows_dim_admin_unit_lineage": int(published["dim_admin_unit_lineage"] * (1 - drop)),
        "fresh_after": (now - timedelta(hours=freshness_hours())).isoformat(),
        "max_orphaned_reviews": max_orphaned_reviews(),
    }


def _record(run_id: str, checkpoint: str, result) -> list[str]:
    """Write every expectation result to audit.validation_results; return the failures."""
    failures: list[str] = []
    rows = []
    for validation in result.run_results.values():
        suite = validation.suite_name
        for item in validation.results:
            cfg = item.expectation_config
            column = cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list", []) or [])
            observed = item.result.get("observed_value") if item.result else None
            if observed is None and item.result:
                observed = item.result.get("unexpected_count")
            details = {k: v for k, v in (item.result or {}).items() if k in (
                "unexpected_count", "unexpected_percent", "partial_unexpected_list", "element_count")}
            if item.exception_info and item.exception_info.get("raised_exception"):
                details["exception"] = str(item.exception_info.get("exception_message"))[:500]
            rows.append((run_id, suite, cfg.type, column or None, bool(item.success),
                         None if observed is None else json.dumps(observed, default=str)[:1000],
                         json.dumps(details, default=str, ensure_ascii=False)))
            if not item.success:
                failures.append(f"{suite}: {cfg.type}({column or ''}) observed={observed} "
                                f"{details.get('partial_unexpected_list', '') or details.get('exception', '')}")
    with db.connect("qpan_transformer") as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "insert into audit.validation_results (run_id, suite, expectation, column_name, success, "
                "observed_value, details) values (%s, %s, %s, %s, %s, %s, %s::jsonb)", rows)
        conn.commit()
    log.info("gate %s: %d expectations, %d failed", checkpoint, len(rows), len(failures))
    return failures


@contextlib.contextmanager
def _gx_project_lock():
    """One checkpoint at a time per GX project, across processes: the file-backed project (its
    datasource YAML, validation definitions, result store and Data Docs, pruned as it goes) has no
    locking of its own, and two Celery workers, or a `qpan check` beside a DAG run, may gate at once."""
    path = uncommitted_dir() / "checkpoint.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_checkpoint(name: str, run_id: str | None = None, candidate_schema: str = "marts_candidate") -> dict:
    """Run one checkpoint; its GX run is named by `run_id` (the Airflow run id in the DAG)."""
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = run_id or f"manual__{uuid.uuid4().hex[:12]}"
    with _gx_project_lock():
        context, checkpoints = _context(candidate_schema)
        result = checkpoints[name].run(expectation_parameters=_parameters(), run_id=RunIdentifier(run_name=run_id))
        failures = _record(run_id, name, result)
        update_data_docs(context, result, keep_validation_runs())
    docs = data_docs_index()
    expectations = sum(len(v.results) for v in result.run_results.values())
    if failures:
        raise GateFailed(f"quality gate '{name}' failed {len(failures)} expectation(s):\n  - "
                         + "\n  - ".join(failures) + f"\nData Docs: {docs}")
    return {"checkpoint": name, "success": True, "expectations": expectations, "data_docs": str(docs)}


def run_landing_gate(run_id: str | None = None) -> dict:
    quarantined = quarantine_bad_rows()
    result = run_checkpoint("landing", run_id)
    result["quarantine"] = quarantined
    return result


def run_candidate_gate(run_id: str | None = None) -> dict:
    from qpan.gate.publish import record_refusal

    try:
        result = run_checkpoint("candidate", run_id)
    except GateFailed as exc:
        record_refusal(run_id or "manual", str(exc))
        raise
    from qpan.health.checks import source_health_warnings

    # source health: warnings recorded in audit.validation_results, never blocking the publish
    result["source_health"] = source_health_warnings(run_id)
    return result

"""The quality gate: Great Expectations decides what reaches the marts (write-audit-publish).

GX Core is called from plain TaskFlow tasks rather than through the official GX Airflow
provider: airflow-provider-great-expectations 1.0.0 pins a structlog that conflicts with
Airflow 3.3.2, and calling GX Core directly keeps one code path for the DAG, `qpan check`
and the tests.

Three points:
1. landing: row-level rules first (an impossible date, an unknown unit): such rows are
   quarantined with their reason and excluded from the marts, unless more than a configured
   fraction is bad, which stops the run; then the landing suites;
2. candidate: the marts dbt built into `marts_candidate`, and its views of the rows breaking a
   business rule (dbt owns each rule: dbt_project/models/checks), which must be empty; a
   failure stops the publish;
3. published: freshness of the published marts.
Every expectation evaluated is also written to `audit.validation_results`. GX itself is
reached only through qpan.gate.gx (a context built from code per run; the suites are
qpan.gate.suites).
"""
from __future__ import annotations

import csv
import json
import logging
import uuid
from datetime import datetime, timedelta, timezone

from qpan.core import config, db, settings
from qpan.gate.assets import CHECKPOINTS, EXCLUDED_ARTICLES, EXCLUDED_MENTIONS, assets as _assets
from qpan.gate.docs import data_docs_index, docs_dir, prune_validation_results, record_validations

__all__ = ["GateFailed", "data_docs_index", "prune_validation_results", "run_checkpoint", "run_landing_gate",
           "run_candidate_gate"]
log = logging.getLogger(__name__)
SEEDS = config.REPO_ROOT / "dbt_project" / "seeds"


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
    """How many runs of each suite the Data Docs keep (their pages, the index). Every result is
    also in `audit.validation_results`; the docs are for browsing, and an unpruned store made
    each gate slower the longer qpan ran."""
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


# -- GX (through qpan.gate.gx) ---------------------------------------------------
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


def _record(run_id: str, checkpoint: str, validations) -> list[str]:
    """Write every expectation result to audit.validation_results; return the failures."""
    failures: list[str] = []
    rows = []
    for validation in validations:
        for o in validation.outcomes:
            rows.append((run_id, o.suite, o.expectation, o.column, o.success,
                         None if o.observed is None else json.dumps(o.observed)[:1000],
                         json.dumps(o.details, ensure_ascii=False)))
            if not o.success:
                failures.append(f"{o.suite}: {o.expectation}({o.column or ''}) observed={o.observed} "
                                f"{o.details.get('partial_unexpected_list', '') or o.details.get('exception', '')}")
    with db.connect("qpan_transformer") as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "insert into audit.validation_results (run_id, suite, expectation, column_name, success, "
                "observed_value, details) values (%s, %s, %s, %s, %s, %s, %s::jsonb)", rows)
        conn.commit()
    log.info("gate %s: %d expectations, %d failed", checkpoint, len(rows), len(failures))
    return failures


def run_checkpoint(name: str, run_id: str | None = None, candidate_schema: str = "marts_candidate") -> dict:
    """Run one checkpoint; its GX run is named by `run_id` (the Airflow run id in the DAG)."""
    from qpan.gate import gx as gate_gx
    from qpan.gate.suites import suites

    run_id = run_id or f"manual__{uuid.uuid4().hex[:12]}"
    assets = _assets(candidate_schema)
    validations = gate_gx.run_checkpoint(name, {a: assets[a] for a in CHECKPOINTS[name]}, suites(), _parameters(),
                                         run_id, docs_dir())
    failures = _record(run_id, name, validations)
    docs = record_validations(validations, keep_validation_runs())
    expectations = sum(len(v.outcomes) for v in validations)
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

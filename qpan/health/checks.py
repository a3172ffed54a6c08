"""The quality gate's warnings on source health (GX): recorded in audit.validation_results
(suite `warning__source_health`), never blocking the publish.

On each source's latest day of marts_candidate.mart_source_health: no source failing, drifting
or blocked; quarantine rate, days without a new article and median response time under the
thresholds of qpan.health.settings (QPAN_HEALTH_WARN_*). An ephemeral GX context, as the gate's
(qpan.gate.gx).
"""
from __future__ import annotations

import json
import logging
import os
import uuid

from qpan.core import config, db
from qpan.health.settings import thresholds

log = logging.getLogger(__name__)
SUITE = "warning__source_health"


def _suite(gx, t):
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=SUITE)
    suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["ok", "silent"]))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="quarantine_rate", min_value=0,
                                                            max_value=t.warn_max_quarantine_rate))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="days_since_new_article", min_value=0,
                                                            max_value=t.warn_max_days_silent))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="median_response_ms", min_value=0,
                                                            max_value=t.warn_max_median_response_ms))
    return suite


def source_health_warnings(run_id: str | None = None, schema: str = "marts_candidate") -> dict:
    """Validate the sources' latest health; record every result; return the warnings. Never raises:
    a warning (or a failure to evaluate one) is logged, the publish goes on."""
    run_id = run_id or f"manual__{uuid.uuid4().hex[:12]}"
    try:
        return _run(run_id, schema)
    except Exception as exc:  # noqa: BLE001 - warnings never block the publish
        log.warning("source health warnings could not be evaluated: %s", exc)
        return {"suite": SUITE, "evaluated": False, "error": str(exc)[:500], "warnings": []}


def _run(run_id: str, schema: str) -> dict:
    import great_expectations as gx

    with db.connect("qpan_transformer") as conn:
        if conn.execute("select to_regclass(%s)", (f"{schema}.mart_source_health",)).fetchone()[0] is None:
            return {"suite": SUITE, "evaluated": False, "warnings": [], "error": f"no {schema}.mart_source_health"}
    os.environ["QPAN_GX_WAREHOUSE_URL"] = config.database_url("qpan_transformer").replace(
        "postgresql://", "postgresql+psycopg://", 1)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_postgres(name="warehouse", connection_string="${QPAN_GX_WAREHOUSE_URL}")
    query = (f"select distinct on (source) * from {schema}.mart_source_health "
             "order by source, run_date desc, started_at desc")
    batch = source.add_query_asset(name="source_health_latest", query=query).add_batch_definition_whole_table("all")
    suite = context.suites.add(_suite(gx, thresholds()))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="source_health", data=batch,
                                                                            suite=suite))
    result = definition.run(result_format={"result_format": "SUMMARY", "unexpected_index_column_names": ["source"]})
    rows, warnings = [], []
    for item in result.results:
        cfg = item.expectation_config
        res = item.result or {}
        unexpected = res.get("partial_unexpected_list") or []
        details = {"severity": "warning", "kwargs": {k: v for k, v in cfg.kwargs.items() if k != "batch_id"},
                   "unexpected_count": res.get("unexpected_count"), "partial_unexpected_list": unexpected,
                   "sources": [i.get("source") for i in res.get("partial_unexpected_index_list") or []]}
        rows.append((run_id, SUITE, cfg.type, cfg.kwargs.get("column"), bool(item.success),
                     json.dumps(res.get("unexpected_count"), default=str),
                     json.dumps(details, default=str, ensure_ascii=False)))
        if not item.success:
            warnings.append(f"{cfg.type}({cfg.kwargs.get('column')}): {details['sources'] or unexpected}")
    with db.connect("qpan_transformer") as conn:
        with conn.cursor() as cur:
            cur.executemany("insert into audit.validation_results (run_id, suite, expectation, column_name, success, "
                            "observed_value, details) values (%s, %s, %s, %s, %s, %s, %s::jsonb)", rows)
        conn.commit()
    for w in warnings:
        log.warning("source health warning (not blocking): %s", w)
    return {"suite": SUITE, "evaluated": True, "expectations": len(rows), "warnings": warnings}

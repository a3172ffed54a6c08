"""Source health (issue 19): per crawl of a source, what it fetched and what failed, a status
(ok / silent / drift / failing / blocked), alerts on new problems and recoveries.

- settings: the thresholds, from QPAN_HEALTH_* environment variables;
- status: the status of one run, judged against the source's own history (pure functions);
- record: the row of audit.crawl_runs written at the end of every crawl of a source;
- alerts: Airflow notifiers (webhook or log) and the post-run health check;
- cli: `qpan sources status [--json]`;
- checks: the GX warnings on marts_candidate.mart_source_health (recorded, never blocking).
"""

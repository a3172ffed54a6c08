"""The row of audit.crawl_runs written at the end of every crawl of a source (PostgresStore.
record_crawl_run, called by scrapers.crawl.crawl_source): what the run fetched and what failed,
the source's recency, and the status judged against the source's own earlier runs."""
from __future__ import annotations

import logging
import os
import statistics
from datetime import datetime, timezone

from psycopg.types.json import Jsonb

from qpan.health.settings import thresholds
from qpan.health.status import classify, silent_after_days, usual_gap_days

log = logging.getLogger(__name__)

HISTORY = """
select status, parse_attempts, parse_failures, http_errors_by_class, robots_refusals, articles_landed, started_at
from audit.crawl_runs where source = %s order by started_at desc, crawl_id desc limit 50
"""
NEW_ARTICLE_DAYS = """
select distinct (started_at at time zone 'UTC')::date from audit.crawl_runs
where source = %s and articles_landed > 0
"""
RECENCY = """
select (select max(started_at) from audit.crawl_runs where source = %(s)s and articles_landed > 0),
       (select min(started_at) from audit.crawl_runs where source = %(s)s),
       (select max(published_at) from raw.articles where source = %(s)s and removed_at is null)
"""
COLUMNS = ("run_id", "source", "started_at", "list_pages", "article_pages", "articles_landed", "articles_updated",
           "parse_attempts", "parse_failures", "parse_failures_by_reason", "failing_selectors", "quarantined",
           "quarantine_rate", "requests", "http_errors", "http_errors_by_class", "robots_refusals",
           "median_response_ms", "newest_article_at", "last_new_article_at", "days_since_new_article",
           "usual_gap_days", "silent_after_days", "status", "status_reason")
JSON_COLUMNS = {"parse_failures_by_reason", "failing_selectors", "http_errors_by_class"}


def measure(stats, started_at: datetime) -> dict:
    """The run's own numbers, from its CrawlStats."""
    http_errors = dict(stats.http_errors)
    errors = sum(http_errors.values())
    answered = len(stats.response_ms)
    requests = answered + http_errors.get("timeout", 0) + http_errors.get("network", 0)
    handled = stats.parse_attempts + errors
    return {
        "run_id": os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") or None,
        "source": stats.source,
        "started_at": started_at,
        "list_pages": stats.discovery_ok,
        "article_pages": stats.article_pages,
        "articles_landed": stats.articles_new,
        "articles_updated": stats.articles_updated,
        "parse_attempts": stats.parse_attempts,
        "parse_failures": sum(stats.parse_failures.values()),
        "parse_failures_by_reason": dict(stats.parse_failures),
        "failing_selectors": dict(stats.failing_selectors),
        "quarantined": stats.quarantined,
        "quarantine_rate": round(stats.quarantined / max(handled, stats.quarantined), 4) if stats.quarantined else 0.0,
        "requests": requests,
        "http_errors": errors,
        "http_errors_by_class": http_errors,
        "robots_refusals": stats.skipped_robots,
        "median_response_ms": round(statistics.median(stats.response_ms), 1) if answered else None,
        "failed": stats.failed,
    }


def record_run(conn, stats, started_at: datetime, now: datetime | None = None) -> dict:
    """Judge the run against the source's history and insert it; returns the row."""
    t = thresholds()
    now = now or datetime.now(timezone.utc)
    run = measure(stats, started_at)
    previous = [dict(zip(("status", "parse_attempts", "parse_failures", "http_errors_by_class", "robots_refusals",
                          "articles_landed", "started_at"), r))
                for r in conn.execute(HISTORY, (stats.source,)).fetchall()]
    days = [r[0] for r in conn.execute(NEW_ARTICLE_DAYS, (stats.source,)).fetchall()]
    last_new, first_run, newest = conn.execute(RECENCY, {"s": stats.source}).fetchone()
    if run["articles_landed"]:
        days.append(started_at.astimezone(timezone.utc).date())
        last_new = started_at
    usual = usual_gap_days(days, t)
    since = last_new or first_run or started_at  # a source that never delivered: since its first run
    run.update(
        newest_article_at=newest,
        last_new_article_at=last_new,
        days_since_new_article=round(max(0.0, (now - since).total_seconds() / 86400), 2),
        usual_gap_days=usual,
        silent_after_days=silent_after_days(usual, t),
    )
    run["status"], run["status_reason"] = classify(run, previous, t)
    values = [Jsonb(run[c]) if c in JSON_COLUMNS else run[c] for c in COLUMNS]
    conn.execute(f"insert into audit.crawl_runs ({', '.join(COLUMNS)}) values ({', '.join(['%s'] * len(COLUMNS))})",
                 values)
    if run["status"] != "ok":
        log.warning("source %s is %s: %s", stats.source, run["status"], run["status_reason"])
    else:
        log.info("source %s is ok", stats.source)
    return run

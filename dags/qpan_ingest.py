"""qpan_ingest: crawl every source of a registry into raw.pages / raw.articles.

One mapped task per source (dynamic task mapping); a failing source fails only its own
task, with the URL and reason in its log. Politeness holds across parallel runs and
workers: each source's crawl holds a Postgres advisory lock on its host (the equivalent
of an Airflow pool per host that needs no pool set-up). The run emits the
`qpan://raw/articles` Asset, on which `qpan_transform` is scheduled, only when articles
changed (new, updated or removed): a run that found nothing new leaves `announce` skipped,
says so in its log, and the transform does not run for nothing.

A wrong configuration (an unknown `only`, a malformed date, a registry that does not load)
fails `list_sources` at once, without retries, naming the known sources.

Source health: every crawl records its run and status in audit.crawl_runs; `health_check` then
sends one alert per new problem (a source turned drift, failing, blocked or silent) and one per
recovery, through qpan's Airflow notifier (webhook `QPAN_ALERT_WEBHOOK_URL`, else the log), which
is also every task's failure/success callback (a failed task is announced once, its recovery too).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, task

from qpan.core import settings
from qpan.health.alerts import QpanAlertNotifier

RAW_ARTICLES = Asset("qpan://raw/articles")
DEFAULT_SOURCES = settings.get("QPAN_SOURCES_FILE")
# `none`: only triggered runs (a staging cluster that must not crawl the live portals on unpause)
SCHEDULE = settings.get("QPAN_INGEST_SCHEDULE")


@dag(
    dag_id="qpan_ingest",
    schedule=None if SCHEDULE.lower() == "none" else SCHEDULE,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    # queue: Celery's `crawl` queue (`qpan cluster`, compose `distributed`); the other executors ignore it
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5), "queue": "crawl",
                  "on_failure_callback": [QpanAlertNotifier()], "on_success_callback": [QpanAlertNotifier("recovery")]},
    params={
        "sources_file": Param(DEFAULT_SOURCES, type="string", description="registry file, relative to the repo"),
        "only": Param(None, type=["null", "string"], description="crawl just this source"),
        "since": Param(None, type=["null", "string"], description="backfill window start, YYYY-MM-DD"),
        "until": Param(None, type=["null", "string"], description="backfill window end, YYYY-MM-DD"),
        "archive": Param(False, type="boolean",
                         description="backfill the archive source `only` from the web archive (docs/archive.md)"),
    },
    tags=["qpan", "ingest"],
    doc_md=__doc__,
)
def qpan_ingest():
    @task(retries=0)
    def list_sources(params=None) -> list[str]:
        from airflow.sdk.exceptions import AirflowFailException

        from qpan.ingest.crawl import ConfigError, source_names

        if params.get("archive"):  # an archive backfill (issue 30): `only` names an archive source
            from scrapers.archive_cli import archive_source_names

            try:
                source_names(params["sources_file"], None, params.get("since"), params.get("until"))  # dates checked
                return archive_source_names(params["sources_file"], params.get("only"))
            except (ConfigError, KeyError) as exc:
                raise AirflowFailException(str(exc)) from exc
        try:
            return source_names(params["sources_file"], params.get("only"), params.get("since"), params.get("until"))
        except ConfigError as exc:  # retrying a wrong configuration cannot help
            raise AirflowFailException(str(exc)) from exc

    @task(retries=1, retry_delay=timedelta(seconds=30), map_index_template="{{ task.op_kwargs['source'] }}")
    def crawl(source: str, params=None) -> dict:
        from qpan.ingest.crawl import crawl_one

        if params.get("archive"):
            from scrapers.archive_cli import backfill_task

            return backfill_task(params["sources_file"], source, params.get("since"), params.get("until"))
        return crawl_one(params["sources_file"], source, params.get("since"), params.get("until"))

    @task(trigger_rule="all_done")
    def summarize(stats: list[dict]) -> dict:
        from qpan.ingest.crawl import summarize_stats

        return summarize_stats(list(stats))

    @task(retries=0, outlets=[RAW_ARTICLES])
    def announce(total: dict) -> dict:
        """Emit the Asset (and so start qpan_transform) only when articles changed."""
        from airflow.sdk.exceptions import AirflowSkipException

        from qpan.ingest.crawl import articles_changed

        if not articles_changed(total):
            raise AirflowSkipException("no article new, updated or removed: qpan://raw/articles not emitted, "
                                       "qpan_transform not triggered")
        print(f"articles changed ({total.get('articles_new', 0)} new, {total.get('articles_updated', 0)} updated, "
              f"{total.get('removed', 0)} removed): emitting qpan://raw/articles")
        return total

    @task(retries=0, trigger_rule="all_done")
    def health_check(sources: list[str]) -> dict:
        """Alert on the sources whose status turned bad this run, and on those that recovered.
        Skipped when list_sources failed: no source was crawled, and that task's own failure
        callback has already announced the failed run (once)."""
        from airflow.sdk.exceptions import AirflowSkipException

        from qpan.health.alerts import check_sources

        if sources is None:
            raise AirflowSkipException("list_sources failed (its log says why, its alert is sent): "
                                       "no source was crawled, no health to check")
        return check_sources(list(sources))

    names = list_sources()
    total = summarize(crawl.expand(source=names))
    announce(total)
    total >> health_check(names)


qpan_ingest()

"""qpan_ingest: crawl every source of a registry into raw.pages / raw.articles.

One mapped task per source (dynamic task mapping); a failing source fails only its own
task, with the URL and reason in its log. Politeness holds across parallel runs and
workers: each source's crawl holds a Postgres advisory lock on its host (the equivalent
of an Airflow pool per host that needs no pool set-up). The run emits the
`qpan://raw/articles` Asset, on which `qpan_transform` is scheduled.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, task

RAW_ARTICLES = Asset("qpan://raw/articles")
DEFAULT_SOURCES = os.environ.get("QPAN_SOURCES_FILE", "scrapers/sources.yml")


@dag(
    dag_id="qpan_ingest",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=5)},
    params={
        "sources_file": Param(DEFAULT_SOURCES, type="string", description="registry file, relative to the repo"),
        "only": Param(None, type=["null", "string"], description="crawl just this source"),
        "since": Param(None, type=["null", "string"], description="backfill window start, YYYY-MM-DD"),
        "until": Param(None, type=["null", "string"], description="backfill window end, YYYY-MM-DD"),
    },
    tags=["qpan", "ingest"],
    doc_md=__doc__,
)
def qpan_ingest():
    @task
    def list_sources(params=None) -> list[str]:
        from qpan.ingest import source_names

        return source_names(params["sources_file"], params.get("only"))

    @task(retries=1, retry_delay=timedelta(seconds=30), map_index_template="{{ task.op_kwargs['source'] }}")
    def crawl(source: str, params=None) -> dict:
        from qpan.ingest import crawl_one

        return crawl_one(params["sources_file"], source, params.get("since"), params.get("until"))

    @task(trigger_rule="all_done", outlets=[RAW_ARTICLES])
    def summarize(stats: list[dict]) -> dict:
        from qpan.ingest import summarize_stats

        return summarize_stats(list(stats))

    summarize(crawl.expand(source=list_sources()))


qpan_ingest()

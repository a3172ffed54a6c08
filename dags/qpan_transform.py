"""qpan_transform: facts → dbt marts → quality gate → publish (write-audit-publish).

Scheduled on the `qpan://raw/articles` Asset that `qpan_ingest` emits. dbt builds the marts
into `marts_candidate`; Great Expectations validates them; only a passing candidate is
swapped into `marts`, in one transaction. A failing gate fails the run and leaves the
published marts untouched.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, dag, task

RAW_ARTICLES = Asset("qpan://raw/articles")
MARTS = Asset("qpan://marts")


@dag(
    dag_id="qpan_transform",
    schedule=[RAW_ARTICLES],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 0, "retry_delay": timedelta(minutes=2)},
    tags=["qpan", "transform"],
    doc_md=__doc__,
)
def qpan_transform():
    @task
    def extract_facts() -> dict:
        from qpan.pipeline import extract_pending

        return extract_pending().to_dict()

    @task
    def landing_gate() -> dict:
        from qpan.gate import run_landing_gate

        return run_landing_gate()

    @task
    def dbt_build() -> None:
        from qpan.warehouse import build

        build()

    @task
    def candidate_gate(run_id=None) -> dict:
        from qpan.gate import run_candidate_gate

        return run_candidate_gate(run_id)

    @task(outlets=[MARTS])
    def publish(run_id=None) -> None:
        from qpan.pipeline import publish as publish_marts

        publish_marts(run_id)

    extract_facts() >> landing_gate() >> dbt_build() >> candidate_gate() >> publish()


qpan_transform()

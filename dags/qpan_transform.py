"""qpan_transform: facts → dbt marts → quality gate → publish (write-audit-publish).

Scheduled on the `qpan://raw/articles` Asset that `qpan_ingest` emits.
- extract_facts: the extractor over articles that need it;
- landing_gate: row-level quarantine, then the GX landing suites;
- dbt_build (the default, `QPAN_TRANSFORM_MODE=build`): one `dbt build` task; its incremental
  models do work in proportion to what changed, and one dbt start-up serves every model
  (17-25 s for the sample against 5-7 minutes for cosmos' one task per node: BENCHMARKS.md);
- dbt (`QPAN_TRANSFORM_MODE=cosmos`): the dbt project rendered by astronomer-cosmos, one task
  per model (`dbt build` of the model: run, then its tests), loaded from the manifest built at
  set-up (`qpan.transform.warehouse.parse_manifest`) so that parsing this file stays fast; marts land in
  `marts_candidate`;
- dbt_started / dbt_tests_passed: around the cosmos group, record a build whose every model and
  test passed (audit.tested_builds), which scopes the next run's row-level tests;
- candidate_gate: GX on the candidate marts; a failure fails the run and publishes nothing;
- publish: `marts_candidate` is swapped into `marts` in one transaction.
The mode is read from the environment when the file is parsed: every process that parses it
(`qpan run`, `qpan airflow`, Airflow's own CLI) must agree, or `airflow tasks clear` of a run
made in one shape finds no task of the other. Without a manifest (a fresh checkout before
set-up), cosmos mode falls back to the one `dbt build` task, so the DAG always parses.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Asset, dag, task

from qpan.core import settings
from qpan.health.alerts import QpanAlertNotifier

RAW_ARTICLES = Asset("qpan://raw/articles")
MARTS = Asset("qpan://marts")
REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"
MANIFEST = Path(os.environ.get("DBT_TARGET_PATH", DBT_PROJECT / "target")) / "manifest.json"


def dbt_task_group():
    """The cosmos DbtTaskGroup (profile mapped from the Airflow connection `qpan_warehouse`)."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    from qpan.orchestration.airflow_env import ensure_warehouse_connection

    ensure_warehouse_connection()  # plain `airflow dags test` on the embedded setup has no AIRFLOW_CONN_...
    venv_dbt = Path(settings.get("QPAN_DBT_EXECUTABLE", REPO / ".venv" / "bin" / "dbt"))
    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=DBT_PROJECT, manifest_path=MANIFEST,
                                     install_dbt_deps=False, partial_parse=True),
        profile_config=ProfileConfig(
            profile_name="qpan",
            target_name="airflow",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id="qpan_warehouse", profile_args={"schema": "staging", "threads": 2}),
        ),
        execution_config=ExecutionConfig(
            dbt_executable_path=str(venv_dbt),
            invocation_mode=InvocationMode.DBT_RUNNER,
            # a model's test task runs only the tests of that model; tests spanning several
            # models get their own task after all their parents (should_detach_... below)
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            exclude=["resource_type:seed"],  # seeds load in `dbt_seeds`, only when they changed
            # one `dbt build --select <model>` per task: the model, then its tests
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={"install_deps": False, "env": {"QPAN_MARTS_SCHEMA": "marts_candidate"}},
    )


@dag(
    dag_id="qpan_transform",
    schedule=[RAW_ARTICLES],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    # queue: Celery's `transform` queue, apart from `crawl`, so a long backfill never starves it
    default_args={"retries": 0, "retry_delay": timedelta(minutes=2), "queue": "transform",
                  # a failed task is announced once (webhook or log), and so is its recovery
                  "on_failure_callback": [QpanAlertNotifier()], "on_success_callback": [QpanAlertNotifier("recovery")]},
    tags=["qpan", "transform"],
    doc_md=__doc__,
)
def qpan_transform():
    @task
    def extract_facts() -> dict:
        from qpan.ingest.extraction import extract_pending

        return extract_pending().to_dict()

    @task
    def landing_gate(run_id=None) -> dict:
        from qpan.gate.validate import run_landing_gate

        return run_landing_gate(run_id)

    @task
    def dbt_started() -> str:
        """The database clock as the dbt tasks start (see audit.tested_builds)."""
        from qpan.transform.warehouse import database_now

        return database_now().isoformat()

    @task
    def dbt_tests_passed(started_at: str) -> None:
        """Every model and test task of the cosmos group succeeded: a tested build, so the next
        run's row-level tests of the big models cover only the rows processed after it started."""
        from qpan.transform.warehouse import CANDIDATE_SCHEMA, record_tested_build

        record_tested_build(CANDIDATE_SCHEMA, False, datetime.fromisoformat(started_at))

    @task
    def dbt_seeds() -> list[str]:
        from qpan.transform.warehouse import seed_if_changed

        return seed_if_changed()

    @task
    def dbt_build() -> None:
        from qpan.transform.warehouse import build

        build()

    @task
    def candidate_gate(run_id=None) -> dict:
        from qpan.gate.validate import run_candidate_gate

        return run_candidate_gate(run_id)

    @task(outlets=[MARTS])
    def publish(run_id=None) -> None:
        from qpan.gate.publish import publish as publish_marts

        publish_marts(run_id)

    ready = extract_facts() >> landing_gate()
    if MANIFEST.exists() and settings.get("QPAN_TRANSFORM_MODE") == "cosmos":
        models = dbt_task_group()
        started = dbt_started()
        ready >> started >> dbt_seeds() >> models >> dbt_tests_passed(started) >> candidate_gate() >> publish()
    else:
        ready >> dbt_build() >> candidate_gate() >> publish()


qpan_transform()

"""qpan.orchestration.airflow_internals: every use of Airflow beyond airflow.sdk, its CLI and its REST API, pinned
to the Airflow version it was checked on, each checked against a real metadata DB (the session's
SQLite Airflow home) or real DAG files."""
from __future__ import annotations

import inspect
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from qpan.orchestration import airflow_env, airflow_internals
from qpan.core import config


def test_pinned_to_the_airflow_it_was_checked_on():
    import airflow
    from airflow.api.common.delete_dag import delete_dag

    # On another Airflow: re-check these calls (or their public replacements), then move the pin.
    assert airflow.__version__ == airflow_internals.CHECKED_ON_AIRFLOW
    assert "dag_id" in inspect.signature(delete_dag).parameters
    options = airflow_internals.config_options()
    assert {"dags_folder", "load_examples", "executor"} <= options["core"]
    assert "simple_auth_manager_passwords_file" in options["core"] and "port" in options["api"]


def test_the_dag_files_load_as_airflow_parses_them(tmp_path):
    dags, errors = airflow_internals.load_dags(config.REPO_ROOT / "dags")
    assert errors == {}
    assert set(airflow_env.DAG_IDS) <= set(dags)
    from airflow.sdk import DAG

    ingest = dags["qpan_ingest"]
    assert isinstance(ingest, DAG) and "crawl" in ingest.task_dict and callable(ingest.test)
    assert ingest.relative_fileloc == "qpan_ingest.py"  # relative to the bundle (the DAG folder), as Airflow's

    (tmp_path / "broken.py").write_text("from airflow.sdk import dag\nraise ValueError('a broken DAG file')\n")
    (tmp_path / "fine.py").write_text(textwrap.dedent("""
        from airflow.sdk import dag, task

        @dag(schedule=None)
        def fine():
            @task
            def one():
                return 1
            one()

        fine()
    """))
    dags, errors = airflow_internals.load_dags(tmp_path)
    assert set(dags) == {"fine"} and "a broken DAG file" in errors["broken.py"]


def test_the_metadata_db_reads_match_airflow_s_schema(airflow_home):
    db = airflow_home / "airflow.db"
    assert airflow_internals.example_dag_count(db) == 0  # a fresh home has none
    assert airflow_internals.last_run(db, "qpan_nothing") is None
    assert airflow_internals.failed_tasks(db, "qpan_nothing") == []
    assert airflow_internals.task_instance(db, "qpan_nothing", "crawl", -1) is None
    # each query names columns of Airflow's schema: a renamed one fails here, not in `qpan run`
    with sqlite3.connect(db) as conn:
        columns = {table: {row[1] for row in conn.execute(f"pragma table_info({table})")}
                   for table in ("dag", "dag_run", "task_instance")}
    assert {"dag_id", "bundle_name"} <= columns["dag"]
    assert {"id", "dag_id", "run_id", "state"} <= columns["dag_run"]
    assert {"dag_id", "task_id", "map_index", "run_id", "state", "try_number", "rendered_map_index",
            "start_date", "end_date"} <= columns["task_instance"]
    with pytest.raises(sqlite3.Error):  # no metadata DB: an error the callers handle, not an empty DB made
        airflow_internals.last_run(airflow_home / "missing.db", "qpan_ingest")
    assert not (airflow_home / "missing.db").exists()


def test_deleting_example_dags_runs_against_the_metadata_db(airflow_home):
    res = subprocess.run([sys.executable, "-m", "qpan.orchestration.airflow_internals", "delete-example-dags"],
                         env=airflow_env.env(), cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "deleted 0 example DAGs" in res.stdout  # a fresh home has none

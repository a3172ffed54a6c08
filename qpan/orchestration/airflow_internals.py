"""Where qpan uses Airflow beyond `airflow.sdk`, its CLI and its REST API: here, and nowhere else.

- `load_dags`: the project's DAG objects as Airflow parses them (`DagBag`, which Airflow documents
  for testing DAGs), for `qpan.orchestration.dag_runs`, which then runs them with the public `DAG.test()` (as
  `airflow dags test` does; on 3.3 `DAG.test()` also syncs the DAG's bundle to the metadata DB).
- `last_run`, `failed_tasks`, `task_instance`: what `qpan run` reads of its DAG runs, straight
  from the embedded setup's SQLite metadata DB (its `dag_run` and `task_instance` tables): in
  milliseconds, without Airflow (its CLI costs ~7 s a call; its REST API needs an api-server).
- `example_dag_count`, `delete_example_dags`: the example DAGs an old `load_examples = True` left
  in a home. No public call deletes them in bulk (`airflow dags delete` costs ~7 s per DAG, and
  there are ~80): the metadata DB's `dag` table and `airflow.api.common.delete_dag`.
- `config_options`: every `[section] option` Airflow knows (the compose file's test checks its
  `AIRFLOW__SECTION__KEY` variables against it).

tests/ops/test_airflow_internals.py pins the Airflow version these were checked on and the
behaviour relied on: an upgrade fails there first.

    python -m qpan.orchestration.airflow_internals delete-example-dags   (run with Airflow's environment)
"""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

CHECKED_ON_AIRFLOW = "3.3.2"


def load_dags(folder: Path) -> tuple[dict, dict[str, str]]:
    """The DAGs of the DAG files in `folder` by dag_id (`airflow.sdk.DAG` objects), and the import
    errors by file. Needs Airflow's environment (AIRFLOW_HOME and friends) at import."""
    from airflow.models import DagBag

    bag = DagBag(dag_folder=folder, bundle_path=folder)
    return dict(bag.dags), dict(bag.import_errors)


def _read(db_path: Path, query: str, params: tuple = ()) -> list[tuple]:
    """Rows of a read-only query on the SQLite metadata DB (waits up to 5 s while Airflow writes)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
        return conn.execute(query, params).fetchall()


def last_run(db_path: Path, dag_id: str) -> tuple[int, str] | None:
    """The latest run of `dag_id`: its row id (grows with every run) and its state."""
    rows = _read(db_path, "select id, state from dag_run where dag_id = ? order by id desc limit 1", (dag_id,))
    return (rows[0][0], rows[0][1]) if rows else None


def failed_tasks(db_path: Path, dag_id: str) -> list[str]:
    """The task ids that failed in the latest run of `dag_id`."""
    rows = _read(db_path, "select task_id from task_instance where dag_id = ? and state = 'failed' and run_id = "
                          "(select run_id from dag_run where dag_id = ? order by id desc limit 1)", (dag_id, dag_id))
    return sorted({r[0] for r in rows})


def task_instance(db_path: Path, dag_id: str, task_id: str, map_index: int) -> tuple | None:
    """(run_id, state, try_number, rendered_map_index, seconds) of a task instance of the latest
    run of `dag_id`."""
    rows = _read(db_path,
                 "select ti.run_id, ti.state, ti.try_number, ti.rendered_map_index, "
                 "(julianday(ti.end_date) - julianday(ti.start_date)) * 86400 from task_instance ti "
                 "where ti.dag_id = ? and ti.task_id = ? and ti.map_index = ? and ti.run_id = "
                 "(select run_id from dag_run where dag_id = ? order by id desc limit 1)",
                 (dag_id, task_id, map_index, dag_id))
    return rows[0] if rows else None


def example_dag_count(db_path: Path) -> int:
    """How many example DAGs the SQLite metadata DB at `db_path` holds (read without starting
    Airflow: this runs at every `qpan run`). sqlite3.Error if it is no Airflow 3.3 metadata DB."""
    return _read(db_path, "select count(*) from dag where bundle_name like '%example%'")[0][0]


def delete_example_dags() -> int:
    """Delete every DAG of an example bundle from the metadata DB; returns how many."""
    from airflow.api.common.delete_dag import delete_dag
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        ids = [d for (d,) in session.query(DagModel.dag_id).filter(DagModel.bundle_name.like("%example%"))]
    for dag_id in ids:
        delete_dag(dag_id)
    return len(ids)


def config_options() -> dict[str, set[str]]:
    """Airflow's configuration options by section, its providers' included."""
    from airflow.configuration import retrieve_configuration_description

    return {section: set(spec["options"])
            for section, spec in retrieve_configuration_description(include_providers=True).items()}


if __name__ == "__main__":
    if sys.argv[1:] != ["delete-example-dags"]:
        sys.exit("usage: python -m qpan.orchestration.airflow_internals delete-example-dags")
    print(f"deleted {delete_example_dags()} example DAGs")

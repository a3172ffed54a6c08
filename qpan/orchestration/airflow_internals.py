"""The parts of Airflow qpan uses that are not its public interface, in one place.

Airflow 3.3 has no public call for either: `dag_runs` needs the DAG object that `airflow dags
test` runs (`airflow.utils.cli.get_bagged_dag`, which also syncs the bundle to the metadata DB),
and `airflow_env` deletes the example DAGs an old `load_examples = True` left in a home (the
metadata ORM and `airflow.api.common.delete_dag`; `airflow dags delete` per DAG would cost ~7 s
each). tests/ops/test_airflow_internals.py pins the Airflow version these were checked on and
their signatures: an upgrade fails there first.

    python -m qpan.orchestration.airflow_internals delete-example-dags   (run with Airflow's environment)
"""
from __future__ import annotations

import sys

CHECKED_ON_AIRFLOW = "3.3.2"


def bagged_dag(dag_id: str):
    """The DAG `airflow dags test DAG_ID` would run (parsed from its bundle, synced to the DB)."""
    from airflow.utils.cli import get_bagged_dag

    return get_bagged_dag(bundle_names=None, dag_id=dag_id)


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


if __name__ == "__main__":
    if sys.argv[1:] != ["delete-example-dags"]:
        sys.exit("usage: python -m qpan.orchestration.airflow_internals delete-example-dags")
    print(f"deleted {delete_example_dags()} example DAGs")

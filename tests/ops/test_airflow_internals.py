"""qpan.orchestration.airflow_internals: the Airflow internals qpan uses, pinned to the version they were
checked on; the example-DAG clean-up runs against a real metadata DB."""
from __future__ import annotations

import inspect
import subprocess
import sys

from qpan.orchestration import airflow_env, airflow_internals
from qpan.core import config


def test_pinned_to_the_airflow_it_was_checked_on():
    import airflow
    from airflow.api.common.delete_dag import delete_dag
    from airflow.models.dag import DagModel
    from airflow.utils.cli import get_bagged_dag

    # On another Airflow: re-check these calls (or their public replacements), then move the pin.
    assert airflow.__version__ == airflow_internals.CHECKED_ON_AIRFLOW
    assert {"bundle_names", "dag_id"} <= set(inspect.signature(get_bagged_dag).parameters)
    assert "dag_id" in inspect.signature(delete_dag).parameters
    assert hasattr(DagModel, "bundle_name") and hasattr(DagModel, "dag_id")


def test_deleting_example_dags_runs_against_the_metadata_db(airflow_home):
    res = subprocess.run([sys.executable, "-m", "qpan.orchestration.airflow_internals", "delete-example-dags"],
                         env=airflow_env.env(), cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "deleted 0 example DAGs" in res.stdout  # a fresh home has none

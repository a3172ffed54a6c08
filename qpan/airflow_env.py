"""Airflow on the embedded setup: AIRFLOW_HOME under `.qpan/airflow`, SQLite metadata DB,
the project's `dags/` folder, and the warehouse connection passed through the environment
(`AIRFLOW_CONN_QPAN_WAREHOUSE`), so no password is ever written into Airflow's database."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from qpan import config

log = logging.getLogger(__name__)
DAG_IDS = ("qpan_ingest", "qpan_transform")


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    home = config.airflow_home()
    result = dict(os.environ)
    result.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(config.REPO_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW_CONN_QPAN_WAREHOUSE": config.database_url("qpan_transformer"),
            "QPAN_HOME": str(config.state_dir()),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(config.REPO_ROOT), os.environ.get("PYTHONPATH")])),
            "NO_PROXY": "*",
            # no usage telemetry from cosmos, dbt or GX: nothing leaves this machine
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "DO_NOT_TRACK": "1",
            "SCARF_NO_ANALYTICS": "true",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    if extra:
        result.update(extra)
    return result


def ensure_initialised() -> None:
    """`airflow db migrate` once; a marker keeps later runs from paying ~20 s again."""
    home = config.airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".migrated"
    if marker.exists() and (home / "airflow.db").exists():
        return
    log.info("initialising Airflow metadata DB in %s", home)
    res = subprocess.run([airflow_bin(), "db", "migrate"], env=env(), capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    marker.write_text("ok\n")


def dags_test(dag_id: str, conf: dict | None = None, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run one DAG run through Airflow itself (`airflow dags test`: every task in-process)."""
    import json

    cmd = [airflow_bin(), "dags", "test", dag_id]
    if conf:
        cmd += ["-c", json.dumps(conf)]
    log_dir = config.airflow_home() / "dags-test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}.log"
    with open(log_path, "w") as out:
        res = subprocess.run(cmd, env=env(extra_env), stdout=out, stderr=subprocess.STDOUT, text=True)
    res.log_path = log_path  # type: ignore[attr-defined]
    return res


def dags_test_many(runs: list[tuple[str, dict | None]], extra_env: dict[str, str] | None = None,
                   log_name: str = "run") -> subprocess.CompletedProcess:
    """Several DAG runs, one after another, in ONE Python process (`python -m qpan.dag_runs`):
    each is what `airflow dags test` does, but Airflow and its in-process execution API start
    once instead of once per DAG (~13 s each on two cores). Stops at the first failed run."""
    import json

    plan = [{"dag_id": dag_id, "conf": conf} for dag_id, conf in runs]
    cmd = [sys.executable, "-m", "qpan.dag_runs", json.dumps(plan)]
    log_dir = config.airflow_home() / "dags-test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{log_name}.log"
    with open(log_path, "w") as out:
        res = subprocess.run(cmd, env=env(extra_env), stdout=out, stderr=subprocess.STDOUT, text=True,
                             cwd=str(config.REPO_ROOT))
    res.log_path = log_path  # type: ignore[attr-defined]
    return res

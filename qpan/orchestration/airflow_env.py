"""Airflow on the embedded setup: AIRFLOW_HOME under `.qpan/airflow`, SQLite metadata DB,
the project's `dags/` folder, and the warehouse connection passed through the environment
(`AIRFLOW_CONN_QPAN_WAREHOUSE`), so no password is ever written into Airflow's database."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from qpan.core import config

log = logging.getLogger(__name__)
DAG_IDS = ("qpan_ingest", "qpan_transform", "qpan_backup")


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


def config_settings() -> dict[str, dict[str, str]]:
    """What Airflow's own CLI must find in `AIRFLOW_HOME/airflow.cfg` so that
    `AIRFLOW_HOME=.qpan/airflow .venv/bin/airflow ...` sees the project as `qpan run` does:
    the project's `dags/`, no example DAGs, the SQLite metadata DB by absolute path.
    (The warehouse connection is not written anywhere: the DAGs take it from qpan's config
    when `AIRFLOW_CONN_QPAN_WAREHOUSE` is unset, see `ensure_warehouse_connection`.)"""
    home = config.airflow_home().resolve()
    return {
        "core": {
            "dags_folder": str(config.REPO_ROOT / "dags"),
            "load_examples": "False",
            "unit_test_mode": "False",
            "dagbag_import_timeout": "120",
            "dag_discovery_safe_mode": "False",
        },
        "database": {"sql_alchemy_conn": f"sqlite:///{home / 'airflow.db'}"},
        "api": {"host": "127.0.0.1"},
        # OpenLineage (its provider is installed for cosmos) is off: no lineage events are sent
        # anywhere, and no Airflow command warns that it is not set up
        "openlineage": {"disabled": "True", "namespace": "qpan"},
    }


def write_config(path: Path | None = None, settings: dict[str, dict[str, str]] | None = None) -> Path:
    """Set `settings` in airflow.cfg, keeping every other line (and comment) as it is; a
    missing file gets only these settings (Airflow's defaults apply to the rest)."""
    path = path or config.airflow_home() / "airflow.cfg"
    settings = settings or config_settings()
    lines = path.read_text().splitlines() if path.exists() else []
    pending = {section: dict(values) for section, values in settings.items()}
    out: list[str] = []
    section = None

    def flush(current):
        for key, value in pending.pop(current, {}).items():
            out.append(f"{key} = {value}")

    for line in lines:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if section in pending:
                flush(section)
            section = stripped[1:-1].strip()
            out.append(line)
            continue
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith(("#", ";")) else None
        if section in pending and key in pending[section]:
            out.append(f"{key} = {pending[section].pop(key)}")
            continue
        out.append(line)
    if section in pending:
        flush(section)
    for name in list(pending):
        out += ["", f"[{name}]"]
        flush(name)
    text = "\n".join(out) + "\n"
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return path


def ensure_warehouse_connection() -> None:
    """The DAGs' warehouse connection `qpan_warehouse`: from `AIRFLOW_CONN_QPAN_WAREHOUSE` when
    set (compose, `qpan run`, `qpan airflow`), else from qpan's own configuration, so that
    Airflow's own CLI (`airflow dags test`, `airflow tasks test`) works on the embedded setup."""
    if not os.environ.get("AIRFLOW_CONN_QPAN_WAREHOUSE"):
        os.environ["AIRFLOW_CONN_QPAN_WAREHOUSE"] = config.database_url("qpan_transformer")


def _drop_example_dags(home: Path) -> None:
    """A home where Airflow's CLI once ran with `load_examples = True` holds ~80 example DAGs
    that `airflow dags list` then shows (or fails to deserialize): delete them, once."""
    import sqlite3

    from qpan.orchestration import airflow_internals

    path = home / "airflow.db"
    if not path.exists():
        return
    try:
        found = airflow_internals.example_dag_count(path)
    except sqlite3.Error:
        return
    if not found:
        return
    log.info("deleting %d example DAGs from %s (left by a run with load_examples = True)", found, path)
    subprocess.run([sys.executable, "-m", "qpan.orchestration.airflow_internals", "delete-example-dags"], env=env(),
                   cwd=config.REPO_ROOT, capture_output=True, text=True, check=False)


def ensure_initialised() -> None:
    """`airflow db migrate` once (a marker keeps later runs from paying ~20 s again), then the
    project's settings into airflow.cfg (every time: cheap). Airflow writes its full default
    airflow.cfg first: it holds the secrets every service must share (`[api_auth] jwt_secret`,
    `[api] secret_key`, `[core] fernet_key`), so it is never written from scratch here."""
    home = config.airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".migrated"
    if not (marker.exists() and (home / "airflow.db").exists()):
        log.info("initialising Airflow metadata DB in %s", home)
        res = subprocess.run([airflow_bin(), "db", "migrate"], env=env(), capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
        marker.write_text("ok\n")
    if not (home / "airflow.cfg").exists():  # Airflow writes its default config on first use
        subprocess.run([airflow_bin(), "config", "get-value", "core", "executor"], env=env(),
                        capture_output=True, text=True)
    write_config()
    _drop_example_dags(home)


def dags_test_many(runs: list[tuple[str, dict | None]], extra_env: dict[str, str] | None = None,
                   log_name: str = "run") -> subprocess.CompletedProcess:
    """Several DAG runs, one after another, in ONE Python process (`python -m qpan.orchestration.dag_runs`):
    each is what `airflow dags test` does, but Airflow and its in-process execution API start
    once instead of once per DAG (~13 s each on two cores). Stops at the first failed run."""
    import json

    from qpan.orchestration.run_logs import new_log_path, run_followed

    plan = [{"dag_id": dag_id, "conf": conf} for dag_id, conf in runs]
    cmd = [sys.executable, "-m", "qpan.orchestration.dag_runs", json.dumps(plan)]
    log_path = new_log_path(config.airflow_home() / "dags-test-logs", log_name)
    print(f"    log: {log_path}", flush=True)
    res = run_followed(cmd, env(extra_env), config.REPO_ROOT, log_path, lambda text: print(text, flush=True))
    res.log_path = log_path  # type: ignore[attr-defined]
    return res

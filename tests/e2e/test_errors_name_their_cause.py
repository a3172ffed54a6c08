"""Errors that name their cause (issue 17, item 9), each run as a user types it: one line naming
the cause, and a non-zero exit."""
from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qpan.core import config
from helpers.net import free_port

BIN = Path(sys.executable).parent


def qpan(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "qpan"), *args], cwd=config.REPO_ROOT, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_db_status_with_an_unreachable_database_url_fails():
    url = f"postgresql://qpan_admin:secret-pw-123@127.0.0.1:{free_port()}/qpan"
    res = qpan("db", "status", env=dict(os.environ, QPAN_DATABASE_URL=url))
    assert res.returncode == 3, res.stdout + res.stderr
    assert "cannot reach the Postgres of QPAN_DATABASE_URL" in res.stderr and "connection refused" in res.stderr
    assert "secret-pw-123" not in res.stdout + res.stderr


@pytest.mark.parametrize("command", [("db", "status"), ("build",)])
def test_a_malformed_database_url_is_one_line(command):
    res = qpan(*command, env=dict(os.environ, QPAN_DATABASE_URL="notaurl"))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "QPAN_DATABASE_URL must look like postgresql://" in lines[0], res.stderr


def test_build_with_the_database_down_says_so_first():
    url = f"postgresql://qpan_admin:pw-0123456789@127.0.0.1:{free_port()}/qpan"
    res = qpan("build", env=dict(os.environ, QPAN_DATABASE_URL=url))
    assert res.returncode == 1
    assert "seeds" not in res.stderr and "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach" in lines[0] and "connection refused" in lines[0], res.stderr


def test_a_second_qpan_run_names_the_one_that_holds_the_clone():
    path = config.state_dir() / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.seek(0)
        held.truncate()
        held.write(f"{os.getpid()}\n")
        held.flush()
        res = qpan("run")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"another `qpan run` (pid {os.getpid()}) is running in this clone" in lines[0], \
        res.stdout + res.stderr


@pytest.mark.slow
def test_sample_port_in_use_names_the_port(warehouse_url, airflow_home):
    port = config.sample_port()
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("127.0.0.2", port))
        except OSError:
            pytest.skip(f"sample port {port} already in use by something else")
        busy.listen()
        res = qpan("run")
    assert res.returncode == 1
    last = res.stderr.strip().splitlines()[-1]
    assert f"port {port} of the sample portal server" in last and "another `qpan run`" in last, res.stderr


@pytest.mark.slow
def test_postgres_gone_during_a_dag_run_names_the_connection(warehouse_url, airflow_home):
    from qpan.orchestration.run import DagRunFailed, run_dags

    port = free_port()
    gone = f"postgresql://qpan_admin:pw-0123456789@127.0.0.1:{port}/qpan"
    with pytest.raises(DagRunFailed) as failed:
        run_dags([("qpan_transform", None)], {"QPAN_DATABASE_URL": gone})
    message = str(failed.value)
    assert "\n" not in message, message
    assert "qpan_transform ended failed at task extract_facts" in message
    assert f"port {port}" in message and "refused" in message.lower(), message

    # README: rerun the failed dbt task and what follows it, with Airflow's own CLI
    import sqlite3

    def states():
        with sqlite3.connect(airflow_home / "airflow.db") as conn:
            return dict(conn.execute(
                "select task_id, state from task_instance where dag_id = 'qpan_transform' and run_id = "
                "(select run_id from dag_run where dag_id = 'qpan_transform' order by id desc limit 1)").fetchall())

    assert states()["dbt_build"] == "upstream_failed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    clear = subprocess.run([str(BIN / "airflow"), "tasks", "clear", "qpan_transform", "-t", "dbt", "--only-failed",
                            "--downstream", "-y"], env=dict(env, AIRFLOW_HOME=str(airflow_home)),
                           cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert clear.returncode == 0, clear.stderr[-3000:]
    after = states()
    assert after["dbt_build"] is None and after["candidate_gate"] is None and after["publish"] is None, after
    assert after["extract_facts"] == "failed", after  # not a dbt task, not downstream of one


def test_another_qpan_pg_port_names_the_port_this_clones_server_runs_on():
    """Issue 27, point 8: the server runs on one port, the shell says another. `db status` must not
    claim it runs on the wrong one, and `db start` must not end on a bare "connection refused"."""
    from qpan.core import pgserver

    pgserver.start()
    actual, wrong = config.pg_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "QPAN_DATABASE_URL"}
    env["QPAN_PG_PORT"] = str(wrong)
    res = qpan("db", "status", env=env)
    assert res.returncode == 3
    assert f"running on 127.0.0.1:{wrong}" not in res.stdout
    assert f"running on 127.0.0.1:{actual}, not on QPAN_PG_PORT={wrong}" in res.stdout, res.stdout
    assert f"runs on 127.0.0.1:{actual}" in res.stderr and f"use QPAN_PG_PORT={actual}" in res.stderr, res.stderr
    res = qpan("db", "start", env=env)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"runs on 127.0.0.1:{actual}" in lines[0] and "refused" not in lines[0], res.stderr
    assert pgserver.running_port() == actual  # nothing was stopped or moved

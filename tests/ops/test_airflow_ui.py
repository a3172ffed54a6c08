"""`qpan airflow` end to end: Airflow's own api-server, scheduler, dag-processor and triggerer
on the embedded setup, reached the way a user reaches them (REST API v2 with a JWT).

Starts `python -m qpan.orchestration.airflow_local` (the handler behind `qpan airflow`) in its own process
group with a temporary AIRFLOW_HOME, a free port and a database of its own, then:
health endpoint → token → the project's DAGs listed → one qpan_transform run whose first task
really executes (proves the execution API and the shared JWT secret) → SIGTERM stops every service.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from qpan.core import config, db, pgserver
from helpers.net import free_port

pytestmark = pytest.mark.slow
REPO = config.REPO_ROOT
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _call(port: int, method: str, path: str, body: dict | None = None, token: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with OPENER.open(req, timeout=10) as resp:
        return json.loads(resp.read().decode() or "null")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Server:
    def __init__(self, proc: subprocess.Popen, home: Path, out: Path, port: int):
        self.proc, self.home, self.out, self.port = proc, home, out, port

    def service_pids(self) -> list[int]:
        """Each Airflow service leads its own process group; their pids are in the output."""
        return [int(m) for m in re.findall(r"\(pid (\d+),", self.out.read_text())]

    def diagnostics(self) -> str:
        parts = [f"--- qpan airflow output ({self.out}) ---", self.out.read_text(errors="replace")[-3000:]]
        for log in sorted((self.home / "logs" / "services").glob("*.log")):
            parts += [f"--- {log.name} (tail) ---", "\n".join(log.read_text(errors="replace").splitlines()[-30:])]
        return "\n".join(parts)

    def wait_for(self, what: str, probe, timeout: float, interval: float = 2):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"qpan airflow exited ({self.proc.returncode}) while waiting for {what}\n{self.diagnostics()}")
            try:
                result = probe()
            except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
                result, last = None, exc
            if result:
                print(f"[{time.strftime('%H:%M:%S')}] {what}: ok")
                return result
            time.sleep(interval)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last!r})\n{self.diagnostics()}")


@pytest.fixture()
def own_database():
    """A database of its own on the embedded server (the DAG run writes into it)."""
    external = os.environ.pop("QPAN_DATABASE_URL", None)
    try:
        pgserver.start()
        name = f"qpan_ops_{uuid.uuid4().hex[:8]}"
        url = config.database_url(config.ADMIN_ROLE, dbname=name)
    finally:
        if external is not None:
            os.environ["QPAN_DATABASE_URL"] = external
    yield url
    with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture()
def server(tmp_path, own_database):
    port = free_port()
    home = tmp_path / "airflow"
    out = tmp_path / "qpan-airflow.out"
    env = dict(os.environ, AIRFLOW_HOME=str(home), QPAN_DATABASE_URL=own_database,
               NO_PROXY="*", PYTHONUNBUFFERED="1")
    env.pop("QPAN_AIRFLOW_PASSWORD", None)
    with open(out, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "qpan.orchestration.airflow_local", "--port", str(port)],
                                cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(proc, home, out, port)
    try:
        yield srv
    finally:
        for pgid in [proc.pid, *srv.service_pids()]:
            if _group_alive(pgid):
                os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_airflow_ui_serves_project_dags_and_runs_tasks(server):
    t0 = time.monotonic()
    port = server.port
    health = server.wait_for("the health endpoint", lambda: _call(port, "GET", "/api/v2/monitor/health"), 150)
    assert health["metadatabase"]["status"] == "healthy", health

    # The banner says where the login is kept, never the password; the one in that file gets a JWT.
    server.wait_for("the ready banner", lambda: "Airflow is up" in server.out.read_text(), 30, 1)
    passwords = server.home / "simple_auth_manager_passwords.json.generated"
    password = json.loads(passwords.read_text())["admin"]
    banner = server.out.read_text()
    assert f"http://127.0.0.1:{port}" in banner and f"login:    admin, password kept in {passwords}" in banner, banner
    assert password not in banner
    # Triggered runs of a paused DAG sit in `queued`: the banner says so and how to unpause.
    assert "stays `queued`" in banner and "dags unpause qpan_ingest" in banner, banner
    token = _call(port, "POST", "/auth/token", {"username": "admin", "password": password})["access_token"]
    with pytest.raises(urllib.error.HTTPError) as denied:
        _call(port, "POST", "/auth/token", {"username": "admin", "password": password + "x"})
    assert denied.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        _call(port, "GET", "/api/v2/dags")
    assert anonymous.value.code in (401, 403)

    def dag_ids():
        ids = {d["dag_id"] for d in _call(port, "GET", "/api/v2/dags?limit=100", token=token)["dags"]}
        return ids if {"qpan_ingest", "qpan_transform"} <= ids else None

    assert {"qpan_ingest", "qpan_transform"} <= server.wait_for("the DAG processor to parse dags/", dag_ids, 120)
    errors = _call(port, "GET", "/api/v2/importErrors", token=token)
    assert errors["total_entries"] == 0, errors

    # A real run: the first task must execute through the scheduler → LocalExecutor → execution API.
    # qpan_transform, not qpan_ingest: unpausing the @daily ingest DAG would start a scheduled
    # crawl of the live registry. The transform is Asset-scheduled, so only our manual run starts.
    # Unpaused with the command the banner and docs/operations.md print, Airflow's own CLI.
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    unpause = subprocess.run([str(Path(sys.executable).with_name("airflow")), "dags", "unpause", "qpan_transform"],
                             env=dict(cli_env, AIRFLOW_HOME=str(server.home)), cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert unpause.returncode == 0, unpause.stdout + unpause.stderr
    assert _call(port, "GET", "/api/v2/dags/qpan_transform", token=token)["is_paused"] is False
    run = _call(port, "POST", "/api/v2/dags/qpan_transform/dagRuns", {"logical_date": None}, token=token)
    run_path = f"/api/v2/dags/qpan_transform/dagRuns/{run['dag_run_id']}/taskInstances"

    def first_task_done():
        states = {ti["task_id"]: ti["state"] for ti in _call(port, "GET", run_path, token=token)["task_instances"]}
        state = states.get("extract_facts")
        if state in ("failed", "upstream_failed"):
            pytest.fail(f"extract_facts {state}\n{server.diagnostics()}")
        return state == "success"

    server.wait_for("extract_facts to succeed", first_task_done, 120)

    # SIGTERM to `qpan airflow` stops every service it started.
    server.proc.send_signal(signal.SIGTERM)
    try:
        server.proc.wait(timeout=100)  # stop_all: up to 30 s + 30 s, then SIGKILL
    except subprocess.TimeoutExpired:
        pytest.fail(f"qpan airflow did not stop on SIGTERM\n{server.diagnostics()}")
    assert server.proc.returncode == 0, server.diagnostics()
    groups = server.service_pids()
    assert len(groups) == 4, server.out.read_text()
    alive = [pgid for pgid in groups if _group_alive(pgid)]
    assert not alive, f"process groups {alive} outlived `qpan airflow`\n{server.diagnostics()}"
    assert "stopping Airflow" in server.out.read_text()
    print(f"qpan airflow: up, DAGs listed, task run and stopped in {time.monotonic() - t0:.0f}s")

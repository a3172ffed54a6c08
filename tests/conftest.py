"""Shared fixtures: a real Postgres (the embedded server) with a fresh database per test module."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from qpan.core import config, db, pgserver

SHARED = config.SHARED_DIR
_PG_RUNNING_AT_START: bool | None = None


def pytest_sessionstart(session):
    """Remember whether the embedded Postgres was already up (a `make run` of the developer)."""
    global _PG_RUNNING_AT_START
    try:
        _PG_RUNNING_AT_START = pgserver.is_running()
    except Exception:  # noqa: BLE001 - not installed or not initialised: nothing to remember
        _PG_RUNNING_AT_START = None


# Slow, self-contained checks start in the background, niced, as soon as the tests are collected:
# sqlfluff takes ~40 s of one core, and the serial suite leaves the second core mostly idle while it
# waits on dbt, Airflow and Postgres. The test that owns a check only waits for its result (and
# starts it itself when run alone).
BACKGROUND_CHECKS = {
    "test_models_pass_sqlfluff_lint": (["sqlfluff", "lint", "models", "tests"], config.REPO_ROOT / "dbt_project"),
}
_BACKGROUND: dict[str, tuple[subprocess.Popen, Path]] = {}


def _start_background_check(name: str) -> None:
    if name in _BACKGROUND:
        return
    argv, cwd = BACKGROUND_CHECKS[name]
    out = Path(tempfile.mkstemp(prefix=f"qpan-{name}-", suffix=".log")[1])
    with open(out, "w") as fh:
        proc = subprocess.Popen([str(Path(sys.executable).parent / argv[0]), *argv[1:]], cwd=cwd,
                                stdout=fh, stderr=subprocess.STDOUT, text=True,
                                preexec_fn=lambda: os.nice(10))
    _BACKGROUND[name] = (proc, out)


def pytest_collection_modifyitems(session, config, items):
    selected = {item.originalname for item in items if hasattr(item, "originalname")}
    for name in BACKGROUND_CHECKS.keys() & selected:
        _start_background_check(name)


@pytest.fixture()
def background_check(request):
    """The finished background check of this test: (exit code, output)."""
    name = request.node.originalname
    _start_background_check(name)
    proc, out = _BACKGROUND[name]
    proc.wait(timeout=600)
    return proc.returncode, out.read_text(errors="replace")


def pytest_sessionfinish(session, exitstatus):
    """Stop the embedded Postgres if this test session started it (and say so); leave one that
    was already running as it was."""
    for proc, _out in _BACKGROUND.values():
        if proc.poll() is None:
            proc.kill()
    try:
        if _PG_RUNNING_AT_START is True or not pgserver.is_running():
            return
        pgserver.stop()
    except Exception as exc:  # noqa: BLE001 - never turn a finished session into an error
        print(f"\nqpan tests: could not stop the embedded Postgres they started: {exc}")
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    line = (f"qpan tests: stopped the embedded Postgres they started (127.0.0.1:{config.pg_port()}, "
            f"{pgserver.pgdata()}); `make run` or `qpan db start` starts it again")
    if reporter is not None:
        reporter.write_line(line)
    else:
        print(line)


@contextlib.contextmanager
def fresh_warehouse():
    """A fresh, migrated warehouse database on the embedded server, used through
    QPAN_DATABASE_URL by everything the test starts (dbt, GX, Airflow subprocesses);
    dropped afterwards, and the previous QPAN_DATABASE_URL restored."""
    previous = os.environ.get("QPAN_DATABASE_URL")
    os.environ.pop("QPAN_DATABASE_URL", None)
    pgserver.start()
    name = f"qpan_test_{uuid.uuid4().hex[:8]}"
    url = config.database_url(config.ADMIN_ROLE, dbname=name)
    os.environ["QPAN_DATABASE_URL"] = url
    try:
        db.migrate()
        yield url
    finally:
        os.environ.pop("QPAN_DATABASE_URL", None)
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        if previous is not None:
            os.environ["QPAN_DATABASE_URL"] = previous


@pytest.fixture(scope="session")
def warehouse_factory():
    """`with warehouse_factory() as url:` a database of one's own, for a module that needs one."""
    return fresh_warehouse


@pytest.fixture(scope="module")
def warehouse_url():
    """A database of the module's own: one module's rows never change another's results."""
    with fresh_warehouse() as url:
        yield url


@pytest.fixture()
def admin_conn(warehouse_url):
    with db.connect() as conn:
        conn.autocommit = True
        yield conn


@pytest.fixture()
def store(warehouse_url):
    from qpan.landing.store import PostgresStore

    with PostgresStore() as s:
        yield s


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory):
    """A fresh Airflow home (SQLite metadata DB, migrated once) for the tests that run DAGs."""
    from qpan.orchestration import airflow_env

    home = tmp_path_factory.mktemp("airflow")
    previous = os.environ.get("AIRFLOW_HOME")
    os.environ["AIRFLOW_HOME"] = str(home)
    airflow_env.ensure_initialised()
    yield home
    if previous is None:
        os.environ.pop("AIRFLOW_HOME", None)
    else:
        os.environ["AIRFLOW_HOME"] = previous


@pytest.fixture()
def portal():
    """The sample portal server on loopback hosts (a free port), QPAN_SAMPLE_PORT set for it."""
    from scrapers.portal_server import PortalServer

    with PortalServer() as srv:
        old = os.environ.get("QPAN_SAMPLE_PORT")
        os.environ.update(srv.env())
        yield srv
        if old is None:
            os.environ.pop("QPAN_SAMPLE_PORT", None)
        else:
            os.environ["QPAN_SAMPLE_PORT"] = old


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium for the headless-browser tests, installed by the set-up when missing
    (CI runs as root); skips where it can be neither found nor installed."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run("apt-get update -qq && apt-get install -y -qq chromium", shell=True, env=env,
                       capture_output=True, timeout=900)
        exe = shutil.which("chromium")
    if not exe:
        pytest.skip("chromium is not installed and could not be installed with apt-get (not root or no apt)")
    return exe

"""Shared fixtures: a real Postgres (the embedded server) with a fresh database per test module;
the suite's markers; each pytest-xdist worker's own state folder and ports; the leak scan."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from qpan.core import config, db, pgserver

SHARED = config.SHARED_DIR
TESTS = Path(__file__).resolve().parent
_PG_RUNNING_AT_START: bool | None = None


# --- pytest-xdist workers: each one a clone of its own --------------------------------------------
# `make test` runs the suite in pytest-xdist workers (`-n`). The first worker uses the caller's state
# folder and ports, as a plain `pytest` does; every other worker gets a state folder of its own
# (`.qpan/workers/gwN`: its own embedded Postgres, secrets, Airflow and Superset homes, dbt target)
# and ports of its own, so that no worker can see or stop another's servers (some tests stop and
# restart Postgres, kill workers of the Celery cluster, or publish into the warehouse).

def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_block(start: int, offsets: tuple[int, ...]) -> int:
    """A base port such that base + each offset is free (Postgres, sample portal, Redis)."""
    for base in range(start, start + 2000, 37):
        if all(_port_is_free(base + off) for off in offsets):
            return base
    raise RuntimeError(f"no free block of ports from {start}")


def isolate_worker(worker: str) -> None:
    """Point this process at worker `worker`'s own state folder and ports (gw0 keeps the caller's)."""
    index = int(worker.removeprefix("gw"))
    if index == 0:
        return
    home = config.REPO_ROOT / ".qpan" / "workers" / worker
    home.mkdir(parents=True, exist_ok=True)
    caller = {name: int(os.environ.get(name, default)) for name, default in
              (("QPAN_PG_PORT", 55432), ("QPAN_AIRFLOW_PORT", 8080), ("QPAN_BI_PORT", 8088))}
    for inherited in ("QPAN_SAMPLE_PORT", "QPAN_REDIS_PORT", "QPAN_DATABASE_URL", "AIRFLOW_HOME",
                      "QPAN_SUPERSET_HOME", "QPAN_CLUSTER_DIR"):
        os.environ.pop(inherited, None)  # derived from this worker's own state folder and ports
    os.environ["QPAN_HOME"] = str(home)
    if pgserver.is_running():  # left by a run of this worker that was killed: its port may be any
        pgserver.stop()
    step = 100 * (index - 1)
    os.environ.update(
        # QPAN_SAMPLE_PORT and QPAN_REDIS_PORT default to QPAN_PG_PORT + 10 and + 20
        QPAN_PG_PORT=str(_free_port_block(caller["QPAN_PG_PORT"] + 1000 + step, (0, 10, 20))),
        QPAN_AIRFLOW_PORT=str(_free_port_block(caller["QPAN_AIRFLOW_PORT"] + 700 + step, (0,))),
        QPAN_BI_PORT=str(_free_port_block(caller["QPAN_BI_PORT"] + 700 + step, (0,))),
        # dbt's target folder (manifest, partial parse) is the project's by default: one per worker
        DBT_TARGET_PATH=str(home / "dbt-target"),
    )


def pytest_addoption(parser):
    parser.addoption("--leak-scan", action="store_true",
                     help="after the session, look for every generated secret in everything the run wrote "
                          "(the state folders and pytest's temporary folders; tests/leakscan.py)")


def pytest_configure(config):
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker:
        isolate_worker(worker)


def pytest_sessionstart(session):
    """Remember whether the embedded Postgres was already up (a `make run` of the developer)."""
    global _PG_RUNNING_AT_START
    try:
        _PG_RUNNING_AT_START = pgserver.is_running()
    except Exception:  # noqa: BLE001 - not installed or not initialised: nothing to remember
        _PG_RUNNING_AT_START = None


# Slow, self-contained checks start in the background, niced, as soon as the tests are collected
# in a plain (serial) pytest run: sqlfluff takes ~40 s of one core, and a serial run leaves the
# second core mostly idle while it waits on dbt, Airflow and Postgres. The test that owns a check
# only waits for its result (and starts it itself when run alone, or under pytest-xdist, where the
# other workers keep the cores busy meanwhile).
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


# --- markers -------------------------------------------------------------------------------------
# What each test needs, so that a selection can leave the slow parts out (`make test-fast` is
# `-m "not dbt and not airflow and not service"`). `db` follows from the fixtures a test uses; the
# others are per module (paths under tests/). A test with none of them is `unit`.
DB_FIXTURES = {"warehouse_url", "warehouse_factory", "store", "admin_conn", "scratch_db", "sample_warehouse"}
SERVICE = {  # start whole services: the Celery cluster, Superset, DAG runs end to end, Airflow's UI
    "cluster/test_cluster.py", "bi/test_superset.py", "e2e/test_main_job.py", "e2e/test_ingest_dag.py",
    "e2e/test_backup_restore.py", "e2e/test_upgrade.py", "e2e/test_errors_name_their_cause.py",
    "ops/test_airflow_ui.py",
}
AIRFLOW = {  # run DAGs, Airflow's CLI or its metadata database (also: every test using `airflow_home`)
    "cluster/test_cluster.py", "e2e/test_main_job.py", "e2e/test_ingest_dag.py", "e2e/test_backup_restore.py",
    "e2e/test_errors_name_their_cause.py", "ops/test_airflow_cli.py", "ops/test_airflow_ui.py",
    "review/test_review_loop.py",  # its one `--apply` runs qpan_transform through Airflow
}
DBT = {  # run dbt (or a check that drives it: GX on dbt's relations, sqlfluff's dbt templater)
    "cluster/test_cluster.py", "bi/test_superset.py", "e2e/test_main_job.py", "e2e/test_backup_restore.py",
    "e2e/test_upgrade.py", "e2e/test_errors_name_their_cause.py", "gate/test_gate_cli_and_docs.py",
    "gate/test_write_audit_publish.py", "health/test_source_health.py", "reliability/test_rel_transform.py",
    "report/test_report.py", "review/test_review_loop.py", "review/test_review_stamps.py",
    "warehouse/test_warehouse.py",
    "warehouse/test_model_plans.py", "warehouse/test_units_across_reform.py",
    "warehouse/test_analyst_questions.py", "warehouse/test_archive_marts.py", "warehouse/test_cosmos_render.py",
}
# The longest modules first: pytest-xdist hands out whole files in this order (`--dist loadfile
# --no-loadscope-reorder`), so the long ones start at once and the short ones fill the end.
FIRST = ["cluster/test_cluster.py", "e2e/test_backup_restore.py", "e2e/test_upgrade.py", "bi/test_superset.py",
         "e2e/test_main_job.py", "warehouse/test_units_across_reform.py", "review/test_review_loop.py",
         "warehouse/test_model_plans.py", "e2e/test_errors_name_their_cause.py", "e2e/test_ingest_dag.py"]


def _module(item) -> str:
    return Path(str(item.fspath)).resolve().relative_to(TESTS).as_posix()


def mark_item(item) -> None:
    module = _module(item)
    kinds = {name for name, modules in (("service", SERVICE), ("airflow", AIRFLOW), ("dbt", DBT)) if module in modules}
    fixtures = set(getattr(item, "fixturenames", ()))
    if "airflow_home" in fixtures:
        kinds.add("airflow")
    if fixtures & DB_FIXTURES:
        kinds.add("db")
    for kind in sorted(kinds) or ["unit"]:
        item.add_marker(kind)


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        mark_item(item)
    rank = {module: i for i, module in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(_module(item), len(FIRST)))  # stable: the rest keep their order
    if hasattr(config, "workerinput"):
        return  # every pytest-xdist worker collects every test: the owner starts its check when it runs
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


def _leak_scan(session) -> None:
    """Every generated secret of every worker, in nothing the run wrote (tests/leakscan.py): the
    state folders (the workers' are under `.qpan/workers/`) and pytest's temporary folders (the
    tests' Airflow homes and task logs; the workers' are under the session's)."""
    import leakscan

    roots = [config.state_dir()]
    basetemp = session.config.getoption("basetemp")
    if basetemp:
        roots.append(Path(basetemp))
    workers = config.REPO_ROOT / ".qpan" / "workers"
    if workers.exists() and config.state_dir() not in workers.parents:
        roots.append(workers)
    secrets = leakscan.generated_secrets(roots)
    found = leakscan.leaks(roots, secrets)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    write(f"qpan tests: {len(secrets)} generated secrets looked for under {', '.join(map(str, roots))}: "
          + ("none found outside their files" if not found else f"{len(found)} LEAKS"))
    for line in found:
        write(f"  {line}")
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_sessionfinish(session, exitstatus):
    """Stop the embedded Postgres if this test session started it (and say so); leave one that
    was already running as it was. With --leak-scan, the controller scans what the run wrote."""
    for proc, _out in _BACKGROUND.values():
        if proc.poll() is None:
            proc.kill()
    if session.config.getoption("leak_scan") and not hasattr(session.config, "workerinput"):
        _leak_scan(session)
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


def _new_database(template: str | None = None) -> str:
    """A new database on the embedded server (started if need be), empty or a copy of `template`."""
    previous = os.environ.pop("QPAN_DATABASE_URL", None)  # pgserver.start() returns early while it is set
    try:
        pgserver.start()
    finally:
        if previous is not None:
            os.environ["QPAN_DATABASE_URL"] = previous
    name = f"qpan_test_{uuid.uuid4().hex[:8]}"
    with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
        if template is None:
            conn.execute(f'create database "{name}"')
        else:
            # a template must have no other session: a pooled connection left by GX would make this fail
            conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s", (template,))
            conn.execute(f'create database "{name}" template "{template}"')
    return name


def _drop_database(name: str) -> None:
    with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@contextlib.contextmanager
def _warehouse_env(name: str):
    """Database `name`, migrated, as QPAN_DATABASE_URL of everything started meanwhile (dbt, GX,
    Airflow subprocesses); the previous QPAN_DATABASE_URL restored afterwards."""
    previous = os.environ.get("QPAN_DATABASE_URL")
    url = config.database_url(config.ADMIN_ROLE, dbname=name)
    os.environ["QPAN_DATABASE_URL"] = url
    try:
        db.migrate()  # for a copy: the database's own grants, which a template does not carry
        yield url
    finally:
        os.environ.pop("QPAN_DATABASE_URL", None)
        if previous is not None:
            os.environ["QPAN_DATABASE_URL"] = previous


@contextlib.contextmanager
def fresh_warehouse(template: str | None = None):
    """A fresh, migrated warehouse database on the embedded server (a copy of `template` when
    given), used through QPAN_DATABASE_URL by everything the test starts; dropped afterwards."""
    name = _new_database(template)
    try:
        with _warehouse_env(name) as url:
            yield url
    finally:
        _drop_database(name)


@pytest.fixture(scope="session")
def published_sample():
    """The name of a database holding the sample articles (tests/helpers/sample.py, INITIAL, two
    days old) published as `make run` publishes: the real dbt build into the candidate schema, the
    real candidate gate, the publish swap. Built once per session (per pytest-xdist worker), never
    used directly: `sample_warehouse` gives each module a copy (CREATE DATABASE ... TEMPLATE)."""
    from helpers import sample
    from qpan.gate import validate as gate
    from qpan.gate import publish
    from qpan.transform import warehouse

    name = _new_database()
    try:
        with _warehouse_env(name):
            with db.connect(autocommit=True) as conn:
                sample.insert(conn, sample.INITIAL, age="2 days")
            warehouse.build()
            gate.run_candidate_gate("published_sample")
            publish.publish("published_sample")
        yield name
    finally:
        _drop_database(name)


@pytest.fixture(scope="module")
def sample_warehouse(published_sample):
    """This module's own copy of the published sample warehouse (its URL, as warehouse_url's)."""
    with fresh_warehouse(template=published_sample) as url:
        yield url


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

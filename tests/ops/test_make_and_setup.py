"""The Makefile and the set-up as a new data engineer meets them (issue 17, items 8, 12, 14):
`make help`; `make docs` / `make report` have recipes; `make clean` removes build artefacts and
keeps the data, `make wipe` asks (or needs CONFIRM=1); ruff passes; a test session stops the
Postgres it started; as root, the embedded Postgres starts in a folder closed to other users
(a `mktemp -d`), and where its user cannot get through, one line says why and what to do."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qpan.core import config, pgserver

REPO = config.REPO_ROOT
BIN = Path(sys.executable).parent


def make(*args: str, cwd: Path = REPO, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, **kwargs)


def test_make_help_lists_the_targets():
    res = make("help")
    assert res.returncode == 0, res.stderr
    for target in ("run", "test", "lint", "docs", "report", "airflow", "clean", "wipe"):
        assert any(line.startswith(target + " ") for line in res.stdout.splitlines()), (target, res.stdout)


@pytest.mark.parametrize("target,command", [("docs", "qpan docs"), ("report", "qpan report"),
                                            ("lint", "ruff check")])
def test_documented_targets_have_recipes(target, command):
    res = make("-n", target)
    assert res.returncode == 0, res.stderr
    assert command in res.stdout and "Nothing to be done" not in res.stdout, res.stdout


def test_make_clean_keeps_the_data_and_wipe_asks(tmp_path):
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    data = tmp_path / ".qpan" / "pgdata"
    data.mkdir(parents=True)
    (tmp_path / ".qpan" / "secrets.json").write_text("{}")
    (tmp_path / "dbt_project" / "target").mkdir(parents=True)
    (tmp_path / "dbt_project" / "target" / "manifest.json").write_text("{}")

    res = make("clean", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert not (tmp_path / "dbt_project" / "target").exists()
    assert (tmp_path / ".qpan" / "secrets.json").exists() and data.exists()
    assert "make wipe CONFIRM=1" in res.stdout

    refused = make("wipe", cwd=tmp_path)  # no terminal to ask on, no CONFIRM=1
    assert refused.returncode != 0 and "CONFIRM=1" in refused.stderr
    assert (tmp_path / ".qpan" / "secrets.json").exists()

    wiped = make("wipe", "CONFIRM=1", cwd=tmp_path)
    assert wiped.returncode == 0, wiped.stderr
    assert not (tmp_path / ".qpan").exists()


def test_ruff_passes_on_the_code():
    res = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def _free_port_block() -> int:
    """A port p with p and p+10 free (Postgres, sample portal)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port < 65000 and pgserver.port_free(port) and pgserver.port_free(port + 10):
            return port
    raise RuntimeError("no free port")


@pytest.mark.slow
def test_a_test_session_stops_the_postgres_it_started_even_in_a_closed_folder(tmp_path):
    """pytest's tmp_path is under /tmp/pytest-of-<user> (mode 700), as a `mktemp -d` is: as root
    the server (user qpan_pg) must still start there; the session stops it at the end."""
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    closed.chmod(0o700)
    env = dict(os.environ, QPAN_HOME=str(closed / "state"), QPAN_PG_PORT=str(_free_port_block()))
    env.pop("QPAN_DATABASE_URL", None)
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/foundation/test_landing.py::test_high_water_mark_never_moves_back"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "stopped the embedded Postgres they started" in res.stdout, res.stdout[-2000:]
    status = subprocess.run([str(BIN / "qpan"), "db", "status"], env=env, capture_output=True, text=True)
    assert status.stdout.strip() == "stopped", status.stdout + status.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as another user only when started as root")
def test_a_folder_the_server_user_cannot_enter_is_one_line(tmp_path):
    closed = tmp_path / "closed"
    (closed / "state").mkdir(parents=True)
    closed.chmod(0o700)  # group root: a 701 would not help qpan_pg either if it ran with root's group
    pgserver._ensure_system_user()
    with pytest.raises(pgserver.Unreachable) as err:
        pgserver.check_reachable(closed / "state")
    message = str(err.value)
    assert "\n" not in message
    assert "runs as user qpan_pg" in message and "clone qpan into a folder other users can enter" in message
    assert "QPAN_DATABASE_URL" in message

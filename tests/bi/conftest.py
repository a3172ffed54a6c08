"""Superset's set-up (its virtualenv .venv-bi/ and a fresh metadata database) is slow, so it starts
in the background as soon as the BI tests are collected, and the BI tests run last: the set-up
overlaps the rest of the suite instead of adding to it."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).parent
_PREPARE: dict = {}


def prepare_process() -> tuple[subprocess.Popen, Path]:
    """The background `qpan.bi.server.prepare()` of this session, in a Superset home of its own."""
    if not _PREPARE:
        home = Path(tempfile.mkdtemp(prefix="qpan-superset-"))
        log = open(home / "prepare.log", "w")  # noqa: SIM115 - the child writes it
        env = dict(os.environ, QPAN_SUPERSET_HOME=str(home))
        proc = subprocess.Popen([sys.executable, "-c", "from qpan.bi import server; server.prepare()"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _PREPARE.update(proc=proc, home=home)
    return _PREPARE["proc"], _PREPARE["home"]


def pytest_collection_modifyitems(session, config, items):
    mine = [item for item in items if HERE in Path(str(item.fspath)).parents]
    if not mine:
        return
    items[:] = [item for item in items if item not in mine] + mine
    prepare_process()


def pytest_sessionfinish(session, exitstatus):
    proc = _PREPARE.get("proc")
    if proc is not None and proc.poll() is None:  # the BI tests were deselected or never reached
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="session")
def superset_prepared():
    """Waits for the background set-up; yields its Superset home."""
    proc, home = prepare_process()
    if proc.wait(timeout=900) != 0:
        pytest.fail("Superset set-up failed:\n" + (home / "prepare.log").read_text()[-3000:])
    return home

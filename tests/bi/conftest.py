"""Superset's set-up (its virtualenv .venv-bi/ and a fresh metadata database) is slow. In a plain
pytest run it starts in the background as soon as the BI tests are collected, and the BI tests run
last: the set-up overlaps the rest of the suite instead of adding to it. Under pytest-xdist every
worker collects every test, so it starts only where the BI tests run (the other workers are the
overlap), when they ask for it (`superset_home`)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import bi_setup

HERE = Path(__file__).parent


@pytest.hookimpl(trylast=True)  # after tests/conftest.py's ordering
def pytest_collection_modifyitems(session, config, items):
    if hasattr(config, "workerinput"):
        return
    mine = [item for item in items if HERE in Path(str(item.fspath)).parents]
    if not mine:
        return
    items[:] = [item for item in items if item not in mine] + mine
    bi_setup.prepare_process()


def pytest_sessionfinish(session, exitstatus):
    state = bi_setup._PREPARE
    if not state:
        return
    if state["proc"].poll() is None:  # the BI tests were deselected or never reached
        state["proc"].terminate()
        state["proc"].wait(timeout=30)
    shutil.rmtree(state["home"], ignore_errors=True)


@pytest.fixture(scope="session")
def superset_home():
    """The Superset home the background set-up prepares (not waited for here)."""
    return bi_setup.prepare_process()[1]

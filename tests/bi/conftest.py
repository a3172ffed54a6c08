"""Superset's set-up (its virtualenv .venv-bi/ and a fresh metadata database) is slow, so it starts
in the background as soon as the BI tests are collected, and the BI tests run last: the set-up
overlaps the rest of the suite instead of adding to it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import bi_setup  # tests/bi/bi_setup.py (pytest puts a conftest's own folder on the path)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(session, config, items):
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

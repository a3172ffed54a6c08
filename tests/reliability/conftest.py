"""Fixtures of the reliability suite (helpers in tests/helpers/relutil.py)."""
from __future__ import annotations

import uuid

import pytest

from helpers.relutil import scratch_database, write_registry
from scrapers.registry import load_registry


@pytest.fixture()
def scratch_db(warehouse_url):
    """scratch_db() -> context manager of a fresh database (see scratch_database)."""
    return scratch_database


@pytest.fixture()
def make_reg(tmp_path, portal):
    """make_reg(**politeness) -> (registry, path) with unique source names."""
    def make(**kw):
        kw.setdefault("prefix", "r" + uuid.uuid4().hex[:6])
        path = write_registry(tmp_path, name=f"{kw['prefix']}.yml", **kw)
        return load_registry(path), path
    return make

"""Fixtures of the scraper tests: the local portal server (real HTTP on loopback hosts) and
registries pointing at it with short politeness delays."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from scrapers.registry import load_registry

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "scrapers" / "sample_sources.yml"


def make_registry(tmp_path, portal, *, delay=0.05, retries=2, backoff=0.05, timeout=2.0, suffix=None,
                  max_body_bytes=2_000_000, retry_after_cap=0.3):
    """The sample registry with test politeness and unique source names (the test database is
    shared by the session: unique names keep the tests independent)."""
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace(
        "politeness: {delay: 0.2, concurrency: 1, timeout: 5, retries: 2, backoff: 0.2, retry_after_cap: 2, max_body_bytes: 2000000}",
        f"politeness: {{delay: {delay}, concurrency: 1, timeout: {timeout}, retries: {retries}, backoff: {backoff}, "
        f"retry_after_cap: {retry_after_cap}, max_body_bytes: {max_body_bytes}}}")
    suffix = suffix or uuid.uuid4().hex[:6]
    text = text.replace("name: sample_", f"name: t{suffix}_")
    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    return load_registry(path)


@pytest.fixture()
def make_reg(tmp_path, portal):
    """make_reg(**politeness) -> a fresh sample registry with unique source names."""
    return lambda **kw: make_registry(tmp_path, portal, **kw)


@pytest.fixture()
def sample_source():
    return src


@pytest.fixture()
def registry(tmp_path, portal):
    return make_registry(tmp_path, portal)


def src(registry, short):
    return next(s for s in registry.sources if s.name.endswith("_" + short))

"""The gazetteer and the rules are loaded from a compiled cache, rebuilt when their files change."""
from __future__ import annotations

import yaml

from qpan.core import compiled_cache
from qpan.core.config import REPO_ROOT
from qpan.extract import gazetteer, rules


def test_the_cache_is_used_until_an_input_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("QPAN_HOME", str(tmp_path / "home"))
    source = tmp_path / "units.csv"
    source.write_text("unit_id\n1\n")
    builds = []

    def build():
        builds.append(source.read_text())
        return {"rows": source.read_text().splitlines()}

    first = compiled_cache.load_or_build("units", [source], build)
    again = compiled_cache.load_or_build("units", [source], build)
    assert first == again == {"rows": ["unit_id", "1"]} and len(builds) == 1
    source.write_text("unit_id\n1\n2\n")
    changed = compiled_cache.load_or_build("units", [source], build)
    assert changed == {"rows": ["unit_id", "1", "2"]} and len(builds) == 2
    assert len(list((tmp_path / "home" / "cache").glob("units-*.pickle"))) == 1  # the stale one is gone


def test_a_torn_cache_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("QPAN_HOME", str(tmp_path / "home"))
    source = tmp_path / "in.txt"
    source.write_text("x")
    compiled_cache.load_or_build("t", [source], lambda: 1)
    (cached,) = (tmp_path / "home" / "cache").glob("t-*.pickle")
    cached.write_bytes(b"\x80\x05garbage")
    assert compiled_cache.load_or_build("t", [source], lambda: 2) == 2


def test_the_cached_gazetteer_and_rules_are_the_ones_built_from_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("QPAN_HOME", str(tmp_path / "home"))
    rows = gazetteer.with_extra_aliases(gazetteer.load_rows(REPO_ROOT / "dbt_project" / "seeds" / "admin_units.csv"))
    fresh = gazetteer.Gazetteer(rows)
    fresh_rules = rules.compile_rules(yaml.safe_load(rules.PATTERNS_PATH.read_text(encoding="utf-8")))
    try:
        for _ in ("built and stored", "read from .qpan/cache"):
            gazetteer.default_gazetteer.cache_clear()
            rules.default_rules.cache_clear()
            g = gazetteer.default_gazetteer()
            assert (g.units, g.index, g.ascii_index, g.max_len) == (
                fresh.units, fresh.index, fresh.ascii_index, fresh.max_len)
            assert rules.default_rules() == fresh_rules
    finally:
        gazetteer.default_gazetteer.cache_clear()
        rules.default_rules.cache_clear()

"""GX's own validation store is pruned to the last N runs of each suite (with their Data Docs
pages): its index page re-reads every stored result, so an unpruned store slowed each gate down
the longer qpan ran. Every result stays in audit.validation_results."""
from __future__ import annotations

import pytest

from qpan.gate import validate as gate

RUN_TIMES = ["20261120T080000.000001Z", "20261121T080000.000001Z", "20261122T080000.000001Z"]


def make_store(root, suites=("landing__articles", "candidate__mart_district_year")):
    for suite in suites:
        for i, run_time in enumerate(RUN_TIMES):
            # GX files a run under its run name (`__none__` when unnamed) then its run time
            run_name = "__none__" if i % 2 == 0 else "manual__abc"
            result = root / "validations" / suite / run_name / run_time / "warehouse-x.json"
            page = root / "data_docs" / "local_site" / "validations" / suite / run_name / run_time / "warehouse-x.html"
            for path in (result, page):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("{}")


def kept(root, kind="validations", suffix=".json"):
    base = root / kind if kind == "validations" else root / "data_docs" / "local_site" / "validations"
    return sorted((p.parent.parent.parent.name, p.parent.name) for p in base.rglob(f"*{suffix}"))


def test_keeps_the_newest_runs_of_each_suite_and_their_pages(tmp_path):
    make_store(tmp_path)
    assert gate.prune_validation_results(2, tmp_path) == 2  # one old run per suite
    expected = sorted((suite, t) for suite in ("landing__articles", "candidate__mart_district_year")
                      for t in RUN_TIMES[1:])
    assert kept(tmp_path) == expected
    assert kept(tmp_path, "docs", ".html") == expected
    assert gate.prune_validation_results(2, tmp_path) == 0  # idempotent


def test_an_empty_or_missing_store_is_fine(tmp_path):
    assert gate.prune_validation_results(5, tmp_path) == 0


@pytest.mark.parametrize("bad", ["0", "-3", "many"])
def test_retention_setting_is_validated(monkeypatch, bad):
    monkeypatch.setenv("QPAN_GX_KEEP_RUNS", bad)
    with pytest.raises(ValueError, match="QPAN_GX_KEEP_RUNS"):
        gate.keep_validation_runs()


def test_the_store_layout_is_pinned_to_the_gx_it_was_checked_on():
    from importlib.metadata import version

    from qpan.gate import docs as gate_docs

    # gate_docs reads GX's file-store layout (not GX's public interface): on another GX, check
    # the layout (make_store above, and a real run in test_gate_cli_and_docs.py), then move the pin.
    assert version("great-expectations") == gate_docs.CHECKED_ON_GX

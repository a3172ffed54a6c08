"""qpan.gate.gx, the one module that speaks to Great Expectations, against the GX it was written
for: a context built from code (nothing read from or written to the repository), a checkpoint
run on real Postgres, its results as plain data, its pages where GX says it wrote them."""
from __future__ import annotations

import subprocess
from importlib.metadata import version

import pytest

from qpan.core import config
from qpan.gate import gx as gate_gx

pytestmark = pytest.mark.slow


def test_the_adapter_is_pinned_to_the_gx_it_was_checked_on():
    # On another GX: run this file (a real run below), then move the pin.
    assert version("great-expectations") == gate_gx.CHECKED_ON_GX


def test_a_checkpoint_run_gives_plain_results_and_pages_and_leaves_the_repository_alone(warehouse_url, tmp_path):
    import great_expectations.expectations as gxe

    before = _git_status()
    query = "select n from generate_series(1, 3) as n"
    suites = {"demo__rows": [gxe.ExpectTableRowCountToEqual(value={"$PARAMETER": "rows"}),
                             gxe.ExpectColumnValuesToBeBetween(column="n", min_value=2)]}
    validations = gate_gx.run_checkpoint("demo", {"demo_numbers": (query, "demo__rows")}, suites, {"rows": 3},
                                         "manual__adapter", tmp_path / "docs")
    assert len(validations) == 1
    v = validations[0]
    assert (v.suite, v.run_name, v.success) == ("demo__rows", "manual__adapter", False)
    by_type = {o.expectation: o for o in v.outcomes}
    assert by_type["expect_table_row_count_to_equal"].success
    assert by_type["expect_table_row_count_to_equal"].observed == 3
    between = by_type["expect_column_values_to_be_between"]
    assert (between.success, between.column, between.observed) == (False, "n", 1)
    assert between.details["partial_unexpected_list"] == [1]
    assert v.page and v.page.is_file() and (tmp_path / "docs") in v.page.parents
    assert "demo__rows" in v.page.read_text(encoding="utf-8")
    assert config.database_url("qpan_transformer").split("@")[0].split(":")[-1] not in v.page.read_text()
    assert _git_status() == before  # nothing in the repository written


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=config.REPO_ROOT,
                          capture_output=True, text=True, check=True).stdout

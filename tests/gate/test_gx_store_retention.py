"""The Data Docs keep the last N runs of each suite (with their pages): its index page lists
every kept run, so an unpruned list slowed each gate down the longer qpan ran. Every result
stays in audit.validation_results."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from qpan.gate import validate as gate, docs as gate_docs
from qpan.gate.gx import Outcome, Validation

SUITES = ("landing__articles", "candidate__mart_district_year")
START = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)


def validation(docs, suite: str, day: int, success: bool = True) -> Validation:
    run_time = START + timedelta(days=day)
    page = docs / "pages" / suite / f"run-{day}" / "warehouse-x.html"  # wherever GX said it wrote it
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("<html></html>")
    outcome = Outcome(suite, "expect_table_row_count_to_equal", None, success, 0, {})
    return Validation(suite, f"manual__{day}", run_time, success, [outcome], page)


def test_keeps_the_newest_runs_of_each_suite_and_their_pages(tmp_path):
    for day in range(3):
        gate_docs.record_validations([validation(tmp_path, s, day) for s in SUITES], keep=10, docs=tmp_path)
    assert gate.prune_validation_results(2, tmp_path) == 2  # one old run per suite
    pages = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.html") if p.name != "index.html")
    assert pages == sorted(f"pages/{s}/run-{day}/warehouse-x.html" for s in SUITES for day in (1, 2))
    assert not (tmp_path / "pages" / SUITES[0] / "run-0").exists()  # the folder it left empty, too
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "manual__0" in index  # the index is rewritten at the next record, not by a prune
    gate_docs.record_validations([validation(tmp_path, SUITES[0], 3, success=False)], keep=2, docs=tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "manual__0" not in index and "manual__1" not in index.split(SUITES[1])[0] and "FAILED" in index
    assert 'href="pages/landing__articles/run-3/warehouse-x.html"' in index
    assert gate.prune_validation_results(2, tmp_path) == 0  # idempotent


def test_an_empty_or_missing_list_is_fine(tmp_path):
    assert gate.prune_validation_results(5, tmp_path) == 0
    assert "no validation stored yet" in gate_docs.write_offline_index(tmp_path).read_text(encoding="utf-8")


@pytest.mark.parametrize("bad", ["0", "-3", "many"])
def test_retention_setting_is_validated(monkeypatch, bad):
    monkeypatch.setenv("QPAN_GX_KEEP_RUNS", bad)
    with pytest.raises(ValueError, match="QPAN_GX_KEEP_RUNS"):
        gate.keep_validation_runs()

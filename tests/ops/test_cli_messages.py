"""Small slips of the command line's output (issue 27, point 11): what a user reads must say what
happened, in a form that reads."""
from __future__ import annotations

import re

import pytest

from qpan.cli import main
from qpan.orchestration.run import mart_count_lines, runs_phrase


def test_db_help_describes_every_action(capsys):
    with pytest.raises(SystemExit) as done:
        main(["db", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    for action in ("start", "stop", "status", "url", "migrate"):
        assert re.search(rf"^  {action} +\w+", out, re.MULTILINE), (action, out)
    assert "exit 3" in out and "QPAN_PG_PORT" in out


def test_the_run_summary_keeps_long_mart_names_apart_from_their_counts():
    counts = {"marts.mart_source_weekly_articles": 5, "marts.dim_source": 12, "raw.articles": 3}
    lines = mart_count_lines(counts)
    assert len(lines) == 2  # raw tables are summarised elsewhere
    assert all(re.fullmatch(r" {4}marts\.\w+ {2,}\d+ rows", line) for line in lines), lines
    assert len({line.index(" rows") - len(line.split()[-2]) for line in lines}) == 1  # one column


def test_the_timing_line_counts_the_runs_it_ran():
    assert runs_phrase(1) == "the run"  # `qpan review … --apply`: qpan_transform only
    assert runs_phrase(2) == "both runs"  # `qpan run`: ingest and transform
    assert runs_phrase(3) == "the 3 runs"

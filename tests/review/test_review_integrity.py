"""Review decisions that cannot be corrupted (issue 32): every imported row is checked as the
command line checks it and a file with a bad row writes nothing; the same decision twice is a
no-op that says so; `--apply` takes the run lock before recording anything and waits for it.

A warehouse of its own with the sample articles as raw facts (no dbt, no Airflow): seconds."""
from __future__ import annotations

import json
import threading
import time

import pytest

from qpan.core import db
from qpan.cli import main
from qpan.orchestration.run import run_lock

from helpers import review_data as data

A = data.ARTICLES
THOXUAN226 = data.key("thoxuan", "recruits_enlisted", "giao 226 công dân nhập ngũ")
FIELDS = "fact_id,decision,article_url,indicator,span_start,span_end,evidence,new_value,new_unit_id,new_period,note"


@pytest.fixture(scope="module")
def facts(warehouse_url):
    with db.connect(autocommit=True) as conn:
        data.load(conn)
    return warehouse_url


def _n_decisions() -> int:
    with db.connect() as conn:
        return conn.execute("select count(*) from review.decisions").fetchone()[0]


def _csv_row(name: str, indicator: str, evidence: str, decision: str = "confirm", value="", unit="", period="",
             note="", span=None) -> str:
    art = A[name]
    start, end = span or data.span(art, evidence)
    return f",{decision},{art['url']},{indicator},{start},{end},{evidence},{value},{unit},{period},{note}"


@pytest.mark.parametrize("bad, says", [
    # the row: no fact_id, a span past the end of its article
    (_csv_row("thoxuan", "recruits_enlisted", "giao 226 công dân nhập ngũ", value=226, unit="38.395", period="2023",
              span=(9000, 9026)), "row 3: unknown fact id"),
    # an add whose evidence is in the article, but not at the row's span
    (_csv_row("thoxuan", "militia_members", "dân quân tự vệ có 1.200 đồng chí", "add", 1200, "38.395", "2023",
              span=(0, 31)), "row 3: the evidence 'dân quân tự vệ có 1.200 đồng chí' is not at span 0-31"),
    # an add whose evidence is not in the stored article at all
    (_csv_row("thoxuan", "militia_members", "dân quân có 9 đồng chí", "add", 9, "38.395", "2023", span=(5, 27)),
     "is not in the article's stored text"),
    # a reject without a note, as `qpan review reject` refuses it
    (_csv_row("ngoclac", "recruits_enlisted", "185 tân binh", "reject"), "row 3: reject needs a note"),
])
def test_import_checks_every_row_as_the_cli_does_and_a_bad_row_writes_nothing(facts, tmp_path, capsys, bad, says):
    good = _csv_row("thoxuan", "recruits_enlisted", "giao 226 công dân nhập ngũ", value=226, unit="38.395",
                    period="2023", note="import check")
    path = tmp_path / "mixed.csv"
    path.write_text(f"{FIELDS}\n{good}\n{bad}\n")
    before = _n_decisions()
    assert main(["review", "import", str(path), "--keep-orphans"]) == 1  # undated rows are never orphans
    err = capsys.readouterr().err.strip()
    assert err.startswith("qpan review: error: ") and says in err and "\n" not in err, err
    assert _n_decisions() == before


def test_a_good_file_is_imported_once(facts, tmp_path, capsys):
    good = _csv_row("ngoclac", "drills_held", "tổ chức 3 cuộc diễn tập", value=3, unit="38.389", period="2023",
                    note="good file")
    path = tmp_path / "good.csv"
    path.write_text(f"{FIELDS}\n{good}\n")
    before = _n_decisions()
    assert main(["review", "import", str(path)]) == 0
    assert "imported 1 decisions" in capsys.readouterr().out and _n_decisions() == before + 1
    assert main(["review", "import", str(path)]) == 0  # the same decision again: said, not written
    assert "imported 0 decisions from" in capsys.readouterr().out and _n_decisions() == before + 1


def test_the_same_decision_twice_is_a_noop_that_says_so(facts, capsys):
    argv = ["review", "correct", THOXUAN226, "--value", "227", "--note", "twice"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("recorded correct")
    before = _n_decisions()
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["already_recorded"] is True and out["new_value"] == 227
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("already recorded: correct") and _n_decisions() == before
    # another value is a new decision, and going back to the first one records it again
    assert main(["review", "correct", THOXUAN226, "--value", "226", "--note", "twice"]) == 0
    assert main(argv) == 0
    assert _n_decisions() == before + 2


def test_apply_takes_the_run_lock_before_recording_and_waits_for_it(facts, capsys):
    before = _n_decisions()
    with run_lock():  # another `qpan run` holds the clone
        assert main(["review", "confirm", THOXUAN226, "--note", "held", "--apply", "--wait", "1.2"]) == 1
    out, err = capsys.readouterr()
    assert "waiting for the running `qpan run`" in out and "recorded" not in out
    assert "another `qpan run`" in err and "(waited 1s)" in err
    assert _n_decisions() == before  # nothing recorded: a retry cannot record it twice
    # the lock is waited for: released by its holder after ~1 s, taken by the waiter
    released = threading.Event()

    def hold():
        with run_lock():
            released.wait(1.0)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    started = time.monotonic()
    with run_lock(wait=10, progress_every=0.3):
        waited = time.monotonic() - started
    holder.join()
    assert 0.5 < waited < 5
    assert capsys.readouterr().out.count("waiting for the running `qpan run`") >= 2

"""Who recorded a review decision and when is the database's word, not the client's
(docs/security.md, issue 28 point 1): qpan_reviewer cannot forge recorded_at or db_role, cannot
date a decision into the future, and the decision recorded last is the current one, in
`qpan review` and in dbt's staging model alike, whatever decided_at a file carries."""
from __future__ import annotations

import psycopg
import pytest

from qpan.core import config
from qpan.transform import warehouse
from qpan.review import csvio, store
from qpan.review.catalog import review_key

INSERT = ("insert into review.decisions (review_key, article_url, indicator, span_start, span_end, evidence, "
          "decision, note, decided_at, recorded_at, db_role) values (%s, %s, 'drills_held', 0, 5, 'tổ chức', "
          "'reject', %s, %s, %s, %s) returning *")


def _fact(name: str) -> tuple[str, str]:
    """(review_key, article_url) of a fact of its own for each test."""
    url = f"https://x.example.test/{name}.html"
    return review_key(url, "drills_held", 0, 5), url


def _reviewer():
    return psycopg.connect(config.database_url("qpan_reviewer"), autocommit=True, connect_timeout=10,
                           row_factory=psycopg.rows.dict_row)


def test_database_stamps_recorded_at_and_role_and_refuses_a_future_decided_at(warehouse_url):
    with _reviewer() as conn:
        now = conn.execute("select now() as t").fetchone()["t"]
        row = conn.execute(INSERT, (*_fact("forged"), "forged stamps", "2020-01-01T00:00:00Z",
                                    "2099-01-01T00:00:00Z", "qpan_admin")).fetchone()
        assert row["db_role"] == "qpan_reviewer"  # not the role the client claimed
        assert row["recorded_at"].year < 2099 and row["recorded_at"] >= now
        assert row["decided_at"].year == 2020  # history as given: in the past, it is kept
        with pytest.raises(psycopg.errors.CheckViolation, match="later than the time the decision is recorded"):
            conn.execute(INSERT, (*_fact("future"), "dated 2099", "2099-01-01T00:00:00Z", None, None))
        assert conn.execute("select count(*) as n from review.decisions where review_key = %s",
                            (_fact("future")[0],)).fetchone()["n"] == 0


def test_the_decision_recorded_last_is_current_whatever_decided_at_says(warehouse_url):
    key, url = _fact("order")
    with _reviewer() as conn:
        conn.execute(INSERT, (key, url, "first, dated late", "2026-06-01T00:00:00Z", None, None))
        later = conn.execute(INSERT, (key, url, "second, dated early", "2019-01-01T00:00:00Z", None, None)
                             ).fetchone()
        assert store.current_decision(conn, key)["decision_id"] == later["decision_id"]
    warehouse.run_dbt(["run", "--select", "stg_review__decisions"])
    with psycopg.connect(config.database_url(warehouse.TRANSFORMER_ROLE), connect_timeout=10) as conn:
        current = conn.execute("select decision_id, n_decisions from staging.stg_review__decisions "
                               "where review_key = %s", (key,)).fetchone()
    assert current == (later["decision_id"], 2)


def test_a_round_trip_through_a_file_keeps_the_same_decision_current(warehouse_url, warehouse_factory, tmp_path):
    """Exported in the order recorded, imported row after row: in the other warehouse the current
    decision of the fact is the same, although its decided_at is the earlier one."""
    key, url = _fact("round-trip")
    with _reviewer() as conn:
        conn.execute(INSERT, (key, url, "first, dated late", "2026-06-01T00:00:00Z", None, None))
        conn.execute(INSERT, (key, url, "second, dated early", "2019-01-01T00:00:00Z", None, None))
        assert store.current_decision(conn, key)["note"] == "second, dated early"
        csvio.export(conn, tmp_path / "decisions.csv")
    with warehouse_factory():
        with store.connect() as conn:
            # the facts are made up, so not in that warehouse: kept as orphans of a dated history
            inserted, already, _orphans = csvio.import_(conn, tmp_path / "decisions.csv", keep_orphans=True)
            assert inserted >= 2 and already == 0
            assert store.current_decision(conn, key)["note"] == "second, dated early"

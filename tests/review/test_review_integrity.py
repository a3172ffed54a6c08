"""Who recorded a review decision and when is the database's word, not the client's
(docs/security.md, issue 28 point 1): qpan_reviewer cannot forge recorded_at or db_role, cannot
date a decision into the future, and the decision recorded last is the current one, in
`qpan review` and in dbt's staging model alike, whatever decided_at a file carries."""
from __future__ import annotations

import psycopg
import pytest

from qpan import config, warehouse
from qpan.review import store

INSERT = ("insert into review.decisions (review_key, article_url, indicator, span_start, span_end, evidence, "
          "decision, note, decided_at, recorded_at, db_role) values (%s, 'https://x.example.test/a.html', "
          "'drills_held', 0, 5, 'tổ chức', 'reject', %s, %s, %s, %s) returning *")


def _reviewer():
    return psycopg.connect(config.database_url("qpan_reviewer"), autocommit=True, connect_timeout=10,
                           row_factory=psycopg.rows.dict_row)


def test_database_stamps_recorded_at_and_role_and_refuses_a_future_decided_at(warehouse_url):
    with _reviewer() as conn:
        now = conn.execute("select now() as t").fetchone()["t"]
        row = conn.execute(INSERT, ("k-forged", "forged stamps", "2020-01-01T00:00:00Z",
                                    "2099-01-01T00:00:00Z", "qpan_admin")).fetchone()
        assert row["db_role"] == "qpan_reviewer"  # not the role the client claimed
        assert row["recorded_at"].year < 2099 and row["recorded_at"] >= now
        assert row["decided_at"].year == 2020  # history as given: in the past, it is kept
        with pytest.raises(psycopg.errors.CheckViolation, match="later than the time the decision is recorded"):
            conn.execute(INSERT, ("k-future", "dated 2099", "2099-01-01T00:00:00Z", None, None))
        assert conn.execute("select count(*) as n from review.decisions where review_key = 'k-future'"
                            ).fetchone()["n"] == 0


def test_the_decision_recorded_last_is_current_whatever_decided_at_says(warehouse_url):
    with _reviewer() as conn:
        conn.execute(INSERT, ("k-order", "first, dated late", "2026-06-01T00:00:00Z", None, None))
        later = conn.execute(INSERT, ("k-order", "second, dated early", "2019-01-01T00:00:00Z", None, None)
                             ).fetchone()
        assert store.current_decision(conn, "k-order")["decision_id"] == later["decision_id"]
    warehouse.run_dbt(["run", "--select", "stg_review__decisions"])
    with psycopg.connect(config.database_url(warehouse.TRANSFORMER_ROLE), connect_timeout=10) as conn:
        current = conn.execute("select decision_id, n_decisions from staging.stg_review__decisions "
                               "where review_key = 'k-order'").fetchone()
    assert current == (later["decision_id"], 2)

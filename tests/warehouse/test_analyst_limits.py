"""qpan_analyst, the role of BI tools and people's SQL, has a statement timeout and a connection
limit set on the role by `migrate` (docs/security.md; issue 28 point 10): a runaway query is
cancelled, a flood of sessions is refused, and the defaults are what the docs say."""
from __future__ import annotations

import psycopg
import pytest

from qpan.core import config, db


def _analyst():
    return psycopg.connect(config.database_url("qpan_analyst"), autocommit=True, connect_timeout=10)


def test_analyst_role_defaults(warehouse_url):
    assert db.analyst_limits() == ("60s", 20)
    with db.connect(autocommit=True) as conn:
        rolconfig, limit = conn.execute("select rolconfig, rolconnlimit from pg_roles "
                                        "where rolname = 'qpan_analyst'").fetchone()
    assert "statement_timeout=60s" in rolconfig and limit == 20
    with _analyst() as conn:
        assert conn.execute("show statement_timeout").fetchone()[0] == "1min"


def test_analyst_runaway_query_is_cancelled_and_extra_sessions_refused(warehouse_url, monkeypatch):
    monkeypatch.setenv("QPAN_ANALYST_STATEMENT_TIMEOUT", "300ms")
    monkeypatch.setenv("QPAN_ANALYST_CONNECTION_LIMIT", "2")
    try:
        db.migrate()
        with _analyst() as first, _analyst():
            with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
                first.execute("select pg_sleep(3)")
            with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
                _analyst()
    finally:
        monkeypatch.undo()
        db.migrate()  # the role is the server's: back to the defaults for every other test


@pytest.mark.parametrize("name, value", [("QPAN_ANALYST_STATEMENT_TIMEOUT", "0"),
                                         ("QPAN_ANALYST_STATEMENT_TIMEOUT", "soon"),
                                         ("QPAN_ANALYST_CONNECTION_LIMIT", "-1")])
def test_malformed_limits_are_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(config.ConfigError, match=name):
        db.analyst_limits()

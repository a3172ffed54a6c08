"""Connections, the raw schema and the least-privilege roles of the warehouse."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
from psycopg import sql

from qpan.core import config, settings

log = logging.getLogger(__name__)

# Schemas dbt builds into. `marts` is what analysts see; `marts_candidate` is where a build
# lands before the quality gate publishes it (write-audit-publish).
DBT_SCHEMAS = ("staging", "intermediate", "seeds", "marts_candidate", "marts")


def connect(role: str = config.ADMIN_ROLE, dbname: str | None = None, **kwargs) -> psycopg.Connection:
    return psycopg.connect(config.database_url(role, dbname), connect_timeout=10, **kwargs)


class Unreachable(RuntimeError):
    """The warehouse's Postgres does not answer; the message says where and what to do."""


def unreachable_reason(timeout: int = 5) -> str | None:
    """None when the warehouse answers, else one line naming where it was sought and why not."""
    ep = config.endpoint()
    where = f"{ep.host}:{ep.port}/{ep.dbname}"
    external = config.external_database_url()
    try:
        with psycopg.connect(config.database_url(config.ADMIN_ROLE), connect_timeout=timeout):
            return None
    except psycopg.OperationalError as exc:
        detail = " ".join(str(exc).split())
        cause = "connection refused" if "refused" in detail.lower() else detail[:200]
        if external:
            hint = "check QPAN_DATABASE_URL"
        else:
            from qpan.core import pgserver

            hint = pgserver.other_port_note() or ("start it with `.venv/bin/qpan db start` (or `make run`); "
                                                  "QPAN_PG_PORT picks the port")
        kind = "the Postgres of QPAN_DATABASE_URL" if external else "the embedded Postgres"
        return f"cannot reach {kind} at {where}: {cause}; {hint}"


def require_reachable() -> None:
    reason = unreachable_reason()
    if reason:
        raise Unreachable(reason)


@contextmanager
def transaction(role: str = config.ADMIN_ROLE) -> Iterator[psycopg.Connection]:
    with connect(role) as conn:
        with conn.transaction():
            yield conn


def _ensure_database() -> None:
    ep = config.endpoint()
    with connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (ep.dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(ep.dbname)))


def _ensure_roles(conn: psycopg.Connection) -> None:
    for role in config.ROLES:
        password = config.role_password(role)
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(
            sql.SQL(verb + " role {} with login nosuperuser nocreatedb nocreaterole password {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )


def analyst_limits() -> tuple[str, int]:
    """(statement_timeout, connection limit) of qpan_analyst, the role BI tools and people's SQL
    use: a runaway query is cancelled, and a flood of sessions cannot take every backend.
    `QPAN_ANALYST_STATEMENT_TIMEOUT` (a Postgres duration, default 60s) and
    `QPAN_ANALYST_CONNECTION_LIMIT` (default 20)."""
    return settings.get("QPAN_ANALYST_STATEMENT_TIMEOUT"), settings.get("QPAN_ANALYST_CONNECTION_LIMIT")


def _limit_analyst(conn: psycopg.Connection) -> None:
    timeout, limit = analyst_limits()
    conn.execute(sql.SQL("alter role qpan_analyst set statement_timeout = {}").format(sql.Literal(timeout)))
    conn.execute(sql.SQL("alter role qpan_analyst connection limit {}").format(sql.Literal(limit)))


GRANTS = """
revoke all on database {db} from public;
revoke create on schema public from public;
grant connect on database {db} to qpan_loader, qpan_transformer, qpan_analyst;
grant create on database {db} to qpan_transformer;
grant temporary on database {db} to qpan_loader, qpan_transformer;

-- the loader writes raw, nothing else
grant usage on schema raw to qpan_loader, qpan_transformer;
grant select, insert, update, delete on all tables in schema raw to qpan_loader;
grant usage, select on all sequences in schema raw to qpan_loader;
grant select on all tables in schema raw to qpan_transformer;
alter default privileges in schema raw grant select on tables to qpan_transformer;
grant execute on function raw.safe_watermark() to qpan_transformer;

-- the gate writes audit; analysts read it for quality charts
grant usage on schema audit to qpan_transformer, qpan_loader;
grant select, insert on all tables in schema audit to qpan_transformer;
grant select on audit.gazetteer_unit_ids to qpan_loader;
grant usage, select on all sequences in schema audit to qpan_transformer;

-- the reviewer reads articles (to add a missed fact) and writes review decisions, nothing else;
-- dbt reads the decisions to apply them (qpan/review/)
grant connect on database {db} to qpan_reviewer;
grant usage on schema raw to qpan_reviewer;
grant select on raw.articles, raw.indicator_mentions to qpan_reviewer;
grant usage on schema review to qpan_reviewer, qpan_transformer;
grant select, insert on review.decisions to qpan_reviewer;
grant usage on sequence review.decisions_decision_id_seq to qpan_reviewer;
grant select on review.decisions to qpan_transformer;
-- the ingest DAG's health check and the DAGs' failure callbacks record the alerts they send
grant select, insert, update on audit.alerts to qpan_loader;
grant usage, select on sequence audit.alerts_alert_id_seq to qpan_loader;
grant select, insert, update on audit.alert_outbox to qpan_loader;
grant usage, select on sequence audit.alert_outbox_outbox_id_seq to qpan_loader;
grant select, insert on audit.crawl_runs to qpan_loader;
grant usage, select on sequence audit.crawl_runs_crawl_id_seq to qpan_loader;
"""


def migrate() -> None:
    """Create the warehouse database, raw/audit schemas, roles and grants. Idempotent."""
    _ensure_database()
    ddl = (Path(__file__).parent / "schema.sql").read_text()
    ep = config.endpoint()
    with connect() as conn:
        with conn.transaction():
            # One migration at a time, even when two runs start together.
            conn.execute("select pg_advisory_xact_lock(hashtext('qpan.migrate'))")
            conn.execute(ddl)
            _ensure_roles(conn)
            _limit_analyst(conn)
            conn.execute(GRANTS.format(db=sql.Identifier(ep.dbname).as_string(conn)))
            # dbt's schemas are owned by the transformer: no other role can create objects there.
            for schema in DBT_SCHEMAS:
                conn.execute(sql.SQL("create schema if not exists {} authorization qpan_transformer").format(
                    sql.Identifier(schema)))
                conn.execute(sql.SQL("alter schema {} owner to qpan_transformer").format(sql.Identifier(schema)))
            _load_gazetteer_ids(conn)
            grant_analyst(conn)


def _load_gazetteer_ids(conn: psycopg.Connection) -> None:
    import csv

    path = config.REPO_ROOT / "dbt_project" / "seeds" / "admin_units.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        ids = sorted({row["unit_id"] for row in csv.DictReader(fh)})
    if conn.execute("select count(*) from audit.gazetteer_unit_ids").fetchone()[0] == len(ids):
        return
    conn.execute("truncate audit.gazetteer_unit_ids")
    with conn.cursor().copy("copy audit.gazetteer_unit_ids (unit_id) from stdin") as copy:
        for unit_id in ids:
            copy.write_row((unit_id,))


def grant_analyst(conn: psycopg.Connection) -> None:
    """The analyst reads `marts` and the audit trail, nothing else (as the owner, at migrate)."""
    grant_marts_readers(conn)
    conn.execute("grant usage on schema audit to qpan_analyst")
    conn.execute("grant select on audit.validation_results, audit.publish_log to qpan_analyst")


def grant_marts_readers(conn: psycopg.Connection) -> None:
    """The analyst and the reviewer (who lists the published facts) read `marts`. Run by the
    owner, or by qpan_transformer, which owns the marts it builds: the publish swap re-grants
    them without the database owner's password (docs/security.md)."""
    conn.execute("grant usage on schema marts to qpan_analyst, qpan_reviewer")
    conn.execute("grant select on all tables in schema marts to qpan_analyst, qpan_reviewer")


def table_counts(conn: psycopg.Connection, schemas: tuple[str, ...] = ("raw", "marts")) -> dict[str, int]:
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema = any(%s) and table_type = 'BASE TABLE' order by 1, 2",
        (list(schemas),),
    ).fetchall()
    counts = {}
    for schema, table in rows:
        query = sql.SQL("select count(*) from {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts[f"{schema}.{table}"] = conn.execute(query).fetchone()[0]
    return counts

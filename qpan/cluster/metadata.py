"""Airflow's metadata DB on Postgres: role `airflow` (login, nothing more) owning database
`airflow` on the warehouse's server; the warehouse roles get no access to it, and the
`airflow` role none to the warehouse. Celery's result backend lives in the same database."""
from __future__ import annotations

import logging
import subprocess

from psycopg import sql

from qpan.orchestration import airflow_env
from qpan.core import config, db
from qpan.cluster import settings

log = logging.getLogger(__name__)


def ensure_database() -> None:
    """Create (or re-password) the role and create the database if missing. Idempotent."""
    name, role = settings.metadata_db(), settings.METADATA_ROLE
    with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
        verb = "alter" if exists else "create"
        conn.execute(sql.SQL(verb + " role {} with login nosuperuser nocreatedb nocreaterole password {}").format(
            sql.Identifier(role), sql.Literal(settings.metadata_password())))
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(sql.SQL("create database {} owner {}").format(sql.Identifier(name), sql.Identifier(role)))
        conn.execute(sql.SQL("revoke all on database {} from public").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    """For tests: drop a metadata database of their own (never the default one by accident)."""
    if name == "airflow":
        raise ValueError("refusing to drop the cluster's default metadata database `airflow`")
    with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def migrate(env: dict[str, str]) -> None:
    """`airflow db migrate` against the Postgres metadata DB (a marker per database skips the
    ~30 s check when nothing changed), and the project's settings into airflow.cfg so that
    Airflow's own CLI with this AIRFLOW_HOME finds the project's DAGs (no secret written)."""
    home = settings.airflow_home()
    home.mkdir(parents=True, exist_ok=True)
    marker = home / f".migrated-{settings.metadata_db()}"
    if not marker.exists():
        log.info("airflow db migrate (Postgres %s)", settings.metadata_db())
        res = subprocess.run([airflow_env.airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True,
                             cwd=config.REPO_ROOT)
        if res.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
        marker.write_text("ok\n")
    cfg = airflow_env.config_settings()
    cfg.pop("database", None)  # the connection (with its password) comes from the environment
    cfg["core"]["executor"] = "CeleryExecutor"
    airflow_env.write_config(home / "airflow.cfg", cfg)

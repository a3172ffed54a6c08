"""Each compose container gets only the warehouse roles it needs (docs/security.md; issue 28
point 9): the owner's URL and every password only in the one-shot airflow-init; the loader and
the transformer where tasks run (they parse untrusted pages); none in the api-server or the
triggerer; Redis' password on no command line. And the tasks need no more: a publish runs
without the owner's password (real Postgres)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import psycopg
import yaml

from qpan.core import config
from qpan.gate import publish

COMPOSE = config.REPO_ROOT / "docker-compose.yml"
ROLE_SECRETS = {"QPAN_ADMIN_PASSWORD": "qpan_admin", "QPAN_LOADER_PASSWORD": "qpan_loader",
                "QPAN_TRANSFORMER_PASSWORD": "qpan_transformer", "QPAN_ANALYST_PASSWORD": "qpan_analyst",
                "QPAN_REVIEWER_PASSWORD": "qpan_reviewer"}
TASKS = {"qpan_loader", "qpan_transformer"}
EXPECTED = {
    "airflow-init": {"qpan_admin", "qpan_loader", "qpan_transformer", "qpan_analyst", "qpan_reviewer"},
    "airflow-scheduler": TASKS,   # LocalExecutor runs tasks here
    "airflow-worker": TASKS,      # CeleryExecutor runs them here
    "airflow-dag-processor": {"qpan_transformer"},  # cosmos renders the dbt tasks from its connection
    "airflow-apiserver": set(), "airflow-triggerer": set(),
    "metabase-init": {"qpan_analyst"}, "metabase": set(), "postgres": {"qpan_admin"}, "redis": set(),
}


def _roles_in(env: dict) -> set[str]:
    """The warehouse roles whose password a service's environment holds (a variable, or a URL
    with a password in it)."""
    roles = set()
    for key, value in env.items():
        value = str(value)
        if key in ROLE_SECRETS and "${" in value:
            roles.add(ROLE_SECRETS[key])
        if key == "POSTGRES_PASSWORD":
            roles.add(env.get("POSTGRES_USER"))
        for user, password in re.findall(r"://(qpan_\w+):([^@]+)@", value):
            if password:
                roles.add(user)
    return roles


def test_each_container_gets_only_the_roles_it_needs():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    got = {name: _roles_in(s.get("environment", {})) for name, s in services.items()}
    assert got == EXPECTED
    for name, service in services.items():  # elsewhere the server is named without a password
        url = service.get("environment", {}).get("QPAN_DATABASE_URL")
        if url and name != "airflow-init":
            assert urlsplit(url).password is None, name


def test_redis_password_is_on_no_command_line():
    redis = yaml.safe_load(COMPOSE.read_text())["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--requirepass" not in command and "requirepass %s" in command and "redis.conf" in command
    check = " ".join(redis["healthcheck"]["test"])
    assert " -a " not in check and "REDISCLI_AUTH=" in check


def test_publish_needs_no_owner_password(warehouse_url, monkeypatch):
    """A task's environment in compose: QPAN_DATABASE_URL without the owner's password."""
    with psycopg.connect(config.database_url("qpan_transformer"), autocommit=True) as conn:
        conn.execute("create table marts_candidate.roles_probe (x int)")
        conn.execute("insert into marts_candidate.roles_probe values (7)")
    parts = urlsplit(warehouse_url)
    no_password = urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}"))
    monkeypatch.setenv("QPAN_DATABASE_URL", no_password)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    publish.publish("compose-roles")
    with psycopg.connect(config.database_url("qpan_analyst"), autocommit=True) as conn:
        assert conn.execute("select x from marts.roles_probe").fetchall() == [(7,)]
    with psycopg.connect(config.database_url("qpan_reviewer"), autocommit=True) as conn:
        assert conn.execute("select x from marts.roles_probe").fetchall() == [(7,)]

"""The secrets guard of the compose stack (`qpan airflow check-env`, run first by airflow-init),
the UI login file, and the Postgres init script run against a real server."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid

import pytest

from qpan.orchestration import airflow_local
from qpan.core import config, pgserver

REPO = config.REPO_ROOT


def _good_env() -> dict[str, str]:
    """What a filled-in `.env` gives airflow-init: every example secret replaced."""
    env = {}
    for name, value in airflow_local.example_values().items():
        env[name] = f"Real{name.title().replace('_', '')}0123456789" if value.startswith("change-me") else value
    env["QPAN_DATABASE_URL"] = f"postgresql://qpan_admin:{env['QPAN_ADMIN_PASSWORD']}@postgres:5432/qpan"
    env["AIRFLOW__CORE__EXECUTOR"] = "LocalExecutor"
    return env


def test_a_filled_in_env_passes():
    assert airflow_local.insecure_settings(_good_env()) == []
    airflow_local.check_secrets(_good_env())


def test_the_example_file_itself_is_refused_for_every_secret():
    env = airflow_local.example_values()
    problems = airflow_local.insecure_settings(env)
    for name in airflow_local.COMPOSE_SECRETS:
        assert any(p.startswith(name + " is still the example value") for p in problems), name
    with pytest.raises(airflow_local.InsecureConfig, match="QPAN_ANALYST_PASSWORD"):
        airflow_local.check_secrets(env)


@pytest.mark.parametrize("name, value, reason", [
    ("QPAN_LOADER_PASSWORD", "", "is not set"),
    ("AIRFLOW__API_AUTH__JWT_SECRET", "change-me-jwt-secret", "still the example value"),
    ("REDIS_PASSWORD", "CHANGE-ME-later-please", "still the example value"),
    ("MB_ADMIN_PASSWORD", "short", "shorter than 12"),
    ("AIRFLOW_DB_PASSWORD", "has/slash@and:colon-0123", "URL-safe"),
])
def test_each_bad_secret_is_named(name, value, reason):
    env = _good_env()
    env[name] = value
    problems = airflow_local.insecure_settings(env)
    assert len(problems) == 1 and problems[0].startswith(name) and reason in problems[0], problems


def test_example_password_inside_a_url_is_refused():
    env = _good_env()
    env["QPAN_DATABASE_URL"] = "postgresql://qpan_admin:change-me-qpan-admin@postgres:5432/qpan"
    assert any(p.startswith("QPAN_DATABASE_URL contains an example password") for p in airflow_local.insecure_settings(env))


def test_distributed_profile_needs_the_celery_executor():
    env = dict(_good_env(), QPAN_COMPOSE_PROFILES="distributed,bi")
    assert any("AIRFLOW_EXECUTOR=CeleryExecutor" in p for p in airflow_local.insecure_settings(env))
    env.update(AIRFLOW__CORE__EXECUTOR="CeleryExecutor", AIRFLOW__CELERY__BROKER_URL="redis://:x@redis:6379/0")
    assert airflow_local.insecure_settings(env) == []


def test_local_mode_requires_nothing_but_still_refuses_example_values():
    # `qpan airflow` on the embedded setup generates its own passwords: nothing required...
    assert airflow_local.insecure_settings({}, required=()) == []
    # ...but a copied example value is never accepted.
    problems = airflow_local.insecure_settings({"QPAN_ANALYST_PASSWORD": "change-me-qpan-analyst"}, required=())
    assert problems and problems[0].startswith("QPAN_ANALYST_PASSWORD")


def test_check_env_command_exit_codes():
    env = {k: v for k, v in os.environ.items() if k not in airflow_local.COMPOSE_SECRETS}
    bad = subprocess.run([sys.executable, "-m", "qpan.orchestration.airflow_local", "check-env"], cwd=REPO,
                         env=dict(env, **airflow_local.example_values()), capture_output=True, text=True)
    assert bad.returncode == 2 and "refusing to start" in bad.stderr and "QPAN_ADMIN_PASSWORD" in bad.stderr
    good = subprocess.run([sys.executable, "-m", "qpan.orchestration.airflow_local", "check-env"], cwd=REPO,
                          env=dict(env, **_good_env()), capture_output=True, text=True)
    assert good.returncode == 0, good.stderr


def test_login_file_is_private_stable_and_overridable(tmp_path, monkeypatch):
    monkeypatch.delenv("QPAN_AIRFLOW_PASSWORD", raising=False)
    path = tmp_path / "auth" / "passwords.json"
    user, first = airflow_local.ensure_login("admin", path)
    assert json.loads(path.read_text()) == {"admin": first} and len(first) >= 12
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert airflow_local.ensure_login("admin", path) == ("admin", first)  # kept across restarts
    monkeypatch.setenv("QPAN_AIRFLOW_PASSWORD", "Chosen-Password-123")
    assert airflow_local.ensure_login("admin", path)[1] == "Chosen-Password-123"
    written = airflow_local.write_compose_login({
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(tmp_path / "c.json"),
        "AIRFLOW_ADMIN_USER": "ops", "AIRFLOW_ADMIN_PASSWORD": "From-Dot-Env-123"})
    assert json.loads(written.read_text()) == {"ops": "From-Dot-Env-123"}


def test_service_env_is_loopback_and_wires_the_execution_api(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    env = airflow_local.service_env(18123)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18123/execution/"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(tmp_path / "simple_auth_manager_passwords.json.generated")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(REPO / "dags")
    assert env["AIRFLOW_CONN_QPAN_WAREHOUSE"].startswith("postgresql://qpan_transformer:")
    cmds = airflow_local.service_commands(18123)
    assert set(cmds) == set(airflow_local.SERVICES)
    assert cmds["api-server"][1:] == ["api-server", "--host", "127.0.0.1", "--port", "18123", "--workers", "1"]
    assert "--skip-serve-logs" in cmds["scheduler"] and "--skip-serve-logs" in cmds["triggerer"]


def test_cli_registration():
    import argparse

    parser = argparse.ArgumentParser()
    airflow_local.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["airflow", "--port", "9999"])
    assert (args.action, args.port, args.func) == ("up", 9999, airflow_local.handler)
    assert parser.parse_args(["airflow", "check-env"]).action == "check-env"


def test_postgres_init_script_creates_separate_databases(warehouse_url):
    """docker/postgres-init.sh against the embedded server, with throwaway names."""
    if config.external_database_url() != warehouse_url:
        pytest.skip("needs the embedded server")
    from qpan.core import db

    suffix = uuid.uuid4().hex[:6]
    names = {"AIRFLOW_DB_NAME": f"af_{suffix}", "METABASE_DB_NAME": f"mb_{suffix}"}
    ep = config.endpoint()
    env = dict(os.environ, POSTGRES_USER=config.ADMIN_ROLE, POSTGRES_DB=ep.dbname, PGHOST=ep.host, PGPORT=str(ep.port),
               PGPASSWORD=config.role_password(config.ADMIN_ROLE), AIRFLOW_DB_PASSWORD="Airflow-Pw-0123'quote",
               METABASE_DB_PASSWORD="Metabase-Pw-0123", PATH=f"{pgserver.bin_dir()}:{os.environ['PATH']}", **names)
    try:
        for _ in range(2):  # idempotent
            res = subprocess.run(["bash", str(REPO / "docker" / "postgres-init.sh")], env=env,
                                 capture_output=True, text=True, timeout=60)
            assert res.returncode == 0, res.stderr
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            owners = dict(conn.execute(
                "select datname, pg_get_userbyid(datdba) from pg_database where datname = any(%s)",
                (list(names.values()),)).fetchall())
            assert owners == {n: n for n in names.values()}
        # the airflow role logs into its own database with the password from the environment,
        # and cannot connect to the warehouse
        import psycopg

        af = names["AIRFLOW_DB_NAME"]
        with psycopg.connect(host=ep.host, port=ep.port, user=af, password="Airflow-Pw-0123'quote", dbname=af) as conn:
            assert conn.execute("select current_user").fetchone()[0] == af
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host=ep.host, port=ep.port, user=af, password="Airflow-Pw-0123'quote", dbname=ep.dbname)
    finally:
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'drop database if exists "{name}" with (force)')
                conn.execute(f'drop role if exists "{name}"')

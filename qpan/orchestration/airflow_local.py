"""`qpan airflow`: Airflow's own UI and scheduler on the embedded setup, on 127.0.0.1 only.

    qpan airflow [--port 8080]     embedded Postgres + api-server, scheduler, dag-processor, triggerer
    qpan airflow check-env         refuse secrets that are missing or still at their `.env.example` value
    qpan airflow write-login       (compose airflow-init) the UI login from AIRFLOW_ADMIN_PASSWORD

The services are Airflow's own (`airflow api-server|scheduler|dag-processor|triggerer`, the
same four that `airflow standalone` runs), with the environment of `qpan.orchestration.airflow_env.env()`:
AIRFLOW_HOME under `.qpan/airflow` (so runs made by `qpan run` show in the UI), the project's
`dags/`, the warehouse connection from the environment, LocalExecutor. The login is the
SimpleAuthManager's (`[core] simple_auth_manager_users`, default `admin:admin`); its password
is generated once into `AIRFLOW_HOME/simple_auth_manager_passwords.json.generated` (mode 600),
or taken from `QPAN_AIRFLOW_PASSWORD`. Ctrl-C (or SIGTERM) stops every service.

`check_secrets()` is also what the compose stack's `airflow-init` runs before anything else
(`python -m qpan.orchestration.airflow_local check-env`): the stack will not start with a password that
is still `change-me-...`, empty, or too short.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Mapping
from urllib.parse import quote, urlsplit

from qpan.core import config, settings, supervisor

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
HEALTH_PATH = "/api/v2/monitor/health"
LOGIN_USER = "admin"

# -- secrets guard ----------------------------------------------------------------------
EXAMPLE_MARKER = "change-me"
MIN_SECRET_LENGTH = 12
# The secrets the compose stack needs; every one must be set in `.env`, none at its example value.
COMPOSE_SECRETS = (
    "QPAN_ADMIN_PASSWORD",
    "QPAN_LOADER_PASSWORD",
    "QPAN_TRANSFORMER_PASSWORD",
    "QPAN_ANALYST_PASSWORD",
    "QPAN_REVIEWER_PASSWORD",
    "AIRFLOW_DB_PASSWORD",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "REDIS_PASSWORD",
    "METABASE_DB_PASSWORD",
    "MB_ENCRYPTION_SECRET_KEY",
    "MB_ADMIN_PASSWORD",
)
# Variables holding a URL whose password must not be an example value either.
URL_VARS = (
    "QPAN_DATABASE_URL",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CELERY__RESULT_BACKEND",
)
# Secrets the compose file splices into connection URLs: they must need no %-escaping.
URL_SAFE_SECRETS = ("QPAN_ADMIN_PASSWORD", "QPAN_TRANSFORMER_PASSWORD", "AIRFLOW_DB_PASSWORD", "REDIS_PASSWORD")
ROLE_PASSWORD_VARS = tuple(f"{role.upper()}_PASSWORD" for role in (config.ADMIN_ROLE, *config.ROLES))


class InsecureConfig(RuntimeError):
    """A secret is missing or still at a value anyone can read in the repository."""


def example_values(path: Path | None = None) -> dict[str, str]:
    """`KEY=VALUE` pairs of `.env.example` (comments and blank lines skipped, quotes removed)."""
    path = path or config.REPO_ROOT / ".env.example"
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def _is_example(value: str, example: str | None) -> bool:
    return EXAMPLE_MARKER in value.lower() or (example is not None and example != "" and value == example)


def insecure_settings(
    environ: Mapping[str, str] | None = None,
    *,
    required: tuple[str, ...] = COMPOSE_SECRETS,
    example: Mapping[str, str] | None = None,
) -> list[str]:
    """One line per problem: a `required` secret unset, empty, too short; any secret (required,
    or marked `change-me` in `.env.example`) still at its example value; a URL whose password is."""
    environ = os.environ if environ is None else environ
    example = example_values() if example is None else example
    watched = list(dict.fromkeys([*required, *ROLE_PASSWORD_VARS,
                                  *(k for k, v in example.items() if EXAMPLE_MARKER in v.lower())]))
    problems: list[str] = []
    for name in watched:
        value = environ.get(name)
        if not value:
            if name in required:
                problems.append(f"{name} is not set (put it in .env; see .env.example)")
            continue
        if _is_example(value, example.get(name)):
            problems.append(f"{name} is still the example value from .env.example; generate a real one")
        elif name in required and len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
        elif name in required and name in URL_SAFE_SECRETS and quote(value, safe="") != value:
            problems.append(f"{name} must be URL-safe (letters, digits, - _ . ~): it goes into a connection URL")
    for name in URL_VARS:
        value = environ.get(name)
        if not value:
            continue
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password and _is_example(password, None):
            problems.append(f"{name} contains an example password; generate a real one")
    profiles = settings.get("QPAN_COMPOSE_PROFILES", environ=environ)
    executor = environ.get("AIRFLOW__CORE__EXECUTOR", "")
    if "distributed" in profiles and executor and executor != "CeleryExecutor":
        problems.append(f"the distributed profile is on but AIRFLOW_EXECUTOR is {executor}; set AIRFLOW_EXECUTOR=CeleryExecutor")
    if executor == "CeleryExecutor" and not environ.get("AIRFLOW__CELERY__BROKER_URL"):
        problems.append("AIRFLOW_EXECUTOR=CeleryExecutor needs AIRFLOW__CELERY__BROKER_URL (the distributed profile)")
    return problems


def check_secrets(environ: Mapping[str, str] | None = None, *, required: tuple[str, ...] = COMPOSE_SECRETS) -> None:
    """Raise `InsecureConfig` listing every problem `insecure_settings` finds."""
    problems = insecure_settings(environ, required=required)
    if problems:
        raise InsecureConfig("refusing to start with these secrets:\n  - " + "\n  - ".join(problems))


# -- the local Airflow --------------------------------------------------------------------
def airflow_port(port: int | None = None) -> int:
    return int(port or settings.get("QPAN_AIRFLOW_PORT", DEFAULT_PORT))


def passwords_file() -> Path:
    return config.airflow_home() / "simple_auth_manager_passwords.json.generated"


def ensure_login(user: str = LOGIN_USER, path: Path | None = None, password: str | None = None) -> tuple[str, str]:
    """The SimpleAuthManager user and its password, written before Airflow starts so that we
    know it (Airflow would generate one and print it once into the api-server's log).
    Password: `password`, else `QPAN_AIRFLOW_PASSWORD`, else the one stored, else a new one."""
    path = path or passwords_file()
    stored: dict[str, str] = json.loads(path.read_text() or "{}") if path.exists() else {}
    wanted = password or settings.get("QPAN_AIRFLOW_PASSWORD") or stored.get(user) or secrets.token_urlsafe(12)
    if stored.get(user) != wanted or not path.exists():
        stored[user] = wanted
        config.write_private(path, json.dumps(stored) + "\n")
    return user, wanted


def login_hint(user: str = LOGIN_USER) -> str:
    """Where the UI password is and how to read it, never the password itself: a terminal's
    scroll-back, a shared screen or a CI log must not hold it."""
    return (f"login:    {user}, password kept in {passwords_file()} (mode 600; show it with "
            f"`cat {passwords_file()}`; QPAN_AIRFLOW_PASSWORD overrides)")


def write_compose_login(environ: Mapping[str, str] | None = None) -> Path:
    """airflow-init: the UI login of the compose stack from `.env` (`AIRFLOW_ADMIN_USER`,
    `AIRFLOW_ADMIN_PASSWORD`) into the file named by `[core] simple_auth_manager_passwords_file`."""
    environ = os.environ if environ is None else environ
    path = Path(environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    ensure_login(environ.get("AIRFLOW_ADMIN_USER", LOGIN_USER), path, environ["AIRFLOW_ADMIN_PASSWORD"])
    return path


def service_env(port: int) -> dict[str, str]:
    """`airflow_env.env()` plus what a long-running local Airflow needs (user overrides win for
    the tunables; the address is always loopback)."""
    from qpan.orchestration import airflow_env

    base = airflow_env.env()
    tunables = {
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    }
    for key, value in tunables.items():
        base.setdefault(key, value)
    base.update(
        {
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{LOGIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file()),
        }
    )
    return base


def service_commands(port: int) -> dict[str, list[str]]:
    from qpan.orchestration import airflow_env

    airflow = airflow_env.airflow_bin()
    return {
        "api-server": [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        # No log-serving sub-server (it binds 0.0.0.0:8793/8794): on one machine the api-server
        # reads task and trigger logs straight from AIRFLOW_HOME/logs.
        "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
    }


def healthy(port: int, timeout: float = 3) -> dict | None:
    """The api-server's health document, or None while it is not answering."""
    body = supervisor.http_get(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout)
    try:
        return json.loads(body.decode()) if body is not None else None
    except ValueError:
        return None


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):  # pragma: no cover - signal handler
    raise _Stop(signum)


def stop_all(started: list[supervisor.Started], timeout: float = 30) -> None:
    """Stop the services, the api-server last (running tasks report their end through its
    execution API): SIGTERM to each service's process group, SIGKILL to what is left after
    `timeout` seconds."""
    supervisor.stop_started([s for s in started if s.name != "api-server"], timeout)
    supervisor.stop_started([s for s in started if s.name == "api-server"], timeout)


def _wait_until_healthy(port: int, started: list[supervisor.Started], timeout: float) -> None:
    try:
        supervisor.wait_ready(lambda: healthy(port) is not None, timeout,
                              exited=lambda: supervisor.first_exited(started))
    except supervisor.Exited as dead:
        service = next(s for s in started if s.name == dead.name)
        raise RuntimeError(f"airflow {dead.name} exited ({service.popen.returncode}) before the UI was up:\n"
                           f"{supervisor.tail(service.log)}") from None
    except TimeoutError:
        api = next(s for s in started if s.name == "api-server")
        raise RuntimeError(f"the api-server did not answer {HEALTH_PATH} in {timeout:.0f}s:\n"
                           f"{supervisor.tail(api.log)}") from None


def _banner(port: int, user: str, env: dict[str, str], log_dir: Path) -> str:
    from qpan.orchestration import airflow_env

    airflow = f"AIRFLOW_HOME={config.airflow_home()} {airflow_env.airflow_bin()}"
    return (
        f"\n==> Airflow is up: http://127.0.0.1:{port}\n"
        f"    {login_hint(user)}\n"
        f"    DAGs:     {', '.join(airflow_env.DAG_IDS)} (from {config.REPO_ROOT / 'dags'})\n"
        f"    PAUSED:   both DAGs start paused, and a triggered run of a paused DAG stays `queued`.\n"
        f"              Unpause them first (UI toggle, or):\n"
        f"                {airflow} dags unpause qpan_transform\n"
        f"                {airflow} dags unpause qpan_ingest\n"
        f"              unpausing qpan_ingest also starts its @daily crawl of the LIVE portals (scrapers/sources.yml);\n"
        f"              for the sample: `.venv/bin/python -m scrapers.portal_server`, then Trigger qpan_ingest with\n"
        f"              {{\"sources_file\": \"scrapers/sample_sources.yml\"}}\n"
        f"    warehouse connection: qpan_warehouse -> {config.redact(env['AIRFLOW_CONN_QPAN_WAREHOUSE'])}\n"
        f"    logs:     {log_dir}\n"
        f"    Ctrl-C stops everything.\n"
    )


def serve(port: int | None = None, ready_timeout: float = 180) -> int:
    """Start the four services and keep them up until Ctrl-C/SIGTERM or one of them dies."""
    from qpan.orchestration import airflow_env
    from qpan.core import db, pgserver

    port = airflow_port(port)
    check_secrets(required=())  # nothing required locally, but never an example value
    if not pgserver.port_free(port):
        raise RuntimeError(f"port {port} on 127.0.0.1 is taken; set QPAN_AIRFLOW_PORT or pass --port")
    print("==> embedded Postgres", flush=True)
    pgserver.start()
    db.migrate()
    print(f"    {pgserver.status()}", flush=True)
    print("==> Airflow metadata DB", flush=True)
    airflow_env.ensure_initialised()
    if settings.get("QPAN_TRANSFORM_MODE") == "cosmos":
        # cosmos renders the transform DAG's dbt tasks from this manifest
        from qpan.transform.warehouse import parse_manifest

        parse_manifest()
    user, _password = ensure_login()
    env = service_env(port)
    log_dir = config.airflow_home() / "logs" / "services"
    started: list[supervisor.Started] = []
    # Ctrl-C reaches only this process (the services have their own process groups): it stops them.
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        for name, cmd in service_commands(port).items():
            # Each service leads its own process group (stopping it also stops what it spawned:
            # LocalExecutor workers, task processes, dbt), and gets SIGTERM if `qpan airflow` dies.
            started.append(supervisor.start(supervisor.Program(name, cmd, log_dir / f"{name}.log", env,
                                                               config.REPO_ROOT, die_with_parent=True)))
            print(f"==> airflow {name} (pid {started[-1].pid}, log {started[-1].log})", flush=True)
        _wait_until_healthy(port, started, ready_timeout)
        print(_banner(port, user, env, log_dir), flush=True)
        while True:
            dead = supervisor.first_exited(started)
            if dead:
                service = next(s for s in started if s.name == dead)
                print(f"airflow {dead} exited ({service.popen.returncode}); stopping the others\n"
                      f"{supervisor.tail(service.log)}", file=sys.stderr, flush=True)
                return 1
            time.sleep(1)
    except (KeyboardInterrupt, _Stop):
        print("\n==> stopping Airflow", flush=True)
        return 0
    finally:
        for sig in previous:  # a second Ctrl-C must not cut the shutdown short
            signal.signal(sig, signal.SIG_IGN)
        stop_all(started)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- CLI --------------------------------------------------------------------------------
def handler(args) -> int:
    action = getattr(args, "action", "up")
    if action == "check-env":
        return check_env_command()
    if action == "write-login":
        print(f"qpan: Airflow UI login written to {write_compose_login()}")
        return 0
    return serve(getattr(args, "port", None))


def check_env_command(environ: Mapping[str, str] | None = None) -> int:
    problems = insecure_settings(environ)
    if problems:
        print("qpan: refusing to start with these secrets:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print("qpan: secrets set, none at an example value")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "airflow", help="Airflow's UI, scheduler, DAG processor and triggerer on the embedded setup (127.0.0.1)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", choices=["up", "check-env", "write-login"], default="up",
                   help="up (default): run Airflow until Ctrl-C; check-env: vet the secrets of the compose "
                        "stack; write-login: its UI login from AIRFLOW_ADMIN_PASSWORD (airflow-init)")
    p.add_argument("--port", type=int, default=None,
                   help=f"port of the UI on 127.0.0.1 (default: $QPAN_AIRFLOW_PORT or {DEFAULT_PORT})")
    p.set_defaults(func=handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qpan.orchestration.airflow_local")
    sub = parser.add_subparsers(dest="command")
    register(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(["airflow", *argv])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (RuntimeError, InsecureConfig) as exc:
        print(f"qpan airflow: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

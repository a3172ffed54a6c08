"""Apache Superset for BI users: its own virtualenv, its metadata, its web server.

Superset pins its own Flask/SQLAlchemy stack, which cannot share a lock with Airflow, so it
lives in `.venv-bi/` (requirements/bi-lock.txt), created on first use with uv. Its metadata
(users, charts, dashboards) is a SQLite file under `.qpan/superset`; its only warehouse
connection is the read-only `qpan_analyst` role (see qpan.bi.bundle). It listens on
127.0.0.1:QPAN_BI_PORT (default 8088) and runs in the background (`qpan bi start|stop|status`).
"""
from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from qpan.core import config, settings, supervisor

log = logging.getLogger(__name__)

DEFAULT_BI_PORT = 8088
ADMIN_USER = "admin"
PASSWORD_KEY = "superset_admin_password"
VIEWER_ROLE = "qpan_viewer"  # dashboard users: Gamma plus read access to the qpan_analyst database
# what a Superset process gets from qpan's environment: no role password, no QPAN_DATABASE_URL
INHERITED_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
SECRET_KEY_KEY = "superset_secret_key"
VENV = config.REPO_ROOT / ".venv-bi"
LOCK = config.REPO_ROOT / "requirements" / "bi-lock.txt"
CONFIG_FILE = config.REPO_ROOT / "bi" / "superset_config.py"
SETUP_SCRIPT = config.REPO_ROOT / "bi" / "setup_metadata.py"
START_TIMEOUT = settings.get("QPAN_BI_START_TIMEOUT")


class BIError(RuntimeError):
    """Superset could not be set up or started; the message says why."""


def bi_port() -> int:
    return settings.get("QPAN_BI_PORT", DEFAULT_BI_PORT)


def url() -> str:
    return f"http://127.0.0.1:{bi_port()}"


def home() -> Path:
    """Superset's metadata and logs: `.qpan/superset` (follows QPAN_HOME; QPAN_SUPERSET_HOME
    overrides, for tests)."""
    return Path(settings.get("QPAN_SUPERSET_HOME", config.state_dir() / "superset")).resolve()


def _pid_file() -> Path:
    return home() / "superset.pid"


def log_file() -> Path:
    return home() / "superset.log"


def admin_password() -> str:
    return config.stored_secret(PASSWORD_KEY, env_name="QPAN_SUPERSET_ADMIN_PASSWORD")


def env() -> dict[str, str]:
    """The environment of every Superset process: its config, home and the generated secret key,
    and of qpan's own environment only what any program needs (INHERITED_ENV): Superset runs
    people's SQL and renders their dashboards, so it gets no warehouse password but the
    analyst's, which is in its database connection."""
    path = home()
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    out = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    out.update({
        "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
        "SUPERSET_HOME": str(path),
        "QPAN_SUPERSET_HOME": str(path),
        "SUPERSET_SECRET_KEY": config.stored_secret(SECRET_KEY_KEY, nbytes=42),
        "FLASK_APP": "superset.app:create_app()",
        "SCARF_ANALYTICS": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return out


# -- the virtualenv ---------------------------------------------------------------------
def _lock_digest() -> str:
    return hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]


def _venv_stamp() -> Path:
    return VENV / ".qpan-installed"


def venv_is_current() -> bool:
    stamp = _venv_stamp()
    return stamp.exists() and stamp.read_text().strip() == _lock_digest()


def ensure_venv() -> None:
    """Create `.venv-bi/` from requirements/bi-lock.txt unless it is current (uv: seconds when its
    cache is warm, a few minutes from the network)."""
    if venv_is_current():
        return
    uv = Path(sys.executable).with_name("uv")
    uv_cmd = str(uv) if uv.exists() else shutil.which("uv")
    log.info("creating %s from %s", VENV, LOCK.relative_to(config.REPO_ROOT))
    started = time.monotonic()
    if uv_cmd:
        python = shutil.which("python3.11") or sys.executable
        _run([uv_cmd, "venv", "--quiet", "--allow-existing", "--python", python, str(VENV)], "create .venv-bi")
        _run([uv_cmd, "pip", "install", "--quiet", "--python", str(VENV / "bin" / "python"), "-r", str(LOCK)],
             "install apache-superset into .venv-bi")
    else:  # no uv: plain venv + pip (slower)
        _run([sys.executable, "-m", "venv", str(VENV)], "create .venv-bi")
        _run([str(VENV / "bin" / "pip"), "install", "--quiet", "-r", str(LOCK)], "install apache-superset into .venv-bi")
    _venv_stamp().write_text(_lock_digest() + "\n")
    log.info(".venv-bi ready in %.0f s", time.monotonic() - started)


def _run(cmd: list[str], what: str, environ: dict[str, str] | None = None, timeout: float = 900) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=environ, timeout=timeout, cwd=config.REPO_ROOT)
    if proc.returncode != 0:
        tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])[-400:]
        raise BIError(f"could not {what} (exit {proc.returncode}): {tail}")
    return proc.stdout


def superset(*args: str, what: str) -> str:
    """Run the `superset` CLI of .venv-bi with qpan's configuration."""
    return _run([str(VENV / "bin" / "superset"), *args], what, environ=env())


def run_bi_python(*args: str, what: str, extra_env: dict[str, str] | None = None) -> str:
    """Run a script with .venv-bi's Python and qpan's Superset configuration (`extra_env`: e.g.
    a password, which never goes on a command line)."""
    return _run([str(VENV / "bin" / "python"), *args], what, environ={**env(), **(extra_env or {})})


# -- the metadata database ----------------------------------------------------------------
def _metadata_stamp() -> Path:
    return home() / ".initialised"


def ensure_metadata() -> bool:
    """Migrate the SQLite metadata, create the roles and the admin user (bi/setup_metadata.py:
    `superset db upgrade`, `superset init`, `fab create-admin` in one process). Returns True when
    the admin password was generated now (it is printed once, by the caller)."""
    new_password = not config.has_stored_secret(PASSWORD_KEY) and not settings.get("QPAN_SUPERSET_ADMIN_PASSWORD")
    password = admin_password()
    stamp = _metadata_stamp()
    if stamp.exists() and stamp.read_text().strip() == _lock_digest():
        return new_password
    environ = dict(env(), QPAN_SUPERSET_ADMIN_PASSWORD=password)
    out = _run([str(VENV / "bin" / "python"), str(SETUP_SCRIPT)], "set up Superset's metadata database", environ)
    log.info("%s", out.strip().splitlines()[-1] if out.strip() else "superset metadata ready")
    stamp.write_text(_lock_digest() + "\n")
    return new_password


def prepare() -> bool:
    """Everything that does not need the warehouse: the venv and the metadata (the tests run it
    in the background while the warehouse is being built)."""
    ensure_venv()
    return ensure_metadata()


# -- the web server -------------------------------------------------------------------------
def pid() -> int | None:
    """The PID of the running Superset (gunicorn's master), None if it is not running."""
    return supervisor.running_pid(_pid_file())


def healthy(timeout: float = 3) -> bool:
    return supervisor.http_get(url() + "/health", timeout) is not None


def start_server() -> int:
    """Start gunicorn in the background (its own process group, so `qpan bi stop` stops it and its
    workers) and wait until /health answers."""
    running = pid()
    if running:
        return running
    if healthy():
        raise BIError(f"something else already listens on {url()}; set QPAN_BI_PORT to a free port")
    # gunicorn's default request-line (4094 bytes) and header (8190 bytes) limits stay on
    cmd = [str(VENV / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{bi_port()}", "--workers", "1",
           "--worker-class", "gthread", "--threads", "8", "--timeout", "120", "superset.app:create_app()"]
    started = supervisor.start(supervisor.Program("superset", cmd, log_file(), env(), home(), _pid_file()))
    try:
        supervisor.wait_ready(healthy, START_TIMEOUT, exited=lambda: supervisor.first_exited([started]))
    except supervisor.Exited:
        _pid_file().unlink(missing_ok=True)
        raise BIError(f"Superset exited at start (exit {started.popen.returncode}); see {log_file()}") from None
    except TimeoutError:
        stop()
        raise BIError(f"Superset did not answer on {url()} within {START_TIMEOUT:.0f} s; see {log_file()}") from None
    return started.pid


def stop() -> bool:
    """Stop the background Superset (its whole process group). False when none was running."""
    return supervisor.stop(_pid_file(), timeout=10)

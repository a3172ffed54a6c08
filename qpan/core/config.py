"""Where things live and how they are configured.

Everything the product writes at run time lives under `.qpan/` in the repository
(git-ignored): the embedded Postgres data directory, Airflow's home, generated
secrets, reports. Configuration comes from environment variables only, so that
nothing secret is ever committed.
"""
from __future__ import annotations

import fcntl
import os
import json
import secrets
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from qpan.core import settings
from qpan.core.settings import ConfigError  # noqa: F401 - re-exported: callers catch config.ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(settings.get("QPAN_SHARED_DIR", REPO_ROOT.parent / "shared"))


def state_dir() -> Path:
    """The git-ignored folder of run-time state (`QPAN_HOME` overrides, for tests)."""
    return Path(settings.get("QPAN_HOME", REPO_ROOT / ".qpan")).resolve()


DEFAULT_PG_PORT = settings.SETTINGS["QPAN_PG_PORT"].default
WAREHOUSE_DB = "qpan"
ROLES = ("qpan_loader", "qpan_transformer", "qpan_analyst", "qpan_reviewer")
ADMIN_ROLE = "qpan_admin"


def pg_port() -> int:
    return settings.get("QPAN_PG_PORT")


def sample_port() -> int:
    """Port of the local sample portal server. Fixed (not random) because the page URLs, which
    include it, are the articles' keys: a second run must see the same URLs. Derived from the
    Postgres port so that two clones with different `QPAN_PG_PORT` do not collide."""
    return settings.get("QPAN_SAMPLE_PORT", None) or pg_port() + 10


def external_database_url() -> str | None:
    """`QPAN_DATABASE_URL` points everything at an external Postgres (compose, production)."""
    url = settings.get("QPAN_DATABASE_URL")
    if url is not None:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ConfigError(f"QPAN_DATABASE_URL is not a valid URL ({exc}); expected "
                              f"postgresql://USER:PASSWORD@HOST:PORT/DBNAME") from None
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise ConfigError(f"QPAN_DATABASE_URL must look like postgresql://USER:PASSWORD@HOST:PORT/DBNAME, "
                              f"got {redact(url)!r}")
    return url


def _secrets_file() -> Path:
    return state_dir() / "secrets.json"


def role_password(role: str) -> str:
    """Password of a role: from `QPAN_<ROLE>_PASSWORD` if set, else generated once and kept
    in `.qpan/secrets.json` (mode 600, git-ignored). Never a default that works elsewhere."""
    return stored_secret(role, env_name=f"{role.upper()}_PASSWORD")


def stored_secret(key: str, env_name: str | None = None, nbytes: int = 18) -> str:
    """A secret: from the environment variable `env_name` if set, else generated once and kept
    under `key` in `.qpan/secrets.json` (mode 600, git-ignored)."""
    if env_name and settings.get(env_name):
        return settings.get(env_name)
    path = _secrets_file()
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if key in stored:
        return stored[key]
    with _locked(path):  # two processes generating at once: the second reads what the first wrote
        stored = json.loads(path.read_text()) if path.exists() else {}
        if key not in stored:
            stored[key] = secrets.token_urlsafe(nbytes)
            write_private(path, json.dumps(stored, indent=1))
    return stored[key]


@contextmanager
def _locked(path: Path):
    """An exclusive lock (flock) on `path`'s companion `.lock` file, for a read-modify-write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_private(path: Path, text: str) -> None:
    """Write a file that holds a secret: readable by its owner only from the first byte (a
    temporary file of a unique name created with mode 600 by mkstemp, whatever the umask), then
    renamed over `path`, so a reader sees the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def has_stored_secret(key: str) -> bool:
    path = _secrets_file()
    return path.exists() and key in json.loads(path.read_text())


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    dbname: str


def endpoint() -> Endpoint:
    from urllib.parse import urlsplit

    url = external_database_url()
    if url:
        parts = urlsplit(url)
        return Endpoint(parts.hostname or "127.0.0.1", parts.port or 5432, parts.path.lstrip("/") or WAREHOUSE_DB)
    return Endpoint("127.0.0.1", pg_port(), WAREHOUSE_DB)


def database_url(role: str = ADMIN_ROLE, dbname: str | None = None) -> str:
    """A libpq URL for `role`. With `QPAN_DATABASE_URL` set, the admin URL is that URL and
    the other roles connect to the same host and database with their own passwords."""
    external = external_database_url()
    ep = endpoint()
    db = dbname or ep.dbname
    if role == ADMIN_ROLE and external and dbname is None:
        return external
    if role == ADMIN_ROLE and external:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(external)
        return urlunsplit(parts._replace(path="/" + db))
    return f"postgresql://{role}:{quote(role_password(role), safe='')}@{ep.host}:{ep.port}/{db}"


def redact(url: str) -> str:
    """The URL with its password replaced, for logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(":" + parts.password + "@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def airflow_home() -> Path:
    return Path(settings.get("AIRFLOW_HOME", state_dir() / "airflow"))

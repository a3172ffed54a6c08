"""Every generated secret, looked for in every log and artefact a test run writes
(docs/security.md; issue 28 point 13).

The secrets are every value of each state folder's `secrets.json` (role passwords, Airflow's
metadata and Redis passwords, the Superset admin...) and every Airflow UI password file; the places
are the whole state folder (logs, dbt logs and docs, reports, Airflow homes, the Postgres server
log) and pytest's temporary folders (where the tests' Airflow homes and task logs live), minus the
files whose job is to hold a secret. `make test` scans every worker's after they finish (`--leak-scan`, tests/conftest.py);
`python tests/leakscan.py DIR...` scans folders by hand.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import quote

# Files that hold a secret on purpose: the store itself, its lock, the Airflow UI password files,
# the embedded server's init password file, Redis' config (mode 600 each), and Airflow's config
# (its own keys: fernet, JWT, API secret).
HOLDERS = ("secrets.json", "secrets.json.lock", "simple_auth_manager_passwords.json.generated", "passwords.json",
           ".pwfile", "redis.conf", "airflow.cfg")
# Postgres' own data files (tables, WAL) hold no plaintext password, and are large: its server
# log is what is scanned there.
PGDATA_KEEP = ("server.log", "log")
MAX_BYTES = 50_000_000


def generated_secrets(roots) -> dict[str, str]:
    """{'<file>:<key>': value} for every secret generated under `roots`."""
    found: dict[str, str] = {}
    for root in map(Path, roots):
        for path in root.rglob("secrets.json"):
            try:
                for key, value in json.loads(path.read_text()).items():
                    if isinstance(value, str) and len(value) >= 8:
                        found[f"{path}:{key}"] = value
            except (OSError, ValueError):
                continue
        for path in root.rglob("simple_auth_manager_passwords.json.generated"):
            try:
                for user, value in json.loads(path.read_text()).items():
                    found[f"{path}:{user}"] = value
            except (OSError, ValueError):
                continue
    return found


def _files(root: Path):
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink() or path.name in HOLDERS:
            continue
        parts = path.relative_to(root).parts
        if "pgdata" in parts:
            below = parts[parts.index("pgdata") + 1:]
            if not below or below[0] not in PGDATA_KEEP:
                continue
        yield path


def leaks(roots, secrets: dict[str, str]) -> list[str]:
    """'file: which secret' for every file under `roots` holding a secret (plain or URL-quoted);
    the secret itself is never in the result."""
    needles = {name: {value.encode(), quote(value, safe="").encode()} for name, value in secrets.items()}
    out = []
    for root in map(Path, roots):
        if not root.exists():
            continue
        for path in ([root] if root.is_file() else _files(root)):
            try:
                if path.stat().st_size > MAX_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            out += [f"{path}: {name}" for name, forms in needles.items() if any(n in data for n in forms)]
    return out


def main(argv: list[str]) -> int:
    secrets = generated_secrets(argv)
    found = leaks(argv, secrets)
    print(f"qpan tests: {len(secrets)} generated secrets looked for under {', '.join(argv)}: "
          + ("none found outside their files" if not found else f"{len(found)} LEAKS"))
    for line in found:
        print(f"  {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""metabase-init (compose profile `bi`): make Metabase ready to chart the warehouse.

First start: Metabase's own set-up API creates the admin (MB_ADMIN_EMAIL / MB_ADMIN_PASSWORD)
and the "qpan warehouse" database, connected as the read-only role `qpan_analyst`, limited to
the schemas analysts may read (`marts`, `audit`). Later starts: log in and add the database if
it is missing. Idempotent; standard library only (runs in the qpan image).
"""
from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

DATABASE_NAME = "qpan warehouse"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def analyst_user(env: dict[str, str]) -> str:
    user = env.get("QPAN_ANALYST_USER", "qpan_analyst")
    if user != "qpan_analyst":
        raise SystemExit(f"metabase-init: BI connects as the read-only qpan_analyst, not {user!r}")
    return user


def warehouse_database(env: dict[str, str]) -> dict:
    """The Metabase database entry: always the analyst role, never an admin credential."""
    return {
        "engine": "postgres",
        "name": DATABASE_NAME,
        "details": {
            "host": env.get("QPAN_WAREHOUSE_HOST", "postgres"),
            "port": int(env.get("QPAN_WAREHOUSE_PORT", "5432")),
            "dbname": env.get("QPAN_WAREHOUSE_DB", "qpan"),
            "user": analyst_user(env),
            "password": env["QPAN_ANALYST_PASSWORD"],
            "ssl": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "marts,audit",
        },
        "is_full_sync": True,
    }


def setup_payload(env: dict[str, str], token: str) -> dict:
    return {
        "token": token,
        "user": {
            "email": env["MB_ADMIN_EMAIL"],
            "password": env["MB_ADMIN_PASSWORD"],
            "first_name": "qpan",
            "last_name": "admin",
            "site_name": "qpan",
        },
        "prefs": {"site_name": "qpan", "site_locale": "en", "allow_tracking": False},
        "database": warehouse_database(env),
    }


def _call(base: str, method: str, path: str, body: dict | None = None, session: str | None = None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None)
    req.add_header("Content-Type", "application/json")
    if session:
        req.add_header("X-Metabase-Session", session)
    with OPENER.open(req, timeout=30) as resp:
        raw = resp.read().decode()
    return json.loads(raw) if raw else None


def wait_healthy(base: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _call(base, "GET", "/api/health").get("status") == "ok":
                return
        except (urllib.error.URLError, OSError, ValueError, AttributeError):
            pass
        time.sleep(3)
    raise SystemExit(f"metabase-init: {base} not healthy after {timeout:.0f}s")


def main(env: dict[str, str] | None = None) -> int:
    env = dict(os.environ if env is None else env)
    base = env.get("MB_URL", "http://metabase:3000").rstrip("/")
    wait_healthy(base)
    props = _call(base, "GET", "/api/session/properties")
    token = props.get("setup-token")
    if token and not props.get("has-user-setup"):
        _call(base, "POST", "/api/setup", setup_payload(env, token))
        print(f"metabase-init: admin {env['MB_ADMIN_EMAIL']} and database '{DATABASE_NAME}' (as qpan_analyst) created")
        return 0
    session = _call(base, "POST", "/api/session",
                    {"username": env["MB_ADMIN_EMAIL"], "password": env["MB_ADMIN_PASSWORD"]})["id"]
    listed = _call(base, "GET", "/api/database", session=session)
    databases = listed.get("data", listed) if isinstance(listed, dict) else listed
    if any(d.get("name") == DATABASE_NAME for d in databases):
        print(f"metabase-init: database '{DATABASE_NAME}' already there")
        return 0
    _call(base, "POST", "/api/database", warehouse_database(env), session=session)
    print(f"metabase-init: database '{DATABASE_NAME}' (as qpan_analyst) added")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`qpan bi start|stop|status`: Apache Superset on the analyst role, in the background."""
from __future__ import annotations

import argparse
import json
import logging
import time

from qpan.core import config

log = logging.getLogger(__name__)


def _ensure_warehouse() -> None:
    """The embedded Postgres is started (and migrated, which re-grants the analyst role) when it
    is the warehouse; an external one must answer."""
    from qpan.core import db, pgserver

    if not config.external_database_url():
        pgserver.start()
    db.require_reachable()
    db.migrate()


def _marts_published() -> bool:
    from qpan.core import db

    with db.connect("qpan_analyst") as conn:
        return conn.execute("select to_regclass('marts.mart_district_year') is not null").fetchone()[0]


def start(ensure_warehouse: bool = True) -> dict:
    """Set up (first time) and start Superset, import the dashboard; returns what `make bi` prints.
    ensure_warehouse=False: the caller has started and migrated the warehouse already."""
    from qpan.bi import bundle, server

    started = time.monotonic()
    if ensure_warehouse:
        _ensure_warehouse()
    new_password = server.prepare()
    bundle.import_dashboard()
    already = server.pid() is not None
    server.start_server()
    return {"url": server.url(), "user": server.ADMIN_USER, "new_password": new_password,
            "already_running": already, "marts_published": _marts_published(),
            "seconds": round(time.monotonic() - started, 1)}


def _cmd(args: argparse.Namespace) -> int:
    from qpan.bi import server

    if args.action == "start":
        info = start()
        print(f"Superset {'was already running' if info['already_running'] else 'started'} "
              f"in {info['seconds']} s: {info['url']}  (dashboard: qpan — QP-AN indicators)")
        print(f"login: user {info['user']}")
        if info["new_password"]:
            print(f"       password {server.admin_password()}  (shown once; kept in "
                  f"{config.state_dir() / 'secrets.json'} as {server.PASSWORD_KEY})")
        else:
            print(f"       password in {config.state_dir() / 'secrets.json'} ({server.PASSWORD_KEY})")
        if not info["marts_published"]:
            print("note: no published marts yet (run `make run`): the charts are empty until then")
        print("stop it with `.venv/bin/qpan bi stop`")
    elif args.action == "stop":
        print("Superset stopped" if server.stop() else "Superset was not running")
    else:
        running = server.pid()
        state = {"running": running is not None, "pid": running, "url": server.url(),
                 "healthy": bool(running) and server.healthy(), "venv": server.venv_is_current(),
                 "log": str(server.log_file())}
        if args.json:
            print(json.dumps(state))
        else:
            print(f"Superset {'running (pid %d) at %s' % (running, state['url']) if running else 'not running'}"
                  f"{'' if not running or state['healthy'] else ' but not answering; see ' + state['log']}")
        return 0 if state["healthy"] else 3
    return 0


def register(sub) -> None:
    p = sub.add_parser("bi", help="Apache Superset on the read-only analyst role (start|stop|status)",
                       description="Apache Superset for BI users, in the background on 127.0.0.1:QPAN_BI_PORT "
                                   "(default 8088): its own virtualenv .venv-bi/ (created on first start), "
                                   "metadata under .qpan/superset, the dashboard of bi/superset/ imported at "
                                   "every start, connected as qpan_analyst (marts and the audit trail only).")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--json", action="store_true", help="with `status`: one JSON object")
    p.set_defaults(func=_cmd)

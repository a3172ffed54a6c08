"""`qpan cluster start|stop|status`: Airflow with Celery workers on this machine (127.0.0.1).

    qpan cluster start     Redis, Postgres metadata DB, scheduler, dag-processor, api-server,
                           triggerer and two Celery workers (queues crawl, transform), in the
                           background; prints the UI URL and login. `make cluster` runs this.
    qpan cluster status    each process (PID, running or not), the workers by hostname
    qpan cluster stop      ends every process `start` started (and what they forked)

Ports: QPAN_AIRFLOW_PORT (UI and REST API, default 8080), QPAN_REDIS_PORT (default
QPAN_PG_PORT + 20). PIDs in .qpan/cluster/pids, logs in .qpan/cluster/logs. See docs/operations.md.
"""
from __future__ import annotations

import argparse
import json
import sys


def handler(args) -> int:
    from qpan.cluster import control, settings

    if args.action == "start":
        info = control.start()
        if args.json:
            print(json.dumps(info, indent=1))
            return 0
        _print_status(info)
        from qpan.orchestration.airflow_local import ensure_login

        user, password = ensure_login()
        print(f"\n==> Airflow cluster is up in {info['started_in_s']:.0f}s: {info['url']}\n"
              f"    login:    {user} / {password}\n"
              f"    DAGs start paused: unpause qpan_transform and qpan_ingest in the UI (unpausing\n"
              f"    qpan_ingest starts its @daily crawl of the LIVE portals unless QPAN_INGEST_SCHEDULE=none).\n"
              f"    CLI:      AIRFLOW_HOME={settings.airflow_home()} needs the cluster's environment;\n"
              f"              use the UI or the REST API ({info['url']}/api/v2, token from /auth/token).\n"
              f"    stop:     .venv/bin/qpan cluster stop", flush=True)
        return 0
    if args.action == "stop":
        stopped = control.stop()
        print(json.dumps({"stopped": stopped}) if args.json else
              ("stopped: " + ", ".join(stopped) if stopped else "nothing was running"))
        return 0
    info = control.status()
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        _print_status(info)
    return 0 if info["running"] else 3


def _print_status(info: dict) -> None:
    if not info["services"]:
        print(f"cluster: not started ({info['cluster_dir']})")
        return
    print(f"cluster: {'running' if info['running'] else 'NOT all running'}  UI {info['url']} "
          f"({'healthy' if info['api_healthy'] else 'not answering'})  broker {info['broker']}  "
          f"metadata {info['metadata_db']}")
    for s in info["services"]:
        extra = f"  hostname {s['hostname']}  queues {','.join(s['queues'])}" if s["kind"] == "worker" else ""
        state = f"pid {s['pid']}" if s["running"] else "STOPPED"
        print(f"  {s['name']:<14} {state:<12}{extra}  log {s['log']}")
    print("  workers: " + (", ".join(info["workers"]) or "none"))


def register(subparsers) -> None:
    p = subparsers.add_parser("cluster", help="Airflow with Celery workers on this machine: start, stop, status",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=handler)


if __name__ == "__main__":  # pragma: no cover
    from qpan.cli import main

    sys.exit(main(["cluster", *sys.argv[1:]]))

"""`qpan_ingest` on `qpan cluster` with 2 Celery workers, then 1: crawl wall time vs the
politeness bound, and tasks per minute.

    .venv/bin/python bench/cluster_crawl.py [--latency 0.25] [--delay 0.2]

Starts a cluster of its own (temporary QPAN_CLUSTER_DIR, scratch warehouse and metadata
databases on the embedded Postgres, free ports), serves the sample portals (five loopback
hosts) with `latency` seconds per response, triggers `qpan_ingest` through the REST API on an
empty warehouse with both workers, stops one worker, empties the warehouse, triggers it again.
The politeness bound of a run is, over hosts, the largest (requests to the host - 1) x delay
plus the host's requests' own service time: no polite crawler finishes sooner. The transform
stays paused (this measures the crawl). Everything it started is stopped and dropped at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qpan.core import config, db, pgserver  # noqa: E402
from qpan.cluster.api import Airflow  # noqa: E402
from scrapers.portal_server import PortalServer  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _recreate(name: str) -> str:
    from psycopg import sql

    with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    url = config.database_url(config.ADMIN_ROLE, dbname=name)
    os.environ["QPAN_DATABASE_URL"] = url
    db.migrate()
    return url


def _measure(api: Airflow, portal: PortalServer, delay: float) -> dict:
    portal.reset_log()
    t0 = time.monotonic()
    run_id = api.trigger("qpan_ingest", {"sources_file": "scrapers/sample_sources.yml"})
    run = api.wait_run("qpan_ingest", run_id, 900)
    elapsed = time.monotonic() - t0
    tis = api.task_instances("qpan_ingest", run_id)
    crawls = [t for t in tis if t["task_id"] == "crawl"]
    starts = [datetime.fromisoformat(t["start_date"]) for t in crawls]
    ends = [datetime.fromisoformat(t["end_date"]) for t in crawls]
    wall = (max(ends) - min(starts)).total_seconds()
    per_host: dict[str, list[dict]] = {}
    for r in portal.requests:
        per_host.setdefault(r["site"], []).append(r)
    bound = max((len(rs) - 1) * delay + sum(r["end"] - r["start"] for r in rs) / len(rs) for rs in per_host.values())
    busiest = max(len(rs) for rs in per_host.values())
    return {"state": run["state"], "run_s": round(elapsed, 1), "crawl_wall_s": round(wall, 1),
            "politeness_bound_s": round(bound, 1), "requests": len(portal.requests), "busiest_host_requests": busiest,
            "task_instances": len(tis), "tasks_per_min": round(len(tis) / elapsed * 60, 1),
            "hosts": sorted({t["hostname"] for t in crawls})}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency", type=float, default=0.25, help="seconds the portal server takes per response")
    ap.add_argument("--delay", type=float, default=0.2, help="the sample registry's per-host delay (for the bound)")
    args = ap.parse_args(argv)
    pgserver.start()
    suffix = uuid.uuid4().hex[:6]
    warehouse, metadata_db = f"qpan_clbench_{suffix}", f"airflow_clbench_{suffix}"
    home = Path(tempfile.mkdtemp(prefix="qpan-cluster-bench-"))
    _recreate(warehouse)
    password = uuid.uuid4().hex
    results = {}
    with PortalServer(latency=args.latency) as portal:
        env = dict(os.environ, **portal.env(), QPAN_CLUSTER_DIR=str(home), QPAN_CLUSTER_DB=metadata_db,
                   QPAN_AIRFLOW_PORT=str(_free_port()), QPAN_REDIS_PORT=str(_free_port()),
                   QPAN_AIRFLOW_PASSWORD=password, QPAN_INGEST_SCHEDULE="none")
        qpan = [str(REPO / ".venv" / "bin" / "qpan"), "cluster"]
        try:
            t0 = time.monotonic()
            res = subprocess.run([*qpan, "start", "--json"], env=env, capture_output=True, text=True, cwd=REPO)
            if res.returncode:
                print(res.stderr, file=sys.stderr)
                return 1
            results["start_s"] = round(time.monotonic() - t0, 1)
            api = Airflow(json.loads(res.stdout)["url"], "admin", password)
            api.unpause("qpan_ingest")
            results["2 workers"] = _measure(api, portal, args.delay)
            from qpan.cluster import procs
            os.environ["QPAN_CLUSTER_DIR"] = str(home)
            procs.stop("qpan-worker-2")
            _recreate(warehouse)
            results["1 worker"] = _measure(api, portal, args.delay)
        finally:
            subprocess.run([*qpan, "stop"], env=env, capture_output=True, text=True, cwd=REPO)
            from qpan.cluster.metadata import drop_database

            drop_database(metadata_db)
            with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
                conn.execute(f'drop database if exists "{warehouse}" with (force)')
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

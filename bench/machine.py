"""Where the benchmark ran (CPU, memory, versions) and the end-to-end timing of `qpan run`, with
where its time went (Airflow's task_instance table)."""
from __future__ import annotations

import os
import platform
import subprocess
import time
from datetime import datetime

from bench.harness import REPO


def machine() -> dict:
    cpu = "unknown"
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for ln in open("/proc/meminfo"):
            if ln.startswith("MemTotal"):
                mem = int(ln.split()[1]) // 1024
    except OSError:
        pass
    vers = {"python": platform.python_version()}
    for mod in ("trafilatura", "psycopg", "selectolax", "dbt.version", "airflow", "cosmos"):
        try:
            m = __import__(mod, fromlist=["x"])
            vers[mod.split(".")[0]] = getattr(m, "__version__", None) or getattr(m, "__version__", "?")
        except Exception:
            pass
    try:
        from dbt.version import __version__ as dv
        vers["dbt-core"] = dv
    except Exception:
        pass
    try:
        from qpan.core import config, db
        with db.connect(config.ADMIN_ROLE, dbname="postgres") as c:
            vers["postgres"] = c.execute("show server_version").fetchone()[0]
    except Exception:
        pass
    return {"nproc": os.cpu_count(), "ram_mb": mem, "cpu": cpu, "kernel": platform.release(), "versions": vers}


def e2e_airflow(runs: int) -> dict:
    """`qpan run` (what `make run` does after set-up) `runs` times, then where the time went,
    from Airflow's task_instance table."""
    import sqlite3

    walls = []
    env = dict(os.environ)
    env.pop("QPAN_DATABASE_URL", None)
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([str(REPO / ".venv/bin/qpan"), "run"], cwd=REPO, env=env, capture_output=True, text=True)
        walls.append(round(time.perf_counter() - t0, 1))
        if proc.returncode != 0:
            return {"walls": walls, "error": proc.stderr[-1500:]}
    return {"walls": walls, **airflow_breakdown(sqlite3)}


def airflow_breakdown(sqlite3=None) -> dict:
    """DAG run wall time vs the sum of its task durations, for the latest run of each DAG."""
    import sqlite3 as _s

    path = REPO / ".qpan" / "airflow" / "airflow.db"
    if not path.exists():
        return {}
    c = _s.connect(str(path))
    out = {}
    for dag in ("qpan_ingest", "qpan_transform"):
        row = c.execute("select run_id, start_date, end_date from dag_run where dag_id = ? order by start_date desc limit 1",
                        (dag,)).fetchone()
        if not row:
            continue
        tis = c.execute("select task_id, map_index, duration, start_date, end_date from task_instance "
                        "where dag_id = ? and run_id = ?", (dag, row[0])).fetchall()

        def ts(s):
            return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None

        run_s = (ts(row[2]) - ts(row[1])).total_seconds() if row[1] and row[2] else None
        work = sum((t[2] or 0) for t in tis)
        dbt_tasks = [t for t in tis if "." in t[0] and (t[0].endswith("_run") or t[0].endswith("_test") or "dbt" in t[0])]
        top = sorted(((t[0], round(t[2] or 0, 2)) for t in tis), key=lambda x: -x[1])[:8]
        out[dag] = {"run_id": row[0], "dag_run_s": round(run_s, 2) if run_s else None, "tasks": len(tis),
                    "task_work_s": round(work, 2), "overhead_s": round(run_s - work, 2) if run_s else None,
                    "overhead_share": round((run_s - work) / run_s, 3) if run_s else None,
                    "cosmos_tasks": len(dbt_tasks), "cosmos_work_s": round(sum((t[2] or 0) for t in dbt_tasks), 2),
                    "top_tasks": top}
    return out

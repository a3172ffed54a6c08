"""What the benchmark's stage processes share with the parent: the paths, the benchmark's own
database, and the one JSON line a stage reports (its figures, peak RSS and load average)."""
from __future__ import annotations

import json
import os
import resource
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".qpan" / "bench-cache"
BENCH_DB = "qpan_bench"


def _rss_mb() -> float:
    """Peak RSS of this process: VmHWM (ru_maxrss survives fork+exec and would report the parent's)."""
    try:
        for ln in open("/proc/self/status"):
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def emit(d: dict) -> None:
    d.setdefault("peak_rss_mb", round(_rss_mb(), 1))
    d.setdefault("loadavg", [round(x, 2) for x in os.getloadavg()])
    print("BENCH_JSON " + json.dumps(d, default=str), flush=True)


def use_bench_database() -> None:
    """Point this process (and its dbt subprocesses) at the benchmark database."""
    from qpan.core import config

    os.environ["QPAN_DATABASE_URL"] = config.database_url(config.ADMIN_ROLE, dbname=BENCH_DB)

"""The thresholds of source health, from the environment (QPAN_HEALTH_*), with defaults that
suit a nightly crawl. Read at every use, so a test or an operator changes them without a restart."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields

STATUSES = ("failing", "drift", "blocked", "silent", "ok")  # worst first
PROBLEMS = ("failing", "drift", "blocked", "silent")
EXIT_STATUSES = ("failing", "drift")  # `qpan sources status` exits 1 on these


@dataclass(frozen=True)
class Thresholds:
    # silent: no new article for longer than max(floor, factor x the source's usual gap)
    silent_floor_days: float = 7.0
    silent_gap_factor: float = 2.0
    silent_min_gaps: int = 3            # gaps between days with new articles before one is learned
    # drift: parse failures jump (at least this many, this share of the pages parsed, and this
    # much above the share of the source's last good runs)
    drift_min_failures: int = 2
    drift_min_rate: float = 0.5
    drift_jump: float = 0.3
    drift_baseline_runs: int = 5
    # failing: fetch errors on at least this share of the requests (or no list page answered)
    failing_min_errors: int = 2
    failing_min_rate: float = 0.5
    # blocked: 403/429 on this many runs in a row (robots.txt refusing us: at once)
    blocked_runs: int = 2
    # the gate's warnings on mart_source_health (GX; recorded, never blocking)
    warn_max_quarantine_rate: float = 0.5
    warn_max_days_silent: float = 30.0
    warn_max_median_response_ms: float = 5000.0


def thresholds() -> Thresholds:
    """Thresholds() with QPAN_HEALTH_<FIELD> (upper case) overriding each default."""
    values = {}
    for f in fields(Thresholds):
        name = "QPAN_HEALTH_" + f.name.upper()
        raw = os.environ.get(name)
        if raw is None or raw == "":
            continue
        kind = int if f.type in ("int", int) else float
        try:
            values[f.name] = kind(raw)
        except ValueError as exc:
            raise ValueError(f"{name} must be a number, got {raw!r}") from exc
        if values[f.name] < 0:
            raise ValueError(f"{name} must not be negative, got {raw!r}")
    return Thresholds(**values)

"""The thresholds of source health, from the environment (QPAN_HEALTH_*), with defaults that
suit a nightly crawl. Read at every use, so a test or an operator changes them without a restart."""
from __future__ import annotations

from dataclasses import dataclass, fields

from qpan.core import settings

STATUSES = ("failing", "drift", "blocked", "silent", "ok")  # worst first
PROBLEMS = ("failing", "drift", "blocked", "silent")
EXIT_STATUSES = ("failing", "drift")  # `qpan sources status` exits 1 on these


def _default(field: str):
    return settings.SETTINGS["QPAN_HEALTH_" + field.upper()].default  # the table of every setting


@dataclass(frozen=True)
class Thresholds:
    # silent: no new article for longer than max(floor, factor x the source's usual gap)
    silent_floor_days: float = _default("silent_floor_days")
    silent_gap_factor: float = _default("silent_gap_factor")
    silent_min_gaps: int = _default("silent_min_gaps")            # gaps between days with new articles before one is learned
    # drift: parse failures jump (at least this many, this share of the pages parsed, and this
    # much above the share of the source's last good runs)
    drift_min_failures: int = _default("drift_min_failures")
    drift_min_rate: float = _default("drift_min_rate")
    drift_jump: float = _default("drift_jump")
    drift_baseline_runs: int = _default("drift_baseline_runs")
    # failing: fetch errors on at least this share of the requests (or no list page answered)
    failing_min_errors: int = _default("failing_min_errors")
    failing_min_rate: float = _default("failing_min_rate")
    # blocked: 403/429 on this many runs in a row (robots.txt refusing us: at once)
    blocked_runs: int = _default("blocked_runs")
    # the gate's warnings on mart_source_health (GX; recorded, never blocking)
    warn_max_quarantine_rate: float = _default("warn_max_quarantine_rate")
    warn_max_days_silent: float = _default("warn_max_days_silent")
    warn_max_median_response_ms: float = _default("warn_max_median_response_ms")


def thresholds() -> Thresholds:
    """Thresholds() with QPAN_HEALTH_<FIELD> (upper case) overriding each default."""
    return Thresholds(**{f.name: settings.get("QPAN_HEALTH_" + f.name.upper()) for f in fields(Thresholds)})

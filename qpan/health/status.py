"""The status of one crawl of a source, judged against the source's own history.

Worst first: `failing` (fetch errors), `blocked` (robots.txt, or 403/429 persistently), `drift`
(parse failures jump: the template changed), `silent` (no new article for longer than the
source's usual gap), `ok`. Pure functions over plain dicts (the rows of raw.crawl_runs), so the
rules are tested without a crawl and read the same from the crawler, the CLI and the tests.
"""
from __future__ import annotations

import math
from datetime import date

from qpan.health.settings import Thresholds

LIST_EMPTY = "list selector matched nothing"


def usual_gap_days(new_article_days: list[date], t: Thresholds) -> float | None:
    """The source's usual gap between days on which it delivered new articles: the 90th
    percentile of the gaps, once there are `silent_min_gaps` of them (else None: not learned)."""
    days = sorted(set(new_article_days))
    gaps = sorted((b - a).days for a, b in zip(days, days[1:]))
    if not gaps or len(gaps) < max(1, t.silent_min_gaps):
        return None
    return float(gaps[max(0, math.ceil(0.9 * len(gaps)) - 1)])


def silent_after_days(usual_gap: float | None, t: Thresholds) -> float:
    """Silent after this many days without a new article: the floor, or more for a source that
    usually publishes less often."""
    return max(t.silent_floor_days, t.silent_gap_factor * usual_gap) if usual_gap else t.silent_floor_days


def _refused(run: dict) -> int:
    by_class = run.get("http_errors_by_class") or {}
    return int(by_class.get("403", 0)) + int(by_class.get("429", 0))


def _counts(by_class: dict) -> str:
    return ", ".join(f"{k} x{v}" for k, v in sorted(by_class.items(), key=lambda kv: (-kv[1], kv[0])))


def parse_baseline(previous: list[dict], t: Thresholds) -> float:
    """Share of parse failures over the source's last good (not drift) runs that parsed pages."""
    good = [r for r in previous if r.get("status") != "drift" and r.get("parse_attempts")]
    good = good[: t.drift_baseline_runs]
    attempts = sum(r["parse_attempts"] for r in good)
    return sum(r.get("parse_failures") or 0 for r in good) / attempts if attempts else 0.0


def failing_selector(run: dict) -> str:
    """The reason(s) pages failed to parse, with the selectors that matched nothing."""
    by_reason = run.get("parse_failures_by_reason") or {}
    selectors = run.get("failing_selectors") or {}
    parts = []
    for reason, n in sorted(by_reason.items(), key=lambda kv: -kv[1]):
        sel = selectors.get(reason)
        parts.append(f"{reason} [{sel}] x{n}" if sel else f"{reason} x{n}")
    return "; ".join(parts)


def classify(run: dict, previous: list[dict], t: Thresholds) -> tuple[str, str]:
    """(status, reason) of `run`; `previous` are the source's earlier runs, newest first."""
    errors, requests = run.get("http_errors") or 0, run.get("requests") or 0
    by_class = run.get("http_errors_by_class") or {}
    robots = run.get("robots_refusals") or 0
    refused = _refused(run)
    down = sum(int(v) for k, v in by_class.items() if k not in ("403", "429"))
    if run.get("failed") and not down and (robots or refused):
        if robots and not refused:
            return "blocked", f"robots.txt refuses the list pages ({robots} refusal(s))"
        streak = 1
        for r in previous:
            if _refused(r) == 0:
                break
            streak += 1
        if streak >= t.blocked_runs:
            return "blocked", f"403/429 on {streak} runs in a row ({_counts(by_class)})"
        return "failing", f"no list page answered ({_counts(by_class)}); blocked if it persists"
    if run.get("failed"):
        return "failing", f"no list page or feed answered ({_counts(by_class) or 'no response'})"
    if errors >= t.failing_min_errors and requests and errors / requests >= t.failing_min_rate:
        return "failing", f"{errors} of {requests} requests failed ({_counts(by_class)})"
    failures, attempts = run.get("parse_failures") or 0, run.get("parse_attempts") or 0
    by_reason = run.get("parse_failures_by_reason") or {}
    if by_reason.get(LIST_EMPTY):
        return "drift", f"list page without article links: {failing_selector(run)}"
    if failures >= t.drift_min_failures and attempts:
        rate, base = failures / attempts, parse_baseline(previous, t)
        if rate >= t.drift_min_rate and rate - base >= t.drift_jump:
            return "drift", (f"{failures} of {attempts} article pages failed to parse ({rate:.0%}, usually "
                             f"{base:.0%}): {failing_selector(run)}")
    days, limit = run.get("days_since_new_article"), run.get("silent_after_days")
    if days is not None and limit is not None and days > limit:
        usual = run.get("usual_gap_days")
        learned = f"usual gap {usual:g} d" if usual else "not enough history for a usual gap"
        return "silent", f"no new article for {days:.0f} days (silent after {limit:g} d; {learned})"
    return "ok", ""

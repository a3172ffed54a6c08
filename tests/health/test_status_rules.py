"""The status rules of qpan.health.status on plain rows (no crawl): the usual gap is learned from
the source's own history, 403/429 block only when they persist, thresholds come from the env."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from qpan.health.settings import Thresholds, thresholds
from qpan.health.status import classify, silent_after_days, usual_gap_days

T = Thresholds()


def days(*offsets):
    start = date(2026, 1, 1)
    return [start + timedelta(days=o) for o in offsets]


def test_usual_gap_is_learned_once_there_is_enough_history():
    assert usual_gap_days(days(0, 3), T) is None  # one gap: not learned, the floor rules
    weekly = days(0, 7, 14, 21, 28, 35, 42, 49, 56, 63, 70)
    assert usual_gap_days(weekly, T) == 7.0
    assert silent_after_days(7.0, T) == 14.0 and silent_after_days(None, T) == T.silent_floor_days
    assert silent_after_days(1.0, T) == T.silent_floor_days  # a daily source: the floor still applies
    # 12 days quiet: silent for a daily source (floor 7), not for a weekly one (2 x 7)
    quiet = {"days_since_new_article": 12}
    assert classify(dict(quiet, silent_after_days=silent_after_days(1.0, T)), [], T)[0] == "silent"
    assert classify(dict(quiet, silent_after_days=silent_after_days(7.0, T)), [], T)[0] == "ok"


def test_refusals_block_only_when_they_persist():
    refused = {"failed": True, "robots_refusals": 0, "http_errors": 3, "requests": 3,
               "http_errors_by_class": {"403": 3}}
    assert classify(refused, [{"status": "ok", "http_errors_by_class": {}}], T)[0] == "failing"
    status, reason = classify(refused, [{"status": "failing", "http_errors_by_class": {"429": 2}}], T)
    assert status == "blocked" and "2 runs in a row" in reason
    robots = {"failed": True, "robots_refusals": 1, "http_errors_by_class": {}}
    assert classify(robots, [], T)[0] == "blocked"  # robots.txt said no: no need to wait
    down = {"failed": True, "robots_refusals": 1, "http_errors_by_class": {"5xx": 1}}
    assert classify(down, [], T)[0] == "failing"  # robots.txt answered 503: the site is down, not refusing


def test_drift_is_a_jump_over_the_sources_own_baseline():
    run = {"parse_attempts": 4, "parse_failures": 2, "parse_failures_by_reason": {"body selector matched nothing": 2},
           "failing_selectors": {"body selector matched nothing": ".article-content"}}
    assert classify(run, [], T)[0] == "drift"
    usual = [{"status": "ok", "parse_attempts": 4, "parse_failures": 2}] * 3  # it always failed that much
    assert classify(run, usual, T)[0] == "ok"
    empty_list = {"parse_failures": 1, "parse_failures_by_reason": {"list selector matched nothing": 1},
                  "failing_selectors": {"list selector matched nothing": ".news-list .news-item"}}
    status, reason = classify(empty_list, [], T)
    assert status == "drift" and ".news-list .news-item" in reason


def test_thresholds_from_the_environment(monkeypatch):
    monkeypatch.setenv("QPAN_HEALTH_SILENT_FLOOR_DAYS", "3")
    monkeypatch.setenv("QPAN_HEALTH_BLOCKED_RUNS", "4")
    t = thresholds()
    assert t.silent_floor_days == 3.0 and t.blocked_runs == 4 and isinstance(t.blocked_runs, int)
    monkeypatch.setenv("QPAN_HEALTH_DRIFT_MIN_RATE", "lots")
    with pytest.raises(ValueError, match="QPAN_HEALTH_DRIFT_MIN_RATE must be a number"):
        thresholds()

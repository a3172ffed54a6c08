"""Source health over real HTTP (the local portal server) into the real Postgres: a redesigned
portal is `drift` with its failing selector named and announced once, a restored one recovers,
a portal answering 503 is `failing`, a quiet one `silent`; `qpan sources status` exits 1 on
failing/drift. Alerts go to a local webhook receiver through the Airflow notifier."""
from __future__ import annotations

import json
import os
import re
import uuid
from pathlib import Path

import pytest

from qpan import cli
from qpan.core import db
from qpan.health.alerts import check_sources  # imports Airflow: at collection, not inside a test's captured output
from qpan.landing.store import PostgresStore
from scrapers.crawl import crawl_source
from scrapers.portal_server import REDESIGN, PortalServer
from scrapers.registry import load_registry

from helpers.webhook import Receiver


REPO = Path(__file__).resolve().parents[2]
NL_LIST = "/portal/KenhTin/Tin-tuc-su-kien.aspx"


@pytest.fixture(scope="module")
def env(warehouse_url, tmp_path_factory):
    """One warehouse, one portal server, one webhook receiver and a fast sample registry."""
    receiver = Receiver()
    old = {k: os.environ.get(k) for k in ("QPAN_SAMPLE_PORT", "QPAN_ALERT_WEBHOOK_URL")}
    with PortalServer() as portal:
        os.environ.update(portal.env())
        os.environ["QPAN_ALERT_WEBHOOK_URL"] = receiver.url
        text = (REPO / "scrapers" / "sample_sources.yml").read_text(encoding="utf-8")
        text = re.sub(r"politeness: \{[^}]*\}", "politeness: {delay: 0.02, concurrency: 1, timeout: 2, retries: 1, "
                      "backoff: 0.02, retry_after_cap: 0.05, max_body_bytes: 2000000}", text)
        text = text.replace("name: sample_", f"name: h{uuid.uuid4().hex[:6]}_")
        path = tmp_path_factory.mktemp("health") / "sources.yml"
        path.write_text(text, encoding="utf-8")
        registry = load_registry(path)
        with PostgresStore() as store:
            yield registry, portal, store, receiver
    receiver.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def run(registry, store, short: str) -> dict:
    """Crawl one source and return its recorded row of audit.crawl_runs."""
    source = next(s for s in registry.sources if s.name.endswith("_" + short))
    crawl_source(source, store, registry=registry)
    with db.connect() as conn:
        cols = ("source", "status", "status_reason", "articles_landed", "parse_failures", "parse_failures_by_reason",
                "http_errors_by_class", "list_pages", "article_pages", "median_response_ms", "days_since_new_article",
                "quarantine_rate", "robots_refusals")
        row = conn.execute(f"select {', '.join(cols)} from audit.crawl_runs where source = %s "
                           "order by crawl_id desc limit 1", (source.name,)).fetchone()
    return dict(zip(cols, row))


def status_cli(capsys) -> tuple[int, dict]:
    code = cli.main(["sources", "status", "--json"])
    rows = json.loads(capsys.readouterr().out)
    return code, {r["source"]: r for r in rows}


def test_redesign_is_drift_alerted_once_then_recovers(env, capsys):
    registry, portal, store, receiver = env
    original = portal.content("ngoclac", NL_LIST)[2].decode("utf-8")
    # run 1: the list shows one article, in the usual template
    first_only = re.sub(r'(<div class="news-item">.*?</div></div>\n)(.*?)(</div><div class="pager">.*?</div>)',
                        r"\1</div>", original, count=1, flags=re.S)
    portal.put("ngoclac", NL_LIST, first_only)
    page2 = portal.content("ngoclac", NL_LIST + "?Page=2")[2]
    portal.put("ngoclac", NL_LIST + "?Page=2", "<html><body>404</body></html>", status=404)
    r1 = run(registry, store, "ngoclac")
    assert r1["status"] == "ok" and r1["articles_landed"] == 1 and r1["list_pages"] == 1
    assert r1["median_response_ms"] is not None and r1["median_response_ms"] > 0
    check_sources([r1["source"]])
    assert receiver.about(r1["source"]) == []

    # run 2: the portal is redesigned; the new articles no longer parse
    portal.put("ngoclac", NL_LIST, original)
    portal.put("ngoclac", NL_LIST + "?Page=2", page2)
    portal.set_template("ngoclac", REDESIGN)
    r2 = run(registry, store, "ngoclac")
    assert r2["status"] == "drift", r2
    assert r2["parse_failures_by_reason"].get("title selector matched nothing", 0) >= 1
    assert ".article-detail h1" in r2["status_reason"]  # the failing selector, named
    assert r2["quarantine_rate"] > 0.5 and r2["articles_landed"] == 0
    check_sources([r2["source"]])
    alerts = receiver.about(r2["source"])
    assert len(alerts) == 1 and alerts[0]["status"] == "drift" and ".article-detail h1" in alerts[0]["text"]
    code, rows = status_cli(capsys)
    assert code == 1 and rows[r2["source"]]["status"] == "drift"  # (e): cron/CI see it
    table = (cli.main(["sources", "status"]), capsys.readouterr())
    assert table[0] == 1 and "drift" in table[1].out and r2["source"] in table[1].err

    # run 3: still drift, not announced again
    r3 = run(registry, store, "ngoclac")
    assert r3["status"] == "drift"
    check_sources([r3["source"]])
    assert len(receiver.about(r3["source"])) == 1

    # run 4: the template is restored: ok, and a recovery message
    portal.set_template("ngoclac", None)
    r4 = run(registry, store, "ngoclac")
    assert r4["status"] == "ok", r4
    assert r4["articles_landed"] >= 1 and "title selector matched nothing" not in r4["parse_failures_by_reason"]
    check_sources([r4["source"]])
    alerts = receiver.about(r4["source"])
    assert [a["kind"] for a in alerts] == ["problem", "recovery"] and alerts[1]["previous_status"] == "drift"
    with db.connect() as conn:
        ledger = conn.execute("select status, cleared_at is not null from audit.alerts where problem_key = %s",
                              ("source:" + r4["source"],)).fetchall()
    assert ledger == [("drift", True)]


def test_portal_answering_503_is_failing(env, capsys):
    registry, portal, store, receiver = env
    portal.set_fault("*", "503", times=10_000, site="dangcongsan", retry_after=0)
    try:
        r = run(registry, store, "dangcongsan")
    finally:
        portal.clear_faults()
    assert r["status"] == "failing", r
    assert r["http_errors_by_class"].get("5xx", 0) >= 1 and r["list_pages"] == 0
    code, rows = status_cli(capsys)
    assert code == 1 and rows[r["source"]]["status"] == "failing"  # (e)
    check_sources([r["source"]])
    assert [a["status"] for a in receiver.about(r["source"])] == ["failing"]


def test_source_quiet_for_longer_than_its_usual_gap_is_silent(env):
    registry, portal, store, receiver = env
    r1 = run(registry, store, "thoxuan")
    assert r1["status"] == "ok" and r1["articles_landed"] >= 1
    # the first run was 20 days ago (floor: 7 days; one day with new articles: no gap learned yet)
    with db.connect() as conn:
        conn.execute("update audit.crawl_runs set started_at = started_at - interval '20 days' where source = %s",
                     (r1["source"],))
        conn.commit()
    r2 = run(registry, store, "thoxuan")
    assert r2["status"] == "silent", r2
    assert r2["articles_landed"] == 0 and 19.9 < r2["days_since_new_article"] < 20.1
    assert "no new article for 20 days" in r2["status_reason"]


def test_mart_and_gate_warnings(env, capsys):
    """One dbt build of just the health models, then the gate's warnings: recorded, not raised."""
    from datetime import date, timedelta

    from qpan.transform import warehouse
    from qpan.health.checks import source_health_warnings

    registry, portal, store, receiver = env
    ok = run(registry, store, "baothanhhoa")
    portal.set_fault("*", "503", times=10_000, site="huonghoa", retry_after=0)
    try:
        bad = run(registry, store, "generic")
    finally:
        portal.clear_faults()
    assert ok["status"] == "ok" and bad["status"] == "failing"
    # issue 27: a source with articles in its first and fourth week only, after every other article
    # (point 2: the weeks between are zeros); a crawl at 19:54 UTC, whose newest article was published
    # at 01:30 in Vietnam the next day, which quarantined the one page it fetched again (points 3, 10)
    with db.connect() as conn:
        last = conn.execute("select max((published_at at time zone 'Asia/Ho_Chi_Minh')::date) from raw.articles "
                            "where source = %s", (ok["source"],)).fetchone()[0]
        first_week = last - timedelta(days=last.weekday()) + timedelta(weeks=1)
        gap_weeks = [first_week + timedelta(weeks=i) for i in range(4)]
        for n, week in enumerate((gap_weeks[0], gap_weeks[3])):
            conn.execute("insert into raw.articles (source, url, title, published_at, body_text, content_hash) "
                         "values ('weekly_gap_probe', %s, 'Tin', %s, 'Nội dung', md5(%s))",
                         (f"https://gap.example.test/{n}", f"{week + timedelta(days=2)}T10:00:00+07:00", str(n)))
        conn.execute("insert into audit.crawl_runs (source, started_at, finished_at, parse_attempts, quarantined, "
                     "quarantine_rate, newest_article_at, status) values ('tz_probe', '2026-03-02 19:54:00+00', "
                     "'2026-03-02 19:55:00+00', 1, 1, 1.0, '2026-03-02 18:30:00+00', 'ok')")
        conn.commit()
    warehouse.run_dbt(["build", "--indirect-selection", "cautious", "--select", "stg_audit__crawl_runs",
                       "stg_raw__articles", "mart_source_health",
                       "mart_source_weekly_articles"], marts_schema="marts")
    with db.connect() as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "select source, status, crawls_that_day, articles_landed, http_5xx, needs_attention, status_reason "
            "from marts.mart_source_health where source = any(%s)", ([ok["source"], bad["source"]],)).fetchall()}
        weeks = conn.execute("select count(*), sum(articles) from marts.mart_source_weekly_articles where source = %s",
                             (ok["source"],)).fetchone()
        published = conn.execute("select count(*) from raw.articles where source = %s and not synthetic "
                                 "and removed_at is null and published_at is not null", (ok["source"],)).fetchone()[0]
    assert rows[ok["source"]][:2] == ("ok", 1) and rows[ok["source"]][2] == ok["articles_landed"] > 0
    assert rows[bad["source"]][0] == "failing" and rows[bad["source"]][3] >= 1 and rows[bad["source"]][4] is True
    assert weeks[0] >= 1 and weeks[1] == published > 0
    with db.connect() as conn:
        gap = conn.execute("select week_start, articles from marts.mart_source_weekly_articles "
                           "where source = 'weekly_gap_probe' order by week_start").fetchall()
        probe = conn.execute("select run_date, newest_article_date, quarantined, pages_handled "
                             "from marts.mart_source_health where source = 'tz_probe'").fetchone()
    assert gap == [(week, n) for week, n in zip(gap_weeks, (1, 0, 0, 1))]
    # run days in UTC, publication days in Vietnam's time: the mart and `qpan sources status` agree
    assert probe == (date(2026, 3, 2), date(2026, 3, 3), 1, 1)
    assert cli.main(["sources", "status"]) == 1
    table = capsys.readouterr().out
    line = next(row for row in table.splitlines() if row.startswith("tz_probe"))
    assert "2026-03-02 19:54" in line and "2026-03-03" in line and "1/1 (100%)" in line, line
    assert "RUN_UTC" in table and "NEWEST_ICT" in table and "Asia/Ho_Chi_Minh" in table
    code, rows = status_cli(capsys)
    assert rows["tz_probe"]["newest_article_date"] == "2026-03-03"

    result = source_health_warnings("test_health_run", schema="marts")
    assert result["evaluated"] and result["expectations"] == 4
    assert any(bad["source"] in w for w in result["warnings"])  # a warning names the failing source
    with db.connect() as conn:
        recorded = conn.execute("select expectation, column_name, success, details ->> 'severity' "
                                "from audit.validation_results where run_id = 'test_health_run'").fetchall()
    assert len(recorded) == 4 and {r[3] for r in recorded} == {"warning"}
    assert ("expect_column_values_to_be_in_set", "status", False, "warning") in recorded

    # the report's "Sources" panel: each source's status and its articles-per-week trend
    from qpan.report import page as report

    with db.connect() as conn:
        wh = report.load(conn)
    page = report.render(wh)
    panel = page[page.index('<section id="sources">'):]
    panel = panel[:panel.index("</section>")]
    assert ok["source"] in panel and bad["source"] in panel and '<span class="bad">failing</span>' in panel
    assert panel.index(bad["source"]) < panel.index(ok["source"])  # worst first
    assert "Articles per week" in panel and "<svg" in panel
    assert any(ch in panel for ch in "▂▃▄▅▆▇█")  # the 12-week sparkline of a source with articles
    assert "run day (UTC)" in panel and "newest article (Asia/Ho_Chi_Minh)" in panel
    probe_row = panel[panel.index("<td>tz_probe"):]
    probe_row = probe_row[:probe_row.index("</tr>")]
    assert "2026-03-02" in probe_row and "2026-03-03" in probe_row and "1 of 1 (100%)" in probe_row, probe_row
    # the chart draws the quiet weeks as zeros
    from qpan.report.sources import trend_chart

    drawn = [v["articles"] for v in trend_chart(wh.source_weeks).data.values if v["source"] == "weekly_gap_probe"]
    assert drawn == [1, 0, 0, 1]


def test_task_failure_is_announced_once_and_its_recovery_too(env):
    """The notifier as Airflow calls it from a task's callbacks (the context Airflow passes); the
    real DAG path is covered by tests/e2e/test_ingest_dag.py."""
    from types import SimpleNamespace

    from qpan.health.alerts import QpanAlertNotifier

    registry, portal, store, receiver = env
    before = len(receiver.alerts)
    for run_id in ("r1", "r2"):  # two failed runs of the task: one alert
        ti = SimpleNamespace(dag_id="qpan_transform", task_id="dbt_build", run_id=run_id, rendered_map_index=None)
        QpanAlertNotifier()({"ti": ti, "run_id": run_id, "exception": RuntimeError("dbt failed")})
    ti = SimpleNamespace(dag_id="qpan_transform", task_id="dbt_build", run_id="r3", rendered_map_index=None)
    QpanAlertNotifier("recovery")({"ti": ti, "run_id": "r3"})
    QpanAlertNotifier("recovery")({"ti": ti, "run_id": "r4"})  # nothing was open any more: silent
    got = [(a["kind"], a["key"]) for a in receiver.alerts[before:]]
    assert got == [("problem", "task:qpan_transform.dbt_build"), ("recovery", "task:qpan_transform.dbt_build")]
    assert "dbt failed" in receiver.alerts[before]["text"]
    with pytest.raises(ValueError):
        QpanAlertNotifier("sometimes")

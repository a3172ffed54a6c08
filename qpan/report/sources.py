"""The report's "Sources" panel (qpan.report.page): each source's status at its latest run day
(marts.mart_source_health) and the trend of the articles it published per week
(marts.mart_source_weekly_articles): a chart over the last year of data, and a sparkline of the
last 12 weeks in the table."""
from __future__ import annotations

from datetime import timedelta

import altair as alt

from qpan.report.data import esc, select_table, table

STATUS_ORDER = ("failing", "drift", "blocked", "silent", "ok")
STATUS_CLASS = {"ok": "ok", "silent": "", "drift": "bad", "failing": "bad", "blocked": "bad"}
TREND_WEEKS = 52
SPARK = "▁▂▃▄▅▆▇█"


def load_sources(conn) -> tuple[list[dict], list[dict]]:
    """(latest health row per source, weekly article counts)."""
    _, health = select_table(conn, "marts.mart_source_health", "order by source, run_date desc, started_at desc")
    latest: dict[str, dict] = {}
    for row in health:
        latest.setdefault(row["source"], row)
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    rows = sorted(latest.values(), key=lambda r: (order.get(r.get("status"), -1), r["source"]))
    _, weeks = select_table(conn, "marts.mart_source_weekly_articles", "order by source, week_start")
    return rows, weeks


def quarantined(r: dict) -> str:
    """"1 of 1 (100%)": what the run quarantined of the pages it handled, so a rerun that fetched
    one page again is not read as a source that failed entirely."""
    n = r.get("quarantined") or 0
    if not n:
        return "0"
    return f"{n} of {max(r.get('pages_handled') or 0, n)} ({100 * (r.get('quarantine_rate') or 0):.0f}%)"


def sparkline(weeks: list[dict], source: str, last_week, n: int = 12) -> str:
    counts = {w["week_start"]: int(w["articles"]) for w in weeks if w["source"] == source}
    if not counts or last_week is None:
        return ""
    series = [counts.get(last_week - timedelta(weeks=n - 1 - i), 0) for i in range(n)]
    top = max(series) or 1
    return "".join(SPARK[0] if v == 0 else SPARK[min(len(SPARK) - 1, round(v / top * (len(SPARK) - 1)))]
                   for v in series)


def trend_chart(weeks: list[dict]) -> alt.Chart | None:
    if not weeks:
        return None
    last = max(w["week_start"] for w in weeks)
    data = [{"source": w["source"], "week": w["week_start"].isoformat(), "articles": int(w["articles"])}
            for w in weeks if w["week_start"] > last - timedelta(weeks=TREND_WEEKS)]
    return alt.Chart(alt.Data(values=data)).mark_line(point=True).encode(
        x=alt.X("week:T", title="week"), y=alt.Y("articles:Q", title="articles"), color=alt.Color("source:N"),
    ).properties(width=640, height=180, title=f"Articles per week (last {TREND_WEEKS} weeks of data)")


def sources_section(health: list[dict], weeks: list[dict], svg) -> str:
    """The panel's HTML (`svg` renders a chart: qpan.report.charts.svg)."""
    if not health:
        return ("<p class='empty'>No crawl recorded in the published marts yet "
                "(<code>qpan sources status</code> shows the latest crawl at once).</p>")
    last_week = max((w["week_start"] for w in weeks), default=None)
    cells = []
    for r in health:
        status = r.get("status") or ""
        cells.append([
            esc(r["source"]), f'<span class="{STATUS_CLASS.get(status, "")}">{esc(status)}</span>',
            esc(r.get("run_date")), esc(r.get("articles_landed")), esc(r.get("parse_failures")),
            esc(quarantined(r)), esc(r.get("http_errors")),
            esc(r.get("newest_article_date")), esc(r.get("days_since_new_article")),
            f'<span title="articles per week, last 12 weeks of data">{esc(sparkline(weeks, r["source"], last_week))}'
            "</span>", esc((r.get("status_reason") or "")[:300])])
    bad = sum(1 for r in health if r.get("status") in ("failing", "drift", "blocked"))
    chart = trend_chart(weeks)
    return (f"<p>{len(health)} sources, <b>{bad} failing, drifting or blocked</b> at their latest run.</p>"
            + table(["source", "status", "run day (UTC)", "landed", "parse failures", "quarantined (this run)",
                     "HTTP errors", "newest article (Asia/Ho_Chi_Minh)", "days quiet", "trend (12 wk)", "why"], cells)
            + (svg(chart, "sources") if chart else ""))

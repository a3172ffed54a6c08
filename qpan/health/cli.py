"""`qpan sources status [--json]`: each source's health at its last crawl, worst first.

    qpan sources status            a table: status, what the run fetched and failed, why
    qpan sources status --json     the same rows as JSON (one object per source)
    qpan sources send-alerts [--wait S]   post the alerts a down webhook left in the outbox

Exit status 1 when any source is `failing` or `drift` (cron and CI can act on it), else 0.
The rows are the sources' latest rows of audit.crawl_runs, which marts.mart_source_health publishes
per day: this command is current right after a crawl, before any transform has run.
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import timezone

from scrapers.templates.common import VN_TZ as PORTAL_TZ

from qpan.core import db
from qpan.health.settings import EXIT_STATUSES, STATUSES

FIELDS = ("source", "status", "status_reason", "started_at", "list_pages", "article_pages", "articles_landed",
          "parse_attempts", "parse_failures", "parse_failures_by_reason", "failing_selectors", "quarantined",
          "quarantine_rate", "http_errors",
          "http_errors_by_class", "robots_refusals", "median_response_ms", "newest_article_at",
          "days_since_new_article", "usual_gap_days", "silent_after_days", "run_id")
LATEST = f"""
select distinct on (source) {', '.join(FIELDS)}
from audit.crawl_runs order by source, started_at desc, crawl_id desc
"""


def latest_status() -> list[dict]:
    """The latest run of every source, worst status first (then by name)."""
    with db.connect("qpan_loader") as conn:  # the crawl log is written and read by the loader
        if conn.execute("select to_regclass('audit.crawl_runs')").fetchone()[0] is None:
            raise RuntimeError("audit.crawl_runs does not exist: run `qpan db migrate` (or `make run`) first")
        rows = [dict(zip(FIELDS, r)) for r in conn.execute(LATEST).fetchall()]
    order = {s: i for i, s in enumerate(STATUSES)}
    return sorted(rows, key=lambda r: (order.get(r["status"], -1), r["source"]))


def _fmt(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def newest_date(r: dict) -> str | None:
    """The newest article's publication day in the portals' time zone (as the marts and the report)."""
    return r["newest_article_at"].astimezone(PORTAL_TZ).date().isoformat() if r.get("newest_article_at") else None


def quarantined(r: dict) -> str:
    """"1/1 (100%)": what this run quarantined of the pages it handled (not of the source's pages)."""
    handled = (r.get("parse_attempts") or 0) + (r.get("http_errors") or 0)
    n = r.get("quarantined") or 0
    return f"{n}/{max(handled, n)} ({100 * (r.get('quarantine_rate') or 0):.0f}%)" if n else "0"


def render_table(rows: list[dict]) -> str:
    head = ("SOURCE", "STATUS", "RUN_UTC", "LIST", "ARTICLES", "LANDED", "PARSE_FAIL", "QUARANTINED", "HTTP_ERR",
            "ROBOTS", "MEDIAN_MS", "NEWEST_ICT", "DAYS_QUIET", "WHY")
    lines = [head]
    for r in rows:
        run = r["started_at"].astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if r.get("started_at") else "-"
        lines.append((r["source"], r["status"], run, _fmt(r["list_pages"]), _fmt(r["article_pages"]),
                      _fmt(r["articles_landed"]), _fmt(r["parse_failures"]), quarantined(r),
                      _fmt(r["http_errors"]), _fmt(r["robots_refusals"]), _fmt(r["median_response_ms"]),
                      newest_date(r) or "-", _fmt(r["days_since_new_article"], 1), r["status_reason"] or ""))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head) - 1)]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(line, widths)) + "  " + line[-1]
                      for line in lines) + "\n" + LEGEND


LEGEND = ("RUN_UTC: when the last crawl started, UTC; NEWEST_ICT: the newest article's publication day, "
          "Asia/Ho_Chi_Minh (the portals' time); QUARANTINED: pages this crawl quarantined / pages it fetched "
          "(articles landed before are not fetched again)\n")


def _cmd_status(args) -> int:
    db.require_reachable()
    rows = latest_status()
    for r in rows:
        r["newest_article_date"] = newest_date(r)
    if args.json:
        print(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
    elif not rows:
        print("no crawl recorded yet: run `qpan scrape` (or `make run`) first")
    else:
        sys.stdout.write(render_table(rows))
    if not args.json:  # archive backfills (issue 30): captures listed, landed, left to fetch
        from scrapers.archive_cli import archive_progress

        with db.connect("qpan_loader") as conn:
            section = archive_progress(conn)
        if section:
            sys.stdout.write("\n" + section)
    bad = [r["source"] for r in rows if r["status"] in EXIT_STATUSES]
    if bad and not args.json:
        print(f"{len(bad)} source(s) failing or drifting: {', '.join(bad)}", file=sys.stderr)
    return 1 if bad else 0


def _cmd_send_alerts(args) -> int:
    from qpan.health import outbox
    from qpan.health.webhook import webhook_url

    # read here, not through qpan.health.alerts: that module imports Airflow (seconds, for a cron job)
    url = webhook_url()
    if not url:
        print("QPAN_ALERT_WEBHOOK_URL is not set: alerts go to the log, nothing to send", file=sys.stderr)
        return 1
    result = outbox.send_pending(url, wait=args.wait)
    print(f"alerts sent: {result['sent']}, failed attempts: {result['failed']}, still pending: {result['pending']}")
    return 1 if result["pending"] else 0


def register(subparsers) -> None:
    p = subparsers.add_parser("sources", help="the health of the sources (status of their last crawl)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    s = actions.add_parser("status", help="each source's status at its last crawl, worst first (exit 1 on "
                                          "failing or drift)", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--json", action="store_true", help="print the rows as JSON")
    s.set_defaults(func=_cmd_status)
    a = actions.add_parser("send-alerts", help="post the alerts the webhook has not accepted yet (the outbox)")
    a.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                   help="keep retrying (with the back-off) for up to this long while some remain")
    a.set_defaults(func=_cmd_send_alerts)
    from scrapers.archive_cli import register_backfill  # `qpan sources backfill` (issue 30)

    register_backfill(actions)

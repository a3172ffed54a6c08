"""The SQL the Superset dashboard's charts send to the warehouse, for the readers of
bench.publish_load (issue 32: "the README's queries ... and the Superset dashboard's chart queries").

The SQL is Superset's own, not a rewrite, and it is what a dashboard refresh sends: headless
Chromium logs in to a running Superset (`make bi`, the bundle bi/superset/ imported) and draws
the dashboard with `force=true` (no cache), while the embedded Postgres logs every statement of
the `qpan_analyst` role (`alter role ... set log_statement = 'all'`, reset afterwards); each
logged SELECT is assigned to the chart whose columns and metric labels it selects. That is not
what `GET /api/v1/chart/{id}/data/` runs: the API builds its SQL from the chart's saved
`query_context`, in which the two raw-mode tables GROUP BY every column and the heat map orders
by its metric, while the browser builds the query from the chart's form data.

Kept in bench/dashboard_queries.json with each chart's uuid and the SHA-256 of its saved
`query_context` and `params`; tests/bench/test_dashboard_queries.py fails when a chart of the
bundle has no captured SQL or changed after the capture. Then capture again (embedded warehouse,
`make run` done, Chromium installed):

    .venv/bin/qpan bi start && .venv/bin/python -m bench.dashboard_queries
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
QUERIES_FILE = Path(__file__).with_name("dashboard_queries.json")
CHARTS_DIR = REPO / "bi" / "superset" / "charts"
DASHBOARD_SLUG = "qpan"
ANALYST = "qpan_analyst"
LOG_LINE = re.compile(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[\d+\] )")


def _fingerprint(chart: dict) -> str:
    """What Superset builds a chart's SQL from: its saved query_context and its params."""
    return hashlib.sha256(json.dumps([chart["query_context"], chart["params"]], sort_keys=True).encode()).hexdigest()


def _labels(chart: dict) -> set[str]:
    """The output names of a chart's query: its columns' and metrics' labels."""
    [query] = json.loads(chart["query_context"])["queries"]
    return {c if isinstance(c, str) else c["label"] for c in query["columns"]} | {m["label"] for m in query["metrics"]}


def bundle_charts() -> list[dict]:
    """Every chart of the dashboard bundle: file, uuid, name, fingerprint and output names."""
    out = []
    for path in sorted(CHARTS_DIR.glob("*.yaml")):
        chart = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append({"chart": path.name, "uuid": chart["uuid"], "slice_name": chart["slice_name"],
                    "fingerprint": _fingerprint(chart), "labels": sorted(_labels(chart))})
    return out


def captured() -> list[dict]:
    """The captured charts: the bundle_charts() fields plus `sql`, the statements the dashboard sends."""
    return json.loads(QUERIES_FILE.read_text(encoding="utf-8"))


def queries() -> list[str]:
    """The dashboard's chart queries, one per statement, as the bench's readers run them."""
    return [sql for chart in captured() for sql in chart["sql"]]


def select_labels(sql: str) -> set[str]:
    """The output names (`AS name` / `AS "name"`) of a SELECT's select list."""
    head = re.split(r"\bFROM\b", sql, maxsplit=1, flags=re.I)[0]
    return {a or b for a, b in re.findall(r'\bAS\s+(?:"([^"]+)"|(\w+))', head, re.I)}


def logged_selects(log_text: str) -> list[str]:
    """The SELECT statements of a Postgres server log (log_statement = 'all'), in order."""
    out = []
    for entry in LOG_LINE.split(log_text):
        found = re.match(r".*? LOG:  statement: (SELECT\b.*)", entry, re.S)
        if found:
            out.append("\n".join(line.removeprefix("\t") for line in found.group(1).rstrip().splitlines()))
    return out


def assign(statements: list[str], charts: list[dict]) -> list[dict]:
    """Each chart with the logged statements that select exactly its output names (deduplicated)."""
    out = []
    for chart in charts:
        mine = list(dict.fromkeys(s for s in statements if select_labels(s) == set(chart["labels"])))
        if not mine:
            raise SystemExit(f"{chart['chart']}: no logged statement selects {chart['labels']}")
        out.append({**chart, "sql": mine})
    return out


def draw_dashboard(base_url: str, password: str) -> None:
    """Log in with Superset's login form and draw the dashboard, cache bypassed, in headless Chromium."""
    import shutil

    sys.path.insert(0, str(REPO / "tests" / "bi"))  # the DevTools-protocol driver of the BI tests
    import cdp

    exe = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    if exe is None:
        raise SystemExit("no Chromium on PATH")
    with tempfile.TemporaryDirectory() as profile:
        browser = cdp.Browser(exe, Path(profile))
        try:
            if not cdp.superset_login(browser, base_url, password):
                raise SystemExit("Superset refused the admin login")
            browser.navigate(f"{base_url}/superset/dashboard/{DASHBOARD_SLUG}/?standalone=1&force=true")
            if not browser.wait_for("document.querySelectorAll('canvas').length >= 3 && "
                                    "document.querySelectorAll('table tbody tr').length > 0", timeout=150):
                raise SystemExit("the dashboard did not draw its charts")
            time.sleep(2)
        finally:
            browser.close()


def capture(base_url: str, password: str) -> list[dict]:
    """The statements the dashboard sends, from the embedded server's log while Chromium draws it."""
    from qpan.core import db, pgserver

    log_file = pgserver.pgdata() / "server.log"
    start = log_file.stat().st_size
    with db.connect(autocommit=True) as conn:
        conn.execute(f"alter role {ANALYST} set log_statement = 'all'")  # Superset opens a session per query
    try:
        draw_dashboard(base_url, password)
    finally:
        with db.connect(autocommit=True) as conn:
            conn.execute(f"alter role {ANALYST} reset log_statement")
    with open(log_file, encoding="utf-8", errors="replace") as fh:
        fh.seek(start)
        return assign(logged_selects(fh.read()), bundle_charts())


def main(argv=None) -> int:
    from qpan.bi import server

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="Superset's URL (default: this clone's `qpan bi` one)")
    a = ap.parse_args(argv)
    charts = capture(a.url or server.url(), server.admin_password())
    QUERIES_FILE.write_text(json.dumps(charts, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{QUERIES_FILE}: {len(charts)} charts, {sum(len(c['sql']) for c in charts)} statements")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

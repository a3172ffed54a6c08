"""`qpan report`: the warehouse at a glance, as one self-contained static HTML page.

It reads only what analysts see (the PUBLISHED schema `marts` and the audit trail) as the
read-only role `qpan_analyst`. Charts are Vega-Lite specs built with Altair and rendered to
SVG offline by vl-convert, then inlined: the page has no script, no CDN and no web font, so
it opens offline and can be mailed around. Article text is untrusted input (scraped from the
web): every string that comes from the warehouse goes through html.escape, only http(s) URLs
become links, and a Content-Security-Policy forbids scripts as a second line of defence.
"""
from __future__ import annotations

import argparse
import logging
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from qpan.core import config, db
from qpan.report.charts import (  # noqa: F401 - the report's API, re-exported
    awards_chart, awards_rows, choose_maps, coverage_chart, district_names, indicator_chart, map_chart, quality_chart,
    svg,
)
from qpan.report.data import (  # noqa: F401 - the report's API, re-exported
    MAX_FACT_ROWS, PROVINCE_ID, QUOTA_CODES, Warehouse, anchor_id, parse_json, year_of, esc, fmt, indicator_name, link, table,
)
from qpan.report.data import load as load_marts
from qpan.report.geo import load_districts  # noqa: F401
from qpan.report.review import figure_mark
from qpan.report.review import section as review_section

log = logging.getLogger(__name__)


# -- the page -----------------------------------------------------------------------
class Page:
    """Collects the sections; remembers which facts have an anchor so links never dangle."""

    def __init__(self, wh: Warehouse):
        self.wh = wh
        self.districts = load_districts()
        self.names = district_names(wh, self.districts)
        self.shown_facts: set[str] = set()
        self.facts_by_key: dict[tuple, dict] = {}
        for f in wh.facts:
            key = (f.get("indicator_code"), f.get("unit_id"), year_of(f.get("period_start_year")))
            if f.get("period_start_year") == f.get("period_end_year") and key not in self.facts_by_key:
                self.facts_by_key[key] = f

    def fact_link(self, code: str, unit_id: str, year: int, text: str) -> str:
        fact = self.facts_by_key.get((code, unit_id, year))
        if fact and fact["fact_id"] in self.shown_facts:
            return f'<a href="#{anchor_id("fact", fact["fact_id"])}">{esc(text)}</a>'
        return esc(text)

    def facts_to_show(self) -> dict[str, list[dict]]:
        """Facts per indicator, the province's first, capped; decided before any link is drawn."""
        by_code: dict[str, list[dict]] = defaultdict(list)
        for f in self.wh.facts:
            by_code[f.get("indicator_code") or "?"].append(f)
        for code, facts in by_code.items():
            facts.sort(key=lambda f: (not str(f.get("unit_id") or "").startswith(PROVINCE_ID),
                                      str(f.get("unit_id")), str(f.get("period"))))
            by_code[code] = facts[:MAX_FACT_ROWS]
            self.shown_facts |= {f["fact_id"] for f in by_code[code]}
        return by_code

    # sections
    def header(self) -> str:
        wh = self.wh
        last = next((r for r in wh.publish_log if r.get("published")), None)
        published = (f"{last['at'].astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC (run {esc(last['run_id'])})"
                     if last else "never")
        units = {f.get("unit_id") for f in wh.facts if f.get("unit_id")}
        years = sorted({year_of(f.get("period_start_year")) for f in wh.facts if f.get("period_start_year")})
        span = f"{years[0]}–{years[-1]}" if years else "–"
        stats = [("facts", fmt(len(wh.facts))), ("mentions", fmt(wh.n_mentions)), ("units", fmt(len(units))),
                 ("years", span), ("last published", published)]
        cards = "".join(f'<div class="stat"><b>{v}</b><span>{esc(k)}</span></div>' for k, v in stats)
        return (f"<header><h1>QP-AN indicators: the warehouse at a glance</h1>"
                f"<p>Published marts of the qpan warehouse (Thanh Hóa first). Generated "
                f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from schema <code>marts</code> "
                f"and <code>audit</code>.</p><div class='stats'>{cards}</div></header>")

    def maps(self) -> str:
        picks = choose_maps(self.wh)
        if not self.districts or not picks:
            return section("maps", "Map of the province", "<p class='empty'>No district figures yet.</p>")
        figures = []
        for i, (code, year, n) in enumerate(picks):
            chart, datasets = map_chart(self.wh, self.districts, code, year)
            chart = svg(chart, f"map{i}", datasets)
            figures.append(f'<div class="card">{chart}<p>{n} district(s) reporting. '
                           f'<a href="#{anchor_id("ind", code)}">Figures and evidence</a></p></div>')
        note = ("<p>One map per indicator, for its most reported year. <b>Grey</b>: no article and no "
                "year-end review found for the district that year; <b>white</b>: a report was found but "
                "did not give the figure; a reported zero is coloured as zero.</p>")
        return section("maps", "Map of the province", note + f'<div class="grid">{"".join(figures)}</div>')

    def coverage(self) -> str:
        chart = coverage_chart(self.wh, self.names, self.districts)
        body = svg(chart, "coverage") if chart else "<p class='empty'>No coverage data yet.</p>"
        reviews = []
        for r in self.wh.coverage:
            for url in r.get("year_end_review_urls") or []:
                reviews.append([esc(self.names.get(r["unit_id"], r["unit_id"])), esc(r["year"]), link(url)])
        if reviews:
            body += details(f"Year-end reviews found ({len(reviews)})",
                            table(["district", "year", "review"], reviews))
        return section("coverage", "Reporting coverage", body)

    def quota(self) -> str:
        rows = [r for r in self.wh.district_year if any(r.get(c) is not None for c in QUOTA_CODES)]
        if not rows:
            return section("quota", "Recruitment quota fulfilment", "<p class='empty'>No recruitment figures yet.</p>")
        rows.sort(key=lambda r: (-year_of(r["year"]), r["unit_id"]))
        cells = []
        for r in rows:
            year = year_of(r["year"])
            cells.append([esc(self.names.get(r["unit_id"], r["unit_id"])), esc(year)] + [
                self.fact_link(c, r["unit_id"], year, fmt(r.get(c), r.get(f"{c}_comparator"))
                               + ("%" if c.endswith("_pct") and r.get(c) is not None else ""))
                for c in QUOTA_CODES])
        headers = ["district", "year", "enlisted", "quota", "fulfilment", "quota met"]
        return section("quota", "Recruitment quota fulfilment",
                       "<p>Each figure links to its evidence.</p>" + table(headers, cells, "num"))

    def awards(self) -> str:
        rows = awards_rows(self.wh)
        if not rows:
            return section("awards", "Awards by awarding body", "<p class='empty'>No award figures yet.</p>")
        chart = awards_chart(rows)
        rows.sort(key=lambda r: (-(r["year"] or 0), r["awarded_by"], str(r["fact"].get("unit_id"))))
        cells = [[esc(r["awarded_by"]), esc(r["field"]), esc(r["year"]),
                  esc(r["fact"].get("unit_full_name") or r["fact"].get("unit_id")), esc(r["indicator"]),
                  self.fact_link_by_id(r["fact"], fmt(r["value"]))] for r in rows]
        body = (svg(chart, "awards") if chart else "") + details(
            f"Award statements ({len(rows)})",
            table(["awarded by", "field", "year", "unit", "indicator", "value"], cells), open_=True)
        return section("awards", "Awards by awarding body", body)

    def fact_link_by_id(self, fact: dict, text: str) -> str:
        if fact["fact_id"] in self.shown_facts:
            return f'<a href="#{anchor_id("fact", fact["fact_id"])}">{esc(text)}</a>'
        return esc(text)

    def indicators(self, shown: dict[str, list[dict]]) -> str:
        codes = [c for c in self.wh.indicator_columns if c in shown or any(
            r.get(c) is not None for r in self.wh.district_year)]
        codes += sorted(c for c in shown if c not in codes)
        if not codes:
            return section("indicators", "Indicators", "<p class='empty'>No facts published yet.</p>")
        parts = []
        for i, code in enumerate(codes):
            chart = indicator_chart(self.wh, self.names, code) if code in self.wh.indicator_columns else None
            facts = shown.get(code, [])
            total = sum(1 for f in self.wh.facts if f.get("indicator_code") == code)
            more = f" (first {len(facts)} of {total})" if total > len(facts) else ""
            vi = (self.wh.indicators.get(code) or {}).get("name_vi")
            parts.append(
                f'<article id="{anchor_id("ind", code)}"><h3>{esc(indicator_name(self.wh, code))}</h3>'
                f'<p class="code"><code>{esc(code)}</code> {esc(vi)}</p>'
                + (svg(chart, f"ind{i}") if chart else "")
                + details(f"Facts and evidence: {len(facts)}{more}", facts_table(facts, self.wh.paragraphs),
                          open_=len(facts) <= 12)
                + "</article>")
        return section("indicators", "Indicators by district and year", "".join(parts))

    def quality(self) -> str:
        wh = self.wh
        if not wh.validation:
            body = "<p class='empty'>The quality gate has not run yet.</p>"
        else:
            last_run = max(wh.validation, key=lambda r: r["validated_at"])["run_id"]
            latest = [r for r in wh.validation if r["run_id"] == last_run]
            failed = sum(1 for r in latest if not r["success"])
            latest.sort(key=lambda r: (r["success"], r["suite"], r["expectation"]))
            cells = [[esc(r["suite"]), esc(r["expectation"]), esc(r.get("column_name")),
                      '<span class="ok">passed</span>' if r["success"] else '<span class="bad">FAILED</span>',
                      esc((r.get("observed_value") or "")[:200])] for r in latest]
            chart = quality_chart(wh)
            body = (f"<p>Latest gate run <code>{esc(last_run)}</code>: {len(latest)} expectations, "
                    f"<b>{failed} failed</b>.</p>" + (svg(chart, "quality") if chart else "")
                    + details(f"Results of the latest run ({len(latest)})",
                              table(["suite", "expectation", "column", "result", "observed"], cells),
                              open_=failed > 0))
        if wh.publish_log:
            cells = [[esc(f"{r['at']:%Y-%m-%d %H:%M}"), esc(r["run_id"]),
                      "published" if r["published"] else '<span class="bad">refused</span>',
                      esc((r.get("reason") or "")[:300])] for r in wh.publish_log]
            body += details("Publish log (latest 10)", table(["at", "run", "outcome", "reason"], cells))
        return section("quality", "Data quality", body)

    def sources(self) -> str:
        from qpan.report.sources import sources_section

        return section("sources", "Sources", sources_section(self.wh.sources, self.wh.source_weeks, svg))


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def details(summary: str, body: str, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{body}</details>"


def _evidence_items(fact: dict) -> list[dict]:
    items = parse_json(fact.get("evidence")) or []
    if not items and fact.get("value_article_url"):
        items = [{"url": fact["value_article_url"]}]
    return [i for i in items if isinstance(i, dict)]


def paragraph_html(item: dict, paragraphs: dict[int, tuple[str, int, int]]) -> str:
    """The stored paragraph around an evidence sentence, the sentence marked, and how to see the
    whole stored article: works after the portal (or the sample server) is gone."""
    found = paragraphs.get(item.get("mention_id")) if item.get("mention_id") is not None else None
    if not found:
        return ""
    text, start, length = found
    marked = f"{esc(text[:start])}<mark>{esc(text[start:start + length])}</mark>{esc(text[start + length:])}"
    stored = f"<p class='code'>stored copy: <code>qpan show {esc(item.get('url'))}</code></p>" if item.get("url") else ""
    return f"<details class='para'><summary>paragraph</summary><p>{marked}</p>{stored}</details>"


def facts_table(facts: list[dict], paragraphs: dict[int, tuple[str, int, int]] | None = None) -> str:
    if not facts:
        return "<p class='empty'>No facts.</p>"
    paragraphs = paragraphs or {}
    rows = []
    for f in facts:
        evidence = "".join(
            f"<li><q>{esc(i.get('evidence'))}</q> — {link(i.get('url'), i.get('source') or i.get('url'))}"
            f"{' ' + esc(i.get('published_date')) if i.get('published_date') else ''}"
            f"{paragraph_html(i, paragraphs)}</li>"
            for i in _evidence_items(f))
        qualifiers = parse_json(f.get("qualifiers")) or {}
        shown = bool(f["value"]) if f.get("value_type") == "boolean" and f.get("value") is not None else f.get("value")
        value = esc(fmt(shown, f.get("comparator")))
        if f.get("has_conflict"):
            values = f.get("distinct_values")
            values = " / ".join(fmt(v) for v in values) if isinstance(values, list) else values
            value += f' <span class="bad" title="sources disagree">conflict: {esc(values)}</span>'
        value += figure_mark(f)
        rows.append(
            f'<tr id="{anchor_id("fact", f["fact_id"])}"><td>{esc(f.get("unit_full_name") or f.get("unit_id"))}</td>'
            f"<td>{esc(f.get('period'))}</td><td class='n'>{value}</td>"
            f"<td>{esc(', '.join(f'{k}: {v}' for k, v in qualifiers.items()))}</td><td><ul>{evidence}</ul></td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("unit", "period", "value", "qualifiers", "evidence (sentence — article)"))
    return f'<table class="facts"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
header,section{max-width:1320px;margin:0 auto;padding:12px 24px}
header{background:#0b3d2e;color:#fff;max-width:none}
header p{opacity:.85}
nav{max-width:1320px;margin:0 auto;padding:8px 24px}
nav a{margin-right:14px}
h1{margin:.3em 0}
h2{border-bottom:2px solid #0b3d2e;padding-bottom:4px}
.stats{display:flex;gap:14px;flex-wrap:wrap}
.stat{background:rgba(255,255,255,.12);padding:8px 14px;border-radius:6px}
.stat b{display:block;font-size:20px}
.grid{display:flex;flex-wrap:wrap;gap:16px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px}
figure.chart{margin:8px 0;overflow-x:auto}
table{border-collapse:collapse;background:#fff;margin:8px 0}
th,td{border:1px solid #ddd;padding:3px 8px;vertical-align:top;text-align:left}
th{background:#eef3f0}
table.num td{text-align:right}
table.num td:first-child{text-align:left}
td.n{text-align:right;white-space:nowrap}
td ul{margin:0;padding-left:16px}
q{font-style:italic}
.ok{color:#1a7f37}.bad{color:#c62828;font-weight:bold}
.empty{color:#777;font-style:italic}
.code{color:#555;margin-top:-8px}
article{margin-bottom:28px}
details{margin:6px 0}summary{cursor:pointer;color:#0b3d2e;font-weight:600}
details.para summary{font-weight:400;font-size:12px}
mark{background:#fff3a3}
.reviewed{color:#6a1b9a;font-size:12px}
.uncertain{color:#b26a00;font-size:12px;border-bottom:1px dotted #b26a00}
"""


def render(wh: Warehouse) -> str:
    page = Page(wh)
    shown = page.facts_to_show()  # first: the sections link into these facts' anchors
    if wh.empty:
        sections = section("empty", "No published data", (
            "<p class='empty'>The published marts are empty or missing: run <code>make run</code> (or "
            "<code>qpan build</code> and the gate) to publish them.</p>")) + page.sources() + page.quality()
    else:
        sections = (page.maps() + page.coverage() + page.quota() + page.awards()
                    + page.indicators(shown) + review_section(wh) + page.sources() + page.quality())
    nav = "".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("maps", "Map"), ("coverage", "Coverage"), ("quota", "Recruitment"), ("awards", "Awards"),
        ("indicators", "Indicators"), ("review", "Review"), ("sources", "Sources"), ("quality", "Data quality")))
    # The CSP forbids every script, remote fetch and font: the page is data and drawings only.
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>qpan report</title><style>{CSS}</style></head><body>"
            f"{page.header()}<nav>{nav}</nav>{sections}"
            "<section><p class='empty'>qpan analyst report: static, self-contained, no scripts. "
            "Figures are what the articles say; follow the evidence links to check them.</p></section>"
            "</body></html>")


def load(conn) -> Warehouse:
    """What the report draws: the published marts (qpan.report.data) and the Sources panel's rows
    (qpan.report.sources, which reads through report_data: loaded here, not there, so neither
    module imports the other both ways)."""
    from qpan.report.sources import load_sources

    wh = load_marts(conn)
    wh.sources, wh.source_weeks = load_sources(conn)
    return wh


def build_report(out_dir: Path | None = None) -> Path:
    """Write index.html of the report into out_dir (default .qpan/report) and return its path."""
    out_dir = Path(out_dir) if out_dir else config.state_dir() / "report"
    with db.connect("qpan_analyst", autocommit=True) as conn:
        wh = load(conn)
    page = render(wh)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a report
    log.info("report: %s (%d facts, %.0f kB)", path, len(wh.facts), path.stat().st_size / 1024)
    return path


# -- CLI ----------------------------------------------------------------------------
def _cmd_report(args: argparse.Namespace) -> int:
    print(build_report(args.out))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="write the static HTML report of the published marts")
    p.add_argument("--out", type=Path, default=None, help="folder for index.html (default .qpan/report)")
    p.set_defaults(func=_cmd_report)

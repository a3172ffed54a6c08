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
import html
import json
import logging
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

import altair as alt
import psycopg
import vl_convert as vlc
from psycopg import sql
from psycopg.rows import dict_row

from qpan import config, db

log = logging.getLogger(__name__)

PROVINCE_ID = "38"  # Thanh Hóa, the province of the map
GEOJSON = config.REPO_ROOT / "fixtures" / "geo" / "thanhhoa_districts.geojson"
MAX_MAPS = 12
MAX_FACT_ROWS = 400  # per indicator, so a big warehouse still gives a readable page
QUALITY_RUNS = 30  # runs of the gate shown in the trend
AWARD_CODES = ("awarded_collectives", "awarded_individuals")
QUOTA_CODES = ("recruits_enlisted", "recruitment_quota", "recruitment_quota_pct", "recruitment_quota_met")
# Columns of mart_district_year that are not indicators (used only when dim_indicator is missing).
DISTRICT_YEAR_META = {
    "unit_id", "year", "unit_version_key", "unit_full_name", "unit_name", "province_id",
    "current_province_id", "current_unit_id", "n_indicators_reported", "conflicting_indicators",
    "n_articles", "has_year_end_review", "coverage_status",
}
COVERAGE_LABELS = {
    "facts_extracted": "facts extracted",
    "review_without_facts": "year-end review, no figures",
    "articles_without_facts": "articles, no review",
    "no_articles": "no report found",
}
COVERAGE_COLORS = ["#1b7837", "#a6dba0", "#fee08b", "#bdbdbd"]
NO_REPORT = "no report found"
NOT_GIVEN = "report found, figure not given"


# -- reading the warehouse ---------------------------------------------------------
@dataclass
class Warehouse:
    indicators: dict[str, dict] = field(default_factory=dict)  # dim_indicator by code
    indicator_columns: list[str] = field(default_factory=list)  # of mart_district_year, in order
    district_year: list[dict] = field(default_factory=list)  # the province's districts only
    coverage: list[dict] = field(default_factory=list)  # the province's districts only
    facts: list[dict] = field(default_factory=list)
    n_mentions: int = 0
    validation: list[dict] = field(default_factory=list)
    publish_log: list[dict] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.facts or self.district_year or self.coverage)


def _is_province_district(unit_id: Any) -> bool:
    return isinstance(unit_id, str) and unit_id.startswith(PROVINCE_ID + ".") and unit_id.count(".") == 1


def _select(conn: psycopg.Connection, table: str, tail: str = "") -> tuple[list[str], list[dict]]:
    """`select *` from a table, or nothing when it does not exist (yet): a warehouse never
    published must give a report that says so, not a crash. `select *` rather than a column
    list so that a column added to a mart does not break the report; readers use .get()."""
    schema, name = table.split(".")
    try:
        if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
            return [], []
        query = sql.SQL("select * from {}.{} " + tail).format(sql.Identifier(schema), sql.Identifier(name))
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query)
            return [c.name for c in cur.description], cur.fetchall()
    except psycopg.errors.InsufficientPrivilege as exc:
        log.warning("report: cannot read %s: %s", table, exc)
        return [], []


def load(conn: psycopg.Connection) -> Warehouse:
    wh = Warehouse()
    _, rows = _select(conn, "marts.dim_indicator")
    wh.indicators = {r["indicator_code"]: r for r in rows}
    columns, rows = _select(conn, "marts.mart_district_year", "order by unit_id, year")
    catalogue = set(wh.indicators)
    wh.indicator_columns = [c for c in columns if c in catalogue] or [
        c for c in columns if c not in DISTRICT_YEAR_META]
    wh.district_year = [r for r in rows if _is_province_district(r.get("unit_id"))]
    _, rows = _select(conn, "marts.mart_reporting_coverage", "order by unit_id, year")
    wh.coverage = [r for r in rows if _is_province_district(r.get("unit_id"))]
    _, wh.facts = _select(conn, "marts.fct_indicator_facts", "order by indicator_code, unit_id, period")
    if conn.execute("select to_regclass('marts.fct_indicator_mentions')").fetchone()[0] is not None:
        wh.n_mentions = conn.execute("select count(*) from marts.fct_indicator_mentions").fetchone()[0]
    _, wh.validation = _select(
        conn, "audit.validation_results",
        f"where run_id in (select run_id from audit.validation_results group by run_id "
        f"order by max(validated_at) desc limit {QUALITY_RUNS}) order by validated_at, result_id")
    _, wh.publish_log = _select(conn, "audit.publish_log", "order by at desc limit 10")
    return wh


# -- small formatting helpers ------------------------------------------------------
def esc(value: Any) -> str:
    """Every string from the warehouse goes through here (articles may hold HTML/JS/SQL)."""
    return "" if value is None else html.escape(str(value), quote=True)


def link(url: Any, text: Any = None) -> str:
    """An <a> only for http(s) URLs: an escaped `javascript:` URL would still run when clicked."""
    label = esc(text if text is not None else url)
    if isinstance(url, str) and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return f'<a href="{esc(url.strip())}" rel="noopener noreferrer nofollow">{label}</a>'
    return label


def _num(value: Any) -> float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    return float(value) if isinstance(value, (int, float, Decimal)) else None


def fmt(value: Any) -> str:
    value = _num(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")


def _year(value: Any) -> int | None:
    return int(value) if value is not None else None


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _anchor(prefix: str, key: Any) -> str:
    """An id attribute value that is safe whatever the key holds."""
    return prefix + "-" + re.sub(r"[^A-Za-z0-9_-]", "_", str(key))


def indicator_name(wh: Warehouse, code: str) -> str:
    row = wh.indicators.get(code) or {}
    name = row.get("name_en") or code
    unit = row.get("measure_unit")
    return f"{name} ({unit})" if unit and unit not in ("flag",) else name


def table(headers: list[str], rows: Iterable[list[str]], cls: str = "") -> str:
    """Cells are HTML already (escaped by the caller); headers are our own text."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# -- charts -------------------------------------------------------------------------
_ID_RE = re.compile(r'\bid="([^"]+)"')


def svg(chart: alt.TopLevelMixin, prefix: str, datasets: dict[str, list] | None = None) -> str:
    """Render offline with vl-convert (no base URL allowed: all data is inline) and make the
    SVG's ids unique in the page: Vega names clip paths "clip1", "clip2"... in every SVG, and
    in one HTML document the first definition would win for all charts. Big data (district
    shapes) comes as named `datasets`, added after to_dict: Altair would walk every point."""
    spec = chart.to_dict()
    spec.setdefault("datasets", {}).update(datasets or {})
    out = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    out = out[out.index("<svg"):]
    for old in set(_ID_RE.findall(out)):
        new = f"{prefix}-{old}"
        out = out.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        out = out.replace(f'href="#{old}"', f'href="#{new}"')
    return f'<figure class="chart">{out}</figure>'


# The boundaries file has ~16,000 points, far more than a 380-pixel map shows; each map
# inlines all of them. Simplifying each district on its own would open slivers between
# neighbours, so borders are simplified as shared arcs: a point where the set of districts
# owning it changes is a junction and is kept; between junctions, Douglas-Peucker runs on
# the arc in one canonical direction, so both neighbours get exactly the same border.
def _snap(ring: list, grid: float) -> list[tuple[int, int]]:
    """Integer grid coordinates, repeated points dropped, ring left open."""
    pts: list[tuple[int, int]] = []
    for x, y in ring:
        p = (round(x / grid), round(y / grid))
        if not pts or p != pts[-1]:
            pts.append(p)
    return pts[:-1] if len(pts) > 1 and pts[0] == pts[-1] else pts


def _douglas_peucker(points: list, tolerance: float) -> list:
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        (ax, ay), (bx, by) = points[i], points[j]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, index = 0.0, None
        for k in range(i + 1, j):
            px, py = points[k]
            d = abs(dx * (py - ay) - dy * (px - ax)) / norm if norm else math.hypot(px - ax, py - ay)
            if d > best:
                best, index = d, k
        if index is not None and best > tolerance:
            keep[index] = True
            stack += [(i, index), (index, j)]
    return [p for p, k in zip(points, keep) if k]


def _simplify_rings(rings: dict[Any, list], tolerance: float) -> dict[Any, list]:
    owners: dict[tuple, set] = defaultdict(set)
    for key, ring in rings.items():
        for p in ring:
            owners[p].add(key)
    out = {}
    for key, ring in rings.items():
        n = len(ring)
        fixed = [i for i in range(n) if len(owners[ring[i]]) > 2 or owners[ring[i]] != owners[ring[i - 1]]
                 or owners[ring[i]] != owners[ring[(i + 1) % n]]] or [0, n // 2]
        result: list = []
        for a, b in zip(fixed, fixed[1:] + [fixed[0] + n]):
            arc = [ring[k % n] for k in range(a, b + 1)]
            flip = arc[0] > arc[-1]  # canonical direction: the neighbour simplifies the same arc
            arc = _douglas_peucker(arc[::-1] if flip else arc, tolerance)
            result += (arc[::-1] if flip else arc)[:-1]
        out[key] = result if len(result) >= 3 else ring
    return out


def _signed_area(ring: list) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def _close(ring: list, grid: float, exterior: bool) -> list:
    """Back to degrees, closed, wound as d3-geo (used by Vega) wants: exterior rings clockwise,
    holes counter-clockwise; the other way round a district is drawn as the whole globe."""
    ring = [[round(x * grid, 6), round(y * grid, 6)] for x, y in ring + ring[:1]]
    return ring if (_signed_area(ring) < 0) == exterior else ring[::-1]


def _centroid(polygons: list) -> tuple[float, float]:
    """Centroid of the largest polygon's exterior ring, where a district's label goes."""
    ring = max((p[0] for p in polygons), key=lambda r: abs(_signed_area(r)))
    a = _signed_area(ring) or 1e-12
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / (6 * a)
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / (6 * a)
    return cx, cy


@dataclass
class District:
    unit_id: str
    name: str
    polygons: list  # MultiPolygon coordinates
    centroid: tuple[float, float]


def load_districts(path: Path = GEOJSON, grid: float = 0.0005, tolerance: float = 3) -> dict[str, District]:
    """District shapes from the boundaries file, simplified (grid in degrees, tolerance in grid
    steps: 0.0015 degrees, about a third of a pixel on the maps)."""
    if not path.exists():
        log.warning("report: no district boundaries at %s; maps skipped", path)
        return {}
    geo = json.loads(path.read_text(encoding="utf-8"))
    rings, names = {}, {}
    for feature in geo["features"]:
        props, geom = feature["properties"], feature["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        names[props["unit_id"]] = props.get("name") or props["unit_id"]
        for p, polygon in enumerate(polygons):
            for r, ring in enumerate(polygon):
                rings[(props["unit_id"], p, r)] = _snap(ring, grid)
    rings = _simplify_rings({k: v for k, v in rings.items() if len(v) >= 3}, tolerance)
    shapes: dict[str, dict[int, list]] = defaultdict(dict)
    for (unit_id, p, r), ring in sorted(rings.items()):
        if r == 0:
            shapes[unit_id][p] = [_close(ring, grid, exterior=True)]
        elif p in shapes[unit_id]:  # a hole whose exterior vanished goes with it
            shapes[unit_id][p].append(_close(ring, grid, exterior=False))
    return {u: District(u, names[u], list(polys.values()), _centroid(list(polys.values())))
            for u, polys in shapes.items()}


def district_names(wh: Warehouse, districts: dict[str, District]) -> dict[str, str]:
    """Names from the boundaries file, else from the marts (a unit the map does not have)."""
    names = {u: d.name for u, d in districts.items()}
    for row in wh.district_year + wh.coverage:
        names.setdefault(row["unit_id"], row.get("unit_full_name") or row.get("unit_name") or row["unit_id"])
    return names


def _coverage_index(wh: Warehouse) -> dict[tuple[str, int], dict]:
    return {(r["unit_id"], _year(r["year"])): r for r in wh.coverage}


def _has_report(cov: dict | None) -> bool:
    return bool(cov) and (bool(cov.get("has_year_end_review")) or (cov.get("n_articles") or 0) > 0)


def map_chart(wh: Warehouse, districts: dict[str, District], code: str, year: int) -> tuple[alt.LayerChart, dict]:
    """Choropleth of one indicator and year. A district without a value is grey when no
    article and no year-end review was found for it that year ("no report found"), white
    when there was a report that did not give the figure; a reported 0 is coloured as 0."""
    values = {r["unit_id"]: r.get(code) for r in wh.district_year if _year(r["year"]) == year}
    coverage = _coverage_index(wh)
    is_flag = any(isinstance(v, bool) for v in values.values())
    shapes, labels = [], []
    for unit_id, d in sorted(districts.items()):
        value = _num(values.get(unit_id))
        status = "reported" if value is not None else (
            NOT_GIVEN if _has_report(coverage.get((unit_id, year))) else NO_REPORT)
        shown = ("met" if value else "not met") if is_flag and value is not None else value
        shapes.append({"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": d.polygons},
                       "properties": {"unit_id": unit_id, "name": d.name, "value": shown, "status": status}})
        if value is not None:
            labels.append({"lon": d.centroid[0], "lat": d.centroid[1], "label": fmt(value)})
    base = alt.Chart(alt.Data(name="districts"))
    missing = base.mark_geoshape(stroke="#777", strokeWidth=0.5).encode(
        color=alt.Color("properties.status:N", title="no value",
                        scale=alt.Scale(domain=[NOT_GIVEN, NO_REPORT], range=["#ffffff", "#bdbdbd"]),
                        legend=alt.Legend(orient="bottom", direction="vertical"))
    ).transform_filter("datum.properties.status != 'reported'")
    if is_flag:
        value_color = alt.Color("properties.value:N", title="quota met", legend=alt.Legend(orient="bottom"),
                                scale=alt.Scale(domain=["met", "not met"], range=["#1a9850", "#d73027"]))
    else:
        value_color = alt.Color("properties.value:Q", title=indicator_name(wh, code),
                                scale=alt.Scale(scheme="yelloworangebrown", domainMin=0),
                                legend=alt.Legend(orient="bottom", gradientLength=160, titleLimit=300))
    reported = base.mark_geoshape(stroke="#555", strokeWidth=0.5).encode(color=value_color).transform_filter(
        "datum.properties.status == 'reported'")
    layers = [missing, reported]
    if labels and not is_flag:
        layers.append(alt.Chart(alt.Data(values=labels)).mark_text(fontSize=10, fontWeight="bold").encode(
            longitude="lon:Q", latitude="lat:Q", text="label:N"))
    chart = (alt.layer(*layers).resolve_scale(color="independent").project(type="mercator")
             .properties(width=360, height=390, title=f"{indicator_name(wh, code)}, {year}"))
    return chart, {"districts": shapes}


def choose_maps(wh: Warehouse) -> list[tuple[str, int, int]]:
    """(indicator, year, districts reporting): for each indicator with district values, its
    most reported year (the latest on a tie); most reported indicator first."""
    counts: Counter = Counter()
    for row in wh.district_year:
        for code in wh.indicator_columns:
            if row.get(code) is not None:
                counts[(code, _year(row["year"]))] += 1
    best: dict[str, tuple[int, int]] = {}
    for (code, year), n in counts.items():
        if code not in best or (n, year) > best[code]:
            best[code] = (n, year)
    order = {c: i for i, c in enumerate(wh.indicator_columns)}
    picked = sorted(best.items(), key=lambda kv: (-kv[1][0], order[kv[0]]))
    return [(code, year, n) for code, (n, year) in picked][:MAX_MAPS]


def indicator_chart(wh: Warehouse, names: dict[str, str], code: str) -> alt.Chart | None:
    rows = [{"district": names.get(r["unit_id"], r["unit_id"]), "unit_id": r["unit_id"],
             "year": str(_year(r["year"])), "value": _num(r.get(code))}
            for r in wh.district_year if r.get(code) is not None]
    if not rows:
        return None
    order = [names.get(u, u) for u in sorted({r["unit_id"] for r in rows})]
    if any(isinstance(r["value"], bool) for r in rows):  # a flag: a met / not met grid
        for r in rows:
            r["value"] = "met" if r["value"] else "not met"
        return alt.Chart(alt.Data(values=rows)).mark_rect(stroke="white").encode(
            x=alt.X("year:O", title="year"), y=alt.Y("district:N", sort=order, title=None),
            color=alt.Color("value:N", title=indicator_name(wh, code),
                            scale=alt.Scale(domain=["met", "not met"], range=["#1a9850", "#d73027"])),
        ).properties(width=alt.Step(40), height=alt.Step(18))
    bars = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("value:Q", title=indicator_name(wh, code)),
        y=alt.Y("district:N", sort=order, title=None),
        yOffset=alt.YOffset("year:O"),
        color=alt.Color("year:O", scale=alt.Scale(scheme="tableau10")),
    )
    text = bars.mark_text(align="left", dx=3, fontSize=9).encode(text=alt.Text("value:Q", format=",~r"),
                                                                   color=alt.value("#333"))
    return (bars + text).properties(width=560, height=alt.Step(13))


def coverage_chart(wh: Warehouse, names: dict[str, str], districts: dict[str, District]) -> alt.Chart | None:
    years = sorted({_year(r["year"]) for r in wh.coverage} | {_year(r["year"]) for r in wh.district_year})
    if not years:
        return None
    index = _coverage_index(wh)
    units = sorted(set(districts) | {r["unit_id"] for r in wh.coverage})
    rows = []
    for unit_id in units:
        for year in years:
            cov = index.get((unit_id, year)) or {}
            status = cov.get("coverage_status") or "no_articles"
            rows.append({"district": names.get(unit_id, unit_id), "year": str(year),
                         "status": COVERAGE_LABELS.get(status, status),
                         "articles": str(cov.get("n_articles") or "")})
    order = [names.get(u, u) for u in units]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("year:O", title="year"), y=alt.Y("district:N", sort=order, title=None))
    rect = base.mark_rect(stroke="white").encode(color=alt.Color(
        "status:N", title="coverage", scale=alt.Scale(domain=list(COVERAGE_LABELS.values()), range=COVERAGE_COLORS)))
    text = base.mark_text(fontSize=9, color="#222").encode(text="articles:N")
    return (rect + text).properties(width=alt.Step(44), height=alt.Step(16),
                                    title="Reporting coverage (number = articles found)")


def awards_rows(wh: Warehouse) -> list[dict]:
    rows = []
    for f in wh.facts:
        if f.get("indicator_code") in AWARD_CODES and f.get("value") is not None:
            qualifiers = _json(f.get("qualifiers")) or {}
            rows.append({"fact": f, "awarded_by": qualifiers.get("awarded_by") or "(not stated)",
                         "field": qualifiers.get("field") or "", "year": _year(f.get("period_start_year")),
                         "indicator": indicator_name(wh, f["indicator_code"]), "value": _num(f["value"])})
    return rows


def awards_chart(rows: list[dict]) -> alt.Chart | None:
    years = sorted({r["year"] for r in rows if r["year"] is not None})[-3:]
    totals: dict[tuple, float] = defaultdict(float)
    for r in rows:
        if r["year"] in years:
            totals[(r["awarded_by"], r["indicator"], str(r["year"]))] += r["value"]
    if not totals:
        return None
    data = [{"awarded_by": k[0], "indicator": k[1], "year": k[2], "value": v} for k, v in totals.items()]
    return alt.Chart(alt.Data(values=data)).mark_bar().encode(
        x=alt.X("value:Q", title="awarded (sum of statements)"),
        y=alt.Y("awarded_by:N", title="awarding body", axis=alt.Axis(labelLimit=220)),
        yOffset="indicator:N",
        color=alt.Color("indicator:N", title=None, legend=alt.Legend(orient="bottom")),
    ).properties(width=260, height=alt.Step(12)).facet(column=alt.Column("year:N", title="year"))


def quality_chart(wh: Warehouse) -> alt.Chart | None:
    runs: dict[str, dict] = {}
    for r in wh.validation:
        run = runs.setdefault(r["run_id"], {"start": r["validated_at"], "passed": 0, "failed": 0})
        run["passed" if r["success"] else "failed"] += 1
    if not runs:
        return None
    data = []
    for run_id, run in runs.items():
        label = f"{run['start']:%Y-%m-%d %H:%M} {run_id[-8:]}"
        data += [{"run": label, "outcome": k, "n": run[k], "start": run["start"].isoformat()} for k in ("passed", "failed")]
    return alt.Chart(alt.Data(values=data)).mark_bar().encode(
        x=alt.X("run:N", sort=alt.EncodingSortField("start"), title="gate run", axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("n:Q", title="expectations"),
        color=alt.Color("outcome:N", scale=alt.Scale(domain=["passed", "failed"], range=["#1a9850", "#d73027"])),
    ).properties(width=alt.Step(28), height=180, title="Quality gate results per run")


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
            key = (f.get("indicator_code"), f.get("unit_id"), _year(f.get("period_start_year")))
            if f.get("period_start_year") == f.get("period_end_year") and key not in self.facts_by_key:
                self.facts_by_key[key] = f

    def fact_link(self, code: str, unit_id: str, year: int, text: str) -> str:
        fact = self.facts_by_key.get((code, unit_id, year))
        if fact and fact["fact_id"] in self.shown_facts:
            return f'<a href="#{_anchor("fact", fact["fact_id"])}">{esc(text)}</a>'
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
        published = f"{last['at']:%Y-%m-%d %H:%M %Z} (run {esc(last['run_id'])})" if last else "never"
        units = {f.get("unit_id") for f in wh.facts if f.get("unit_id")}
        years = sorted({_year(f.get("period_start_year")) for f in wh.facts if f.get("period_start_year")})
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
                           f'<a href="#{_anchor("ind", code)}">Figures and evidence</a></p></div>')
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
        rows.sort(key=lambda r: (-_year(r["year"]), r["unit_id"]))
        cells = []
        for r in rows:
            year = _year(r["year"])
            cells.append([esc(self.names.get(r["unit_id"], r["unit_id"])), esc(year)] + [
                self.fact_link(c, r["unit_id"], year, fmt(r.get(c)) + ("%" if c.endswith("_pct") and r.get(c) is not None else ""))
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
            return f'<a href="#{_anchor("fact", fact["fact_id"])}">{esc(text)}</a>'
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
                f'<article id="{_anchor("ind", code)}"><h3>{esc(indicator_name(self.wh, code))}</h3>'
                f'<p class="code"><code>{esc(code)}</code> {esc(vi)}</p>'
                + (svg(chart, f"ind{i}") if chart else "")
                + details(f"Facts and evidence: {len(facts)}{more}", facts_table(facts), open_=len(facts) <= 12)
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


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{esc(title)}</h2>{body}</section>'


def details(summary: str, body: str, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{body}</details>"


def _evidence_items(fact: dict) -> list[dict]:
    items = _json(fact.get("evidence")) or []
    if not items and fact.get("value_article_url"):
        items = [{"url": fact["value_article_url"]}]
    return [i for i in items if isinstance(i, dict)]


def facts_table(facts: list[dict]) -> str:
    if not facts:
        return "<p class='empty'>No facts.</p>"
    rows = []
    for f in facts:
        evidence = "".join(
            f"<li><q>{esc(i.get('evidence'))}</q> — {link(i.get('url'), i.get('source') or i.get('url'))}"
            f"{' ' + esc(i.get('published_date')) if i.get('published_date') else ''}</li>"
            for i in _evidence_items(f))
        qualifiers = _json(f.get("qualifiers")) or {}
        shown = bool(f["value"]) if f.get("value_type") == "boolean" and f.get("value") is not None else f.get("value")
        value = (esc(f.get("comparator")) if f.get("comparator") not in (None, "=") else "") + esc(fmt(shown))
        if f.get("has_conflict"):
            values = f.get("distinct_values")
            values = " / ".join(fmt(v) for v in values) if isinstance(values, list) else values
            value += f' <span class="bad" title="sources disagree">conflict: {esc(values)}</span>'
        rows.append(
            f'<tr id="{_anchor("fact", f["fact_id"])}"><td>{esc(f.get("unit_full_name") or f.get("unit_id"))}</td>'
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
"""


def render(wh: Warehouse) -> str:
    page = Page(wh)
    shown = page.facts_to_show()  # first: the sections link into these facts' anchors
    if wh.empty:
        sections = section("empty", "No published data", (
            "<p class='empty'>The published marts are empty or missing: run <code>make run</code> (or "
            "<code>qpan build</code> and the gate) to publish them.</p>")) + page.quality()
    else:
        sections = (page.maps() + page.coverage() + page.quota() + page.awards()
                    + page.indicators(shown) + page.quality())
    nav = "".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("maps", "Map"), ("coverage", "Coverage"), ("quota", "Recruitment"), ("awards", "Awards"),
        ("indicators", "Indicators"), ("quality", "Data quality")))
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

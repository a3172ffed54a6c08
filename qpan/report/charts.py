"""The report's charts (qpan.report.page): Vega-Lite specs built with Altair, rendered to SVG
offline by vl-convert and inlined (no script, no CDN, no web font)."""
from __future__ import annotations

import re
from collections import Counter, defaultdict

import altair as alt
import vl_convert as vlc

from qpan.report.data import (
    COVERAGE_COLORS, COVERAGE_LABELS, MAX_MAPS, NO_REPORT, NOT_GIVEN, AWARD_CODES, Warehouse, parse_json, as_number, year_of,
    fmt, indicator_name,
)
from qpan.report.geo import District

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


def district_names(wh: Warehouse, districts: dict[str, District]) -> dict[str, str]:
    """One spelling per unit, the marts' ("huyện Thọ Xuân", as in every table an analyst
    queries); the boundaries file's name ("Huyện Mường Lát"), with the type word in lower case
    like the marts, only for a district the marts do not name."""
    names = {u: d.name[:1].lower() + d.name[1:] for u, d in districts.items()}
    names.update(wh.unit_names)
    for row in wh.district_year + wh.coverage:
        names.setdefault(row["unit_id"], row.get("unit_full_name") or row.get("unit_name") or row["unit_id"])
    return names


def _coverage_index(wh: Warehouse) -> dict[tuple[str, int], dict]:
    return {(r["unit_id"], year_of(r["year"])): r for r in wh.coverage}


def _has_report(cov: dict | None) -> bool:
    return bool(cov) and (bool(cov.get("has_year_end_review")) or (cov.get("n_articles") or 0) > 0)


def map_chart(wh: Warehouse, districts: dict[str, District], code: str, year: int) -> tuple[alt.LayerChart, dict]:
    """Choropleth of one indicator and year. A district without a value is grey when no
    article and no year-end review was found for it that year ("no report found"), white
    when there was a report that did not give the figure; a reported 0 is coloured as 0."""
    values = {r["unit_id"]: r.get(code) for r in wh.district_year if year_of(r["year"]) == year}
    comparators = {r["unit_id"]: r.get(f"{code}_comparator") for r in wh.district_year if year_of(r["year"]) == year}
    coverage = _coverage_index(wh)
    is_flag = any(isinstance(v, bool) for v in values.values())
    top = max((float(v) for v in values.values() if v is not None and not isinstance(v, bool)), default=0) or 1
    shapes, labels = [], []
    for unit_id, d in sorted(districts.items()):
        value = as_number(values.get(unit_id))
        status = "reported" if value is not None else (
            NOT_GIVEN if _has_report(coverage.get((unit_id, year))) else NO_REPORT)
        shown = ("met" if value else "not met") if is_flag and value is not None else value
        shapes.append({"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": d.polygons},
                       "properties": {"unit_id": unit_id, "name": d.name, "value": shown, "status": status}})
        if value is not None:
            label = fmt(value, comparators.get(unit_id))
            labels.append({"lon": d.centroid[0], "lat": d.centroid[1], "label": label})
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
                                # from 0 to at least 1: an all-zero map shows its zeros as the lightest
                                # colour (a zero), not as a colour of a degenerate scale
                                scale=alt.Scale(scheme="yelloworangebrown", domain=[0, top]),
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
                counts[(code, year_of(row["year"]))] += 1
    best: dict[str, tuple[int, int]] = {}
    for (code, year), n in counts.items():
        if code not in best or (n, year) > best[code]:
            best[code] = (n, year)
    order = {c: i for i, c in enumerate(wh.indicator_columns)}
    picked = sorted(best.items(), key=lambda kv: (-kv[1][0], order[kv[0]]))
    return [(code, year, n) for code, (n, year) in picked][:MAX_MAPS]


def indicator_chart(wh: Warehouse, names: dict[str, str], code: str) -> alt.Chart | None:
    rows = [{"district": names.get(r["unit_id"], r["unit_id"]), "unit_id": r["unit_id"],
             "year": str(year_of(r["year"])), "value": as_number(r.get(code)),
             "label": fmt(r.get(code), r.get(f"{code}_comparator"))}
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
    # A zero must show as a zero: a bar of length 0 draws nothing, and when every value is 0
    # the axis collapses. The axis always starts at 0 and reaches at least 1; each value gets a
    # tick at its end (a visible mark at 0) and its label, a bound with its comparator ("> 1,000").
    top = max((r["value"] for r in rows), default=0) or 1
    whole = all(float(r["value"]).is_integer() for r in rows)
    x = alt.X("value:Q", title=indicator_name(wh, code), scale=alt.Scale(domain=[0, top], nice=True),
              axis=alt.Axis(values=[0, 1], format="d") if whole and top == 1 else
              alt.Axis(tickMinStep=1) if whole else alt.Axis())
    bars = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=x,
        y=alt.Y("district:N", sort=order, title=None),
        yOffset=alt.YOffset("year:O"),
        color=alt.Color("year:O", scale=alt.Scale(scheme="tableau10")),
    )
    ticks = bars.mark_tick(thickness=2, size=10)
    text = bars.mark_text(align="left", dx=4, fontSize=9).encode(text=alt.Text("label:N"), color=alt.value("#333"))
    return (bars + ticks + text).properties(width=560, height=alt.Step(13))


def coverage_chart(wh: Warehouse, names: dict[str, str], districts: dict[str, District]) -> alt.Chart | None:
    years = sorted({year_of(r["year"]) for r in wh.coverage} | {year_of(r["year"]) for r in wh.district_year})
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
            qualifiers = parse_json(f.get("qualifiers")) or {}
            rows.append({"fact": f, "awarded_by": qualifiers.get("awarded_by") or "(not stated)",
                         "field": qualifiers.get("field") or "", "year": year_of(f.get("period_start_year")),
                         "indicator": indicator_name(wh, f["indicator_code"]), "value": as_number(f["value"])})
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

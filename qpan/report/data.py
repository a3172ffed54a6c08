"""The report's reading of the warehouse and its small formatting helpers (qpan.report.page).

Only what analysts see is read (the published schema `marts` and the audit trail). Every string
that comes from the warehouse goes through `esc` (article text is untrusted input); only
http(s) URLs become links.
"""
from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from qpan.core import config

log = logging.getLogger("qpan.report.page")
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
    "bounded_indicators", "n_articles", "has_year_end_review", "coverage_status",
    "review_status", "n_indicators_reviewed", "reviewed_share", "reviewed_indicators", "corrected_indicators",
    "added_indicators",
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
    unit_names: dict[str, str] = field(default_factory=dict)  # the province's districts, as the marts spell them
    # mention_id -> (paragraph, offset of the evidence in it, length of the evidence): the stored
    # text around each evidence sentence, shown in the page (a link to the portal may die)
    paragraphs: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    review_decisions: list[dict] = field(default_factory=list)  # mart_review_decisions (qpan.report.review)
    sources: list[dict] = field(default_factory=list)  # mart_source_health, each source's latest day
    source_weeks: list[dict] = field(default_factory=list)  # mart_source_weekly_articles

    @property
    def empty(self) -> bool:
        return not (self.facts or self.district_year or self.coverage)


def _is_province_district(unit_id: Any) -> bool:
    return isinstance(unit_id, str) and unit_id.startswith(PROVINCE_ID + ".") and unit_id.count(".") == 1


def select_table(conn: psycopg.Connection, table: str, tail: str = "") -> tuple[list[str], list[dict]]:
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
    _, rows = select_table(conn, "marts.dim_indicator")
    wh.indicators = {r["indicator_code"]: r for r in rows}
    columns, rows = select_table(conn, "marts.mart_district_year", "order by unit_id, year")
    catalogue = set(wh.indicators)
    wh.indicator_columns = [c for c in columns if c in catalogue] or [
        c for c in columns if c not in DISTRICT_YEAR_META]
    wh.indicator_columns = [c for c in wh.indicator_columns if not c.endswith("_comparator")]
    wh.district_year = [r for r in rows if _is_province_district(r.get("unit_id"))]
    # one spelling of a unit's name everywhere ("huyện Thọ Xuân"): the gazetteer's, latest version
    _, rows = select_table(conn, "marts.dim_admin_unit", "where level = 'district' order by valid_from nulls first")
    wh.unit_names = {r["unit_id"]: r["unit_full_name"] for r in rows
                     if _is_province_district(r.get("unit_id")) and r.get("unit_full_name")}
    _, rows = select_table(conn, "marts.mart_reporting_coverage", "order by unit_id, year")
    wh.coverage = [r for r in rows if _is_province_district(r.get("unit_id"))]
    _, wh.facts = select_table(conn, "marts.fct_indicator_facts", "order by indicator_code, unit_id, period")
    if conn.execute("select to_regclass('marts.fct_indicator_mentions')").fetchone()[0] is not None:
        wh.n_mentions = conn.execute("select count(*) from marts.fct_indicator_mentions").fetchone()[0]
        wh.paragraphs = _paragraphs(conn, wh.facts)
    _, wh.validation = select_table(
        conn, "audit.validation_results",
        f"where run_id in (select run_id from audit.validation_results group by run_id "
        f"order by max(validated_at) desc limit {QUALITY_RUNS}) order by validated_at, result_id")
    _, wh.publish_log = select_table(conn, "audit.publish_log", "order by at desc limit 10")
    _, wh.review_decisions = select_table(conn, "marts.mart_review_decisions", "order by decided_at")
    return wh  # the Sources panel's rows: qpan.report.page.load adds them (qpan.report.sources)


def _paragraphs(conn: psycopg.Connection, facts: list[dict]) -> dict[int, tuple[str, int, int]]:
    ids = sorted({int(item["mention_id"]) for f in facts for item in (parse_json(f.get("evidence")) or [])
                  if isinstance(item, dict) and item.get("mention_id") is not None})
    columns = {r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = 'marts' "
        "and table_name = 'fct_indicator_mentions'").fetchall()}
    if not ids or "evidence_paragraph" not in columns:  # marts of an older qpan: no paragraphs
        return {}
    rows = conn.execute(
        "select mention_id, evidence_paragraph, evidence_paragraph_offset, char_length(evidence) "
        "from marts.fct_indicator_mentions where mention_id = any(%s)", (ids,)).fetchall()
    return {m: (p, o, n) for m, p, o, n in rows if p}


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


def as_number(value: Any) -> float | bool | None:
    if value is None or isinstance(value, bool):
        return value
    return float(value) if isinstance(value, (int, float, Decimal)) else None


def fmt(value: Any, comparator: Any = None) -> str:
    """A value as shown; a bound keeps its comparator ("> 1,000"), an exact value shows none."""
    if comparator in (">", "<", "~") and value is not None and not isinstance(value, bool):
        return f"{comparator} {fmt(value)}"
    value = as_number(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}".rstrip("0").rstrip(".")


def year_of(value: Any) -> int | None:
    return int(value) if value is not None else None


def parse_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def anchor_id(prefix: str, key: Any) -> str:
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

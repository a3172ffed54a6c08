"""The analyst report: built from a small published warehouse, opened in headless Chromium.

The marts are created directly (the columns the report reads, as the dbt models name them) in a
database of this module's own, so the test neither waits for dbt nor collides with the marts
other tests publish in the session database.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from qpan.core import config, db
from qpan.report import page as report

MALICIOUS = "<script>alert(1)</script>"
MARTS_DDL = """
create table marts.dim_indicator (indicator_code text, domain text, measure_unit text, value_type text,
    is_additive boolean, name_vi text, name_en text, is_in_district_year_mart boolean);
create table marts.mart_district_year (unit_id text, year integer, unit_version_key text, unit_full_name text,
    unit_name text, province_id text, current_province_id text, current_unit_id text,
    recruits_enlisted numeric, recruitment_quota numeric, recruitment_quota_pct numeric,
    recruitment_quota_met boolean, drills_held numeric, crime_cases numeric, security_hotspots numeric,
    awarded_collectives numeric, awarded_individuals numeric, n_indicators_reported integer,
    conflicting_indicators text[], n_articles integer, has_year_end_review boolean, coverage_status text);
create table marts.mart_reporting_coverage (unit_id text, year integer, unit_version_key text, unit_level text,
    unit_full_name text, current_province_id text, n_articles integer, n_year_end_reviews integer,
    has_year_end_review boolean, year_end_review_urls text[], n_facts integer, n_indicators_reported integer,
    n_conflicting_facts integer, n_articles_with_facts integer, coverage_status text);
create table marts.fct_indicator_facts (fact_id text, indicator_code text, indicator_name_vi text,
    indicator_name_en text, measure_unit text, unit_id text, unit_level text, unit_full_name text,
    period text, period_start_year integer, period_end_year integer, is_single_year boolean,
    qualifiers jsonb, value_type text, value numeric, comparator text, value_article_url text,
    has_conflict boolean, distinct_values numeric[], n_mentions integer, evidence jsonb);
create table marts.fct_indicator_mentions (mention_id bigint, fact_id text, evidence text, article_url text,
    article_title text);
"""
INDICATORS = [  # code, unit, value_type, name_en, name_vi
    ("recruits_enlisted", "persons", "count", "Citizens enlisted", "Số công dân nhập ngũ"),
    ("recruitment_quota", "persons", "count", "Recruitment quota", "Chỉ tiêu giao quân"),
    ("recruitment_quota_pct", "percent", "ratio", "Recruitment quota fulfilment", "Tỷ lệ hoàn thành"),
    ("recruitment_quota_met", "flag", "boolean", "Recruitment quota met", "Hoàn thành chỉ tiêu"),
    ("drills_held", "exercises", "count", "Exercises held", "Số cuộc diễn tập"),
    ("crime_cases", "cases", "count", "Criminal cases", "Số vụ phạm tội"),
    ("security_hotspots", "hotspots", "count", "Security hotspots formed", "Số điểm nóng"),
    ("awarded_collectives", "collectives", "count", "Collectives awarded", "Số tập thể được khen thưởng"),
    ("awarded_individuals", "persons", "count", "Individuals awarded", "Số cá nhân được khen thưởng"),
]
NAMES = {"38.380": "thành phố Thanh Hóa", "38.389": "huyện Ngọc Lặc", "38.395": "huyện Thọ Xuân",
         "38.405": "huyện Đông Sơn", "38.398": "huyện Thiệu Hóa"}
# (indicator, unit, year, value, qualifiers, evidence sentence, url)
FACTS = [
    ("recruits_enlisted", "38.395", 2023, 226, {}, "giao 226 công dân nhập ngũ", "https://thoxuan.example.vn/a1"),
    ("recruitment_quota", "38.395", 2023, 226, {}, "chỉ tiêu 226", "https://thoxuan.example.vn/a1"),
    ("recruitment_quota_pct", "38.395", 2023, 100, {}, "đạt 100% chỉ tiêu", "https://thoxuan.example.vn/a1"),
    ("recruitment_quota_met", "38.395", 2023, 1, {}, "đạt 100% chỉ tiêu", "https://thoxuan.example.vn/a1"),
    ("security_hotspots", "38.395", 2023, 0, {}, "không để hình thành điểm nóng", "https://thoxuan.example.vn/a1"),
    ("awarded_collectives", "38.395", 2023, 8, {"awarded_by": "Chủ tịch UBND", "field": "QP-AN"},
     "tặng Giấy khen cho 8 tập thể", "https://thoxuan.example.vn/a1"),
    ("awarded_individuals", "38.395", 2023, 12, {"awarded_by": "Chủ tịch UBND", "field": "QP-AN"},
     "và 12 cá nhân", "https://thoxuan.example.vn/a1"),
    ("awarded_collectives", "38.395", 2023, 5, {"awarded_by": "<img src=x onerror=alert(2)>Huyện ủy"},
     "Huyện ủy tặng 5 tập thể", "https://thoxuan.example.vn/a1"),
    ("recruits_enlisted", "38.395", 2022, 210, {}, "210 công dân nhập ngũ", "https://thoxuan.example.vn/a0"),
    ("recruits_enlisted", "38.389", 2023, 185, {}, "185 tân binh " + MALICIOUS, "javascript:alert(3)"),
    ("recruitment_quota_met", "38.389", 2023, 1, {}, "hoàn thành chỉ tiêu", "https://ngoclac.example.vn/b1"),
    ("drills_held", "38.389", 2023, 3, {}, "tổ chức 3 cuộc diễn tập", "https://ngoclac.example.vn/b1"),
    ("awarded_collectives", "38.389", 2023, 14, {"awarded_by": "Huyện ủy, UBND huyện"},
     "khen thưởng 14 tập thể", "https://ngoclac.example.vn/b1"),
    ("recruitment_quota_pct", "38.380", 2023, 95, {}, "đạt 95% chỉ tiêu", "https://tp.example.vn/c1"),
    ("recruitment_quota_met", "38.380", 2023, 0, {}, "đạt 95% chỉ tiêu", "https://tp.example.vn/c1"),
    ("crime_cases", "38.380", 2023, 120, {}, "phát hiện 120 vụ phạm tội", "https://tp.example.vn/c1"),
    ("recruits_enlisted", "38.405", 2023, 150, {}, "150 công dân nhập ngũ", "https://dongson.example.vn/d1"),
    ("drills_held", "38.405", 2023, 2, {}, "tổ chức 2 cuộc diễn tập",  # a URL that tries to leave its attribute
     "https://dongson.example.vn/d2?a=\"><script>alert(4)</script><a x='"),
    ("recruits_enlisted", "38", 2023, 3500, {}, "Toàn tỉnh có 3.500 công dân nhập ngũ", "https://baothanhhoa.example.vn/e"),
]
# (unit, year, articles, review?, status)
COVERAGE = [
    ("38.395", 2022, 2, True, "facts_extracted"), ("38.395", 2023, 3, True, "facts_extracted"),
    ("38.389", 2022, 0, False, "no_articles"), ("38.389", 2023, 2, True, "facts_extracted"),
    ("38.380", 2022, 1, False, "articles_without_facts"), ("38.380", 2023, 1, True, "facts_extracted"),
    ("38.405", 2022, 0, False, "no_articles"), ("38.405", 2023, 1, False, "facts_extracted"),
    ("38.398", 2022, 0, False, "no_articles"), ("38.398", 2023, 1, True, "review_without_facts"),
]


@pytest.fixture(scope="module")
def report_db(warehouse_url):
    """A database of this module's own on the session's server, migrated, with no marts yet."""
    name = f"qpan_report_{uuid.uuid4().hex[:8]}"
    url = config.database_url(config.ADMIN_ROLE, dbname=name)
    os.environ["QPAN_DATABASE_URL"] = url
    try:
        db.migrate()
        yield url
    finally:
        os.environ["QPAN_DATABASE_URL"] = warehouse_url
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def _publish_sample(conn) -> None:
    conn.execute(MARTS_DDL)
    for code, unit, vtype, en, vi in INDICATORS:
        conn.execute("insert into marts.dim_indicator values (%s, 'defence', %s, %s, true, %s, %s, true)",
                     (code, unit, vtype, vi, en))
    for i, (code, unit, year, value, quals, sentence, url) in enumerate(FACTS):
        evidence = [{"mention_id": i, "url": url, "source": url.split("/")[2] if "//" in url else "?",
                     "published_date": f"{year}-12-20", "value": value, "evidence": sentence}]
        conn.execute(
            "insert into marts.fct_indicator_facts (fact_id, indicator_code, unit_id, unit_level, unit_full_name, "
            "period, period_start_year, period_end_year, is_single_year, qualifiers, value_type, value, comparator, "
            "value_article_url, has_conflict, n_mentions, evidence) values (%s, %s, %s, %s, %s, %s, %s, %s, true, "
            "%s, %s, %s, '=', %s, false, 1, %s)",
            (f"f{i:03d}", code, unit, "province" if unit == "38" else "district", NAMES.get(unit, "tỉnh Thanh Hóa"),
             str(year), year, year, json.dumps(quals), "boolean" if code == "recruitment_quota_met" else "number",
             value, url, json.dumps(evidence)))
        conn.execute("insert into marts.fct_indicator_mentions (mention_id, fact_id, evidence, article_url) "
                     "values (%s, %s, %s, %s)", (i, f"f{i:03d}", sentence, url))
    conn.execute("update marts.fct_indicator_facts set has_conflict = true, distinct_values = '{180,185}' "
                 "where unit_id = '38.389' and indicator_code = 'recruits_enlisted'")  # two papers disagree
    for unit, year, n_articles, review, status in COVERAGE:
        conn.execute(
            "insert into marts.mart_reporting_coverage (unit_id, year, unit_level, unit_full_name, n_articles, "
            "n_year_end_reviews, has_year_end_review, year_end_review_urls, n_facts, coverage_status) "
            "values (%s, %s, 'district', %s, %s, %s, %s, %s, 0, %s)",
            (unit, year, NAMES[unit], n_articles, int(review), review,
             [f"https://{unit}.example.vn/review-{year}"] if review else None, status))
    # mart_district_year: pivot the single-year district facts (awards summed), as the dbt model does
    cells: dict = {}
    for code, unit, year, value, *_ in FACTS:
        if unit.count(".") == 1:
            row = cells.setdefault((unit, year), {})
            row[code] = (value == 1) if code == "recruitment_quota_met" else row.get(code, 0) + value
    for unit, year, n_articles, review, status in COVERAGE:
        row = cells.get((unit, year), {})
        columns = ["unit_id", "year", "unit_full_name", "unit_name", "province_id", "current_province_id",
                   "n_articles", "has_year_end_review", "coverage_status", *row]
        values = [unit, year, NAMES[unit], NAMES[unit].split(" ", 1)[1], "38", "38", n_articles, review, status,
                  *row.values()]
        conn.execute(f"insert into marts.mart_district_year ({', '.join(columns)}) values "
                     f"({', '.join(['%s'] * len(values))})", values)
    for run, (when, failed) in enumerate([("2025-01-01 08:00+07", 2), ("2025-01-02 08:00+07", 0)]):
        for j in range(6):
            conn.execute(
                "insert into audit.validation_results (run_id, suite, expectation, column_name, success, "
                "observed_value, validated_at) values (%s, 'marts', %s, 'value', %s, %s, %s)",
                (f"run_{run}", f"expect_{j}", j >= failed, MALICIOUS if j == 0 else "0", when))
        conn.execute("insert into audit.publish_log (run_id, published, reason, at) values (%s, %s, %s, %s)",
                     (f"run_{run}", failed == 0, "gate passed" if failed == 0 else "2 failed", when))
    db.grant_analyst(conn)


def _chromium(exe: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


def test_empty_warehouse_gives_a_report_saying_so(report_db, tmp_path):
    path = report.build_report(tmp_path)
    page = path.read_text(encoding="utf-8")
    assert "No published data" in page
    assert "<svg" not in page


@pytest.fixture(scope="module")
def published(report_db, tmp_path_factory):
    """The report of the sample marts (after the empty-warehouse test, which runs first)."""
    with db.connect(autocommit=True) as conn:
        _publish_sample(conn)
    out = tmp_path_factory.mktemp("report") / "report"
    path = report.build_report(out)
    assert path == out / "index.html"
    return path


def test_report_escapes_untrusted_text_without_a_browser(published):
    """The escaping, checked on the file and with an HTML parser (no browser, never skipped):
    page text and URLs from portals are data, never markup, scripts or links to run."""
    from selectolax.lexbor import LexborHTMLParser

    page = published.read_text(encoding="utf-8")
    # self-contained: nothing fetched, nothing run
    assert not re.search(r"<(script|link|iframe|object|embed)\b", page, re.I)
    assert not re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", page) and "url(http" not in page
    assert "default-src 'none'" in page and "Content-Security-Policy" in page  # the second line of defence
    # untrusted text escaped; a javascript: URL never becomes a link
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert 'href="javascript:' not in page
    assert "alert(4)" in page and '"><script>alert(4)' not in page  # the URL stayed inside its attribute
    tree = LexborHTMLParser(page)
    assert tree.css("script, iframe, object, embed, img") == []
    for node in tree.css("*"):
        attributes = node.attributes
        assert not [a for a in attributes if a.lower().startswith("on")], node.html[:200]
        href = (attributes.get("href") or "").strip().lower()
        assert href.startswith(("https://", "http://", "#")) or not href, href
    texts = " ".join(node.text() for node in tree.css("body"))
    assert "<script>alert(1)</script>" in texts and "<img src=x onerror=alert(2)>Huyện ủy" in texts  # shown as text
    # every figure of the quota table links to an evidence row that exists
    anchors = set(re.findall(r'id="(fact-[^"]+)"', page))
    links = set(re.findall(r'href="#(fact-[^"]+)"', page))
    assert links and links <= anchors
    assert 'href="https://thoxuan.example.vn/a1"' in page
    assert "conflict: 180 / 185" in page


def test_report_renders_in_a_browser(published, tmp_path, chromium):
    path = published
    dom = _chromium(chromium, tmp_path, "--dump-dom", path.as_uri()).stdout
    assert "Thọ Xuân" in dom and "Ngọc Lặc" in dom
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    svgs = re.findall(r"<svg\b.*?</svg>", dom, re.S)
    # maps (one per indicator with district values), coverage, per-indicator charts, awards, quality
    assert len(svgs) >= 10
    assert all("<path" in s for s in svgs)
    maps = [s for s in svgs if "Citizens enlisted (persons), 2023" in s]
    assert maps and maps[0].count("<path") > 27  # every district drawn, plus legend symbols
    assert "no report found" in dom  # the legend of districts without any report
    assert 'id="coverage"' in dom and 'id="quality"' in dom

    shot = tmp_path / "report.png"
    _chromium(chromium, tmp_path, f"--screenshot={shot}", "--window-size=1400,4000",
              "--hide-scrollbars", path.as_uri())
    assert shot.exists() and shot.stat().st_size > 50_000  # a drawn page, not a blank one


def test_cli_registers_report():
    import argparse

    parser = argparse.ArgumentParser()
    report.register(parser.add_subparsers())
    args = parser.parse_args(["report", "--out", "/tmp/x"])
    assert args.func is report._cmd_report and args.out == Path("/tmp/x")

"""`qpan bi`: Apache Superset on the analyst role, end to end and for real.

One published warehouse (the sample articles, real dbt, the real quality gate, the publish swap: a copy
of the session's, tests/conftest.py::published_sample)
and one Superset start for the whole module: the dashboard of bi/superset/ is imported, the API
logs in, every chart's saved query returns rows of the marts, SQL Lab cannot read `raw`, and
headless Chromium logs in through the login form and draws the dashboard.
Set QPAN_UPDATE_DOCS=1 to copy the screenshot to docs/superset-dashboard.png.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from qpan.core import config, db, settings
from qpan.bi import bundle, server
from qpan.bi import cli as bi_cli
from helpers.net import free_port

from helpers import cdp
from helpers.bi_setup import wait_prepared

DOCS_SHOT = config.REPO_ROOT / "docs" / "superset-dashboard.png"
AWARDS = ("awarded_collectives", "awarded_individuals")
TIMINGS: dict[str, float] = {}


def _analyst(sql: str) -> list[tuple]:
    with db.connect("qpan_analyst", autocommit=True) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(scope="module")
def superset(superset_home, sample_warehouse):
    """Superset started by `qpan bi start`'s own code, on a free port, in the prepared home, on a
    copy of the published sample warehouse (tests/conftest.py; `superset_home` first: Superset's
    set-up runs in the background while the sample is built)."""
    previous = {k: os.environ.get(k) for k in ("QPAN_SUPERSET_HOME", "QPAN_BI_PORT")}
    os.environ.update(QPAN_SUPERSET_HOME=str(superset_home), QPAN_BI_PORT=str(free_port()))
    started = time.monotonic()
    outcome: dict = {}

    def _start() -> None:
        try:
            wait_prepared()
            outcome["prepared"] = time.monotonic() - started
            outcome["info"] = bi_cli.start(ensure_warehouse=False)  # sample_warehouse migrated it
        except Exception as exc:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    starter = threading.Thread(target=_start, daemon=True)
    starter.start()
    try:
        starter.join(timeout=600)
        TIMINGS["superset_prepared_wait"] = outcome.get("prepared", -1)
        TIMINGS["superset_ready"] = outcome.get("seconds", -1)
        if "info" not in outcome:
            raise RuntimeError(f"qpan bi start failed: {outcome.get('error')!r}")
        yield outcome["info"]
    finally:
        starter.join(timeout=600)
        server.stop()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        print(f"\nqpan bi timings: {json.dumps({k: round(v, 1) for k, v in TIMINGS.items()})}")


@pytest.fixture(scope="module")
def api(superset):
    """A logged-in API session (JWT from /api/v1/security/login, plus the CSRF token for POSTs)."""
    session = requests.Session()
    base = superset["url"]
    reply = session.post(f"{base}/api/v1/security/login", timeout=60,
                         json={"username": "admin", "password": server.admin_password(), "provider": "db"})
    assert reply.status_code == 200, reply.text
    session.headers["Authorization"] = "Bearer " + reply.json()["access_token"]
    csrf = session.get(f"{base}/api/v1/security/csrf_token/", timeout=60)
    assert csrf.status_code == 200, csrf.text
    session.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": base})
    session.base = base
    return session


def test_make_bi_starts_superset_on_loopback_with_a_generated_password(superset, api):
    assert superset["url"].startswith("http://127.0.0.1:") and server.healthy()
    assert bi_cli._marts_published()
    secrets = json.loads((config.state_dir() / "secrets.json").read_text())
    assert secrets[server.PASSWORD_KEY] == server.admin_password() and len(server.admin_password()) >= 20
    assert server.SECRET_KEY_KEY in secrets
    wrong = requests.post(f"{superset['url']}/api/v1/security/login", timeout=60,
                          json={"username": "admin", "password": "admin", "provider": "db"})
    assert wrong.status_code == 401  # no default password
    from qpan.cli import main

    assert main(["bi", "status"]) == 0


def test_the_only_connection_is_the_read_only_analyst_role(api):
    databases = api.get(f"{api.base}/api/v1/database/", timeout=60).json()["result"]
    assert len(databases) == 1
    connection = api.get(f"{api.base}/api/v1/database/{databases[0]['id']}/connection", timeout=60).json()["result"]
    uri = connection["sqlalchemy_uri"]
    assert uri.startswith("postgresql+psycopg2://qpan_analyst:") and config.ADMIN_ROLE not in uri
    assert config.role_password("qpan_analyst") not in uri  # masked
    assert connection["allow_dml"] is False


def _sqllab(api, sql: str):
    database_id = api.get(f"{api.base}/api/v1/database/", timeout=60).json()["result"][0]["id"]
    return api.post(f"{api.base}/api/v1/sqllab/execute/", timeout=120,
                    json={"database_id": database_id, "sql": sql, "runAsync": False, "schema": "marts",
                          "client_id": f"q{int(time.time() * 1000) % 10**9}"})


def test_sql_lab_reads_the_marts_but_not_raw(api):
    ok = _sqllab(api, "select count(*) as n from marts.fct_indicator_facts")
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"][0]["n"] == _analyst("select count(*) from marts.fct_indicator_facts")[0][0] > 0
    denied = _sqllab(api, "select * from raw.articles limit 1")
    assert denied.status_code >= 400
    assert "permission denied" in denied.text.lower() and "articles" not in json.dumps(denied.json().get("data"))


def _dashboard_charts(api) -> dict[str, int]:
    dash = api.get(f"{api.base}/api/v1/dashboard/qpan", timeout=60)
    assert dash.status_code == 200, dash.text
    charts = api.get(f"{api.base}/api/v1/dashboard/qpan/charts", timeout=60).json()["result"]
    return {c["slice_name"]: c["id"] for c in charts}


def _chart_rows(api, chart_id: int) -> list[dict]:
    reply = api.get(f"{api.base}/api/v1/chart/{chart_id}/data/", timeout=120)
    assert reply.status_code == 200, reply.text
    result = reply.json()["result"][0]
    assert not result.get("error"), result
    return result["data"]


def test_every_chart_of_the_dashboard_returns_rows_of_the_marts(api):
    charts = _dashboard_charts(api)
    assert len(charts) == len(list((bundle.BUNDLE_DIR / "charts").glob("*.yaml"))) == 5
    rows = {name: _chart_rows(api, chart_id) for name, chart_id in charts.items()}
    assert all(rows.values()), {name: len(r) for name, r in rows.items()}

    recruitment = rows["Recruitment by district and year, quota met"]
    assert len(recruitment) == _analyst("select count(*) from marts.mart_district_year "
                                        "where coverage_status = 'facts_extracted'")[0][0]
    tho_xuan = [r for r in recruitment if r["unit_full_name"] == "huyện Thọ Xuân" and r["year"] == 2023]
    assert tho_xuan and tho_xuan[0]["recruits_enlisted"] == 226 and tho_xuan[0]["recruitment_quota_met"] is True
    tp = [r for r in recruitment if r["unit_full_name"] == "thành phố Thanh Hóa" and r["year"] == 2023]
    assert tp and tp[0]["recruitment_quota_met"] is False  # a quota missed is shown, not hidden

    coverage = rows["Reporting coverage: 0 no report · 1 articles · 2 review · 3 facts"]
    expected = dict(((u, y), lvl) for u, y, lvl in _analyst(
        "select unit_full_name, year, max(coverage_level) from marts.mart_reporting_coverage group by 1, 2"))
    assert {(r["unit_full_name"], r["year"]): r["coverage level"] for r in coverage} == expected
    assert 0 in expected.values() and 3 in expected.values()  # "no report" cells are there, apart from facts

    awards = rows["Awards by awarding body"]
    bodies = {b for (b,) in _analyst("select distinct awarded_by from marts.fct_indicator_facts "
                                     f"where indicator_code in {AWARDS} and awarded_by is not null")}
    assert {r["awarded_by"] for r in awards} == bodies >= {"Chủ tịch UBND", "Ban Thường vụ Huyện ủy"}
    assert sum(r["awarded"] for r in awards) == 8 + 12 + 5 + 14

    facts = rows["Facts with their evidence sentence and URL"]
    assert len(facts) == _analyst("select count(*) from marts.fct_indicator_facts")[0][0]
    drills = [r for r in facts if r["indicator_name_en"] == "Exercises held" and r["period"] == "2023"]
    assert drills and drills[0]["value_evidence"] == "tổ chức 3 cuộc diễn tập"
    assert drills[0]["value_article_url"].endswith("/sample_ngoclac/ngoclac-2023.html")

    quality = rows["Data-quality results over time (quality gate)"]
    assert sum(r["expectations"] for r in quality) == _analyst("select count(*) from audit.validation_results")[0][0]
    assert {r["success"] for r in quality} <= {True, False} and True in {r["success"] for r in quality}


ADD_VIEWER = """
import os
from superset.app import create_app
app = create_app()
with app.app_context():
    from superset import security_manager
    if security_manager.find_user(username="viewer") is None:
        security_manager.add_user("viewer", "a", "viewer", "viewer@localhost",
                                  security_manager.find_role("qpan_viewer"), password=os.environ["VIEWER_PASSWORD"])
"""


def test_dashboard_users_get_the_read_only_viewer_role(api, superset):
    """A user of the `qpan_viewer` role (docs/bi.md: how to add one) reads the dashboard and its
    charts, and can neither run SQL nor add a database."""
    password = "Viewer-pass-0123456789"
    server.run_bi_python("-c", ADD_VIEWER, what="add a viewer", extra_env={"VIEWER_PASSWORD": password})
    viewer = requests.Session()
    base = superset["url"]
    reply = viewer.post(f"{base}/api/v1/security/login", timeout=60,
                        json={"username": "viewer", "password": password, "provider": "db"})
    assert reply.status_code == 200, reply.text
    viewer.headers["Authorization"] = "Bearer " + reply.json()["access_token"]
    viewer.headers.update({"X-CSRFToken": viewer.get(f"{base}/api/v1/security/csrf_token/", timeout=60)
                           .json()["result"], "Referer": base})
    viewer.base = base
    charts = _dashboard_charts(viewer)
    assert len(charts) == 5 and _chart_rows(viewer, charts["Awards by awarding body"])
    assert _sqllab(api, "select 1 as one").status_code == 200  # the admin may...
    database_id = api.get(f"{base}/api/v1/database/", timeout=60).json()["result"][0]["id"]
    denied = viewer.post(f"{base}/api/v1/sqllab/execute/", timeout=60,
                         json={"database_id": database_id, "sql": "select 1", "runAsync": False, "client_id": "v1"})
    assert denied.status_code in (401, 403), denied.text  # ...a viewer may not
    added = viewer.post(f"{base}/api/v1/database/", timeout=60,
                        json={"database_name": "mine", "sqlalchemy_uri": "sqlite://"})
    assert added.status_code in (401, 403), added.text


def test_superset_gets_no_qpan_secret_and_keeps_gunicorn_s_limits(superset):
    master = server.pid()
    environ = dict(item.split("=", 1) for item in
                   Path(f"/proc/{master}/environ").read_bytes().decode(errors="replace").split("\0") if "=" in item)
    assert "SUPERSET_SECRET_KEY" in environ and not [k for k in environ if k.startswith(("QPAN_DATABASE", "AIRFLOW"))]
    leaked = [k for k, v in environ.items() if v in {config.role_password(r) for r in (config.ADMIN_ROLE, *config.ROLES)}]
    assert leaked == []
    with socket.create_connection(("127.0.0.1", int(superset["url"].rsplit(":", 1)[1])), timeout=30) as sock:
        sock.sendall(b"GET /health?" + b"a" * 6000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status = sock.recv(200).split(b"\r\n", 1)[0]
    assert b" 414 " in status or b" 400 " in status, status  # the request line is over gunicorn's limit


CHECK = """(() => {
  const text = document.body.innerText;
  return JSON.stringify({
    canvases: [...document.querySelectorAll('canvas')].filter(c => c.width > 50 && c.height > 50).length,
    tableRows: document.querySelectorAll('table tbody tr').length,
    noResults: (text.match(/No results/g) || []).length,
    errors: (text.match(/Unexpected error|There was an error|Error loading/gi) || []).length,
    titles: text.includes('Awards by awarding body') && text.includes('Facts with their evidence sentence'),
    evidence: text.includes('tổ chức 3 cuộc diễn tập'),
  });
})()"""


def test_the_dashboard_draws_every_chart_in_headless_chromium(superset, api, chromium, tmp_path):
    started = time.monotonic()
    browser = cdp.Browser(chromium, tmp_path / "profile", width=1600, height=1900)
    try:
        browser.navigate(f"{superset['url']}/login/")
        assert browser.wait_for("!!document.getElementById('csrf_token')", timeout=60)
        browser.evaluate("""(() => {
          const form = document.createElement('form'); form.method = 'POST'; form.action = '/login/';
          const add = (name, value) => { const i = document.createElement('input'); i.type = 'hidden';
            i.name = name; i.value = value; form.appendChild(i); };
          add('username', 'admin'); add('password', %s);
          add('csrf_token', document.getElementById('csrf_token').value);
          document.body.appendChild(form); form.submit(); return true; })()""" % json.dumps(server.admin_password()))
        assert browser.wait_for("!location.pathname.startsWith('/login')", timeout=60), "the login form refused"
        browser.navigate(f"{superset['url']}/superset/dashboard/qpan/?standalone=1")
        drawn = browser.wait_for("document.querySelectorAll('canvas').length >= 3 && "
                                 "document.querySelectorAll('table tbody tr').length > 0 && "
                                 "document.body.innerText.includes('tổ chức 3 cuộc diễn tập')", timeout=150)
        time.sleep(2)  # the ECharts animations end
        state = json.loads(browser.evaluate(CHECK))
        shot = tmp_path / "superset-dashboard.png"
        browser.screenshot(shot)
    finally:
        browser.close()
    TIMINGS["chromium"] = time.monotonic() - started
    assert drawn, state
    # three ECharts canvases (heat map, awards, quality) and two tables with rows, nothing empty or failed
    assert state["canvases"] >= 3 and state["tableRows"] >= 2, state
    assert state["noResults"] == 0 and state["errors"] == 0 and state["titles"] and state["evidence"], state
    assert shot.stat().st_size > 60_000  # a drawn page, not a blank one
    if settings.get("QPAN_UPDATE_DOCS"):
        shutil.copyfile(shot, DOCS_SHOT)

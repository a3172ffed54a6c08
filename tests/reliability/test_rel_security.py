"""Security and configuration: bad configuration refused at start with file, line and reason;
the fetcher refuses redirects off the allow-list, to private/loopback addresses and to other
schemes (quarantined and logged); hostile RSS is not expanded; least-privilege roles; passwords
in no log, Data Docs or tracked file; the embedded Postgres on 127.0.0.1 only.

Already proven elsewhere and not repeated: registry errors with file:line (tests/scrapers/
test_registry.py), off-site redirect / loop and private or non-http URLs without opt-in
(tests/scrapers/test_crawl.py), the analyst reading marts only and writing nothing
(tests/warehouse/test_warehouse.py::test_analyst_reads_marts_only_and_writes_nothing)."""
from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import errors

from qpan.core import config, db
from qpan.landing.store import PostgresStore
from helpers.relutil import secrets_of_every_role, src, write_registry
from scrapers.crawl import crawl_source
from scrapers.registry import load_registry

REPO = Path(__file__).resolve().parents[2]


# -- configuration errors --------------------------------------------------------------------
def _qpan(capsys, *argv) -> tuple[int, str]:
    from qpan.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refuses a malformed argument before anything runs
        code = exc.code
    return code, capsys.readouterr().err


def test_malformed_date_window_is_refused_at_start(capsys, tmp_path):
    code, err = _qpan(capsys, "scrape", "--sources", str(tmp_path / "never-read.yml"), "--since", "2023-13-01")
    assert code == 2 and "--since" in err and "not a date YYYY-MM-DD: '2023-13-01'" in err
    reg = write_registry(tmp_path)
    code, err = _qpan(capsys, "scrape", "--sources", str(reg), "--since", "2023-12-31", "--until", "2023-01-01")
    assert code == 2 and "--since is after --until" in err
    from qpan.ingest.crawl import _parse_day  # the DAG's path (the window comes from the DAG run's conf)

    with pytest.raises(ValueError, match="malformed date '2023-13-01': expected YYYY-MM-DD"):
        _parse_day("2023-13-01")


@pytest.mark.parametrize("edit,line,reason", [
    (("template: thanhhoa_portal", "template: sharepoint"), 18, "unknown template 'sharepoint'"),
    (("name: rel_ngoclac", "name: rel_thoxuan"), 28, "duplicate source name 'rel_thoxuan'"),
    (('base_url: "http://127.0.0.3:', 'base_url: "http://evil.example.com:'), 30, "outside the allow-list"),
])
def test_registry_errors_through_the_cli_name_file_line_and_reason(capsys, tmp_path, edit, line, reason):
    path = write_registry(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace(*edit, 1), encoding="utf-8")
    code, err = _qpan(capsys, "scrape", "--sources", str(path))
    assert code == 2
    assert f"{path}:{line}: " in err and reason in err


# -- the fetcher's refusals -----------------------------------------------------------------
HOST = "qpan-rel.thanhhoa.gov.vn"
REGISTRY = f"""user_agent: "qpan-scraper/0.1 (+https://example.org/contact)"
allowed_hosts: ["*.thanhhoa.gov.vn", "127.0.0.3"]
sources:
  - name: relsec_portal
    template: thanhhoa_portal
    base_url: https://{HOST}/
    unit_id: "38.389"
    politeness: {{delay: 0, retries: 0, timeout: 2}}
    discovery:
      list_pages: [{{url: /portal/KenhTin/A.aspx}}]
"""
TARGETS = {  # article path -> where it redirects, and the reason logged
    "/portal/Pages/2023-1-1/to-file-aaaaaaaaaaaa.aspx": ("file:///etc/passwd", "scheme 'file' refused"),
    "/portal/Pages/2023-1-1/to-ftp-bbbbbbbbbbbb.aspx": ("ftp://qpan-rel.thanhhoa.gov.vn/x", "scheme 'ftp' refused"),
    "/portal/Pages/2023-1-1/to-loopback-cccccc.aspx": ("http://127.0.0.3/admin", "private/loopback"),
    "/portal/Pages/2023-1-1/to-metadata-ddddddd.aspx": ("http://169.254.169.254/latest/meta-data/",
                                                        "outside the allow-list"),
    "/portal/Pages/2023-1-1/to-offsite-eeeeeeee.aspx": ("https://evil.example.com/x", "outside the allow-list"),
}


def test_redirects_to_other_schemes_private_addresses_and_other_hosts_are_refused_and_logged(
        tmp_path, scratch_db, caplog):
    from scrapers.fetch import Fetcher

    path = tmp_path / "s.yml"
    path.write_text(REGISTRY, encoding="utf-8")
    reg = load_registry(path)
    source = reg.get("relsec_portal")
    asked: list[str] = []
    listing = "".join(f'<div class="news-item"><a class="news-title" href="{p}">Tin quốc phòng an ninh {i}</a></div>'
                      for i, p in enumerate(TARGETS))

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host != HOST:
            return httpx.Response(200, text="must never be asked")
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        if request.url.path == "/portal/KenhTin/A.aspx":
            return httpx.Response(200, html=f'<html><body><div class="news-list">{listing}</div></body></html>')
        return httpx.Response(302, headers={"Location": TARGETS[request.url.path][0]})

    with scratch_db(), PostgresStore() as store, Fetcher(reg, store) as fetcher:
        fetcher._clients[False] = httpx.Client(transport=httpx.MockTransport(handler), follow_redirects=False)
        with caplog.at_level(logging.WARNING):
            st = crawl_source(source, store, registry=reg, fetcher=fetcher)
        rows = store.conn.execute("select url, reason, detail from raw.quarantine where source = %s",
                                  (source.name,)).fetchall()
    assert all(httpx.URL(u).host == HOST for u in asked)  # nothing off the allow-list was ever requested
    by_path = {httpx.URL(u).path: (reason, detail) for u, reason, detail in rows}
    assert set(by_path) == set(TARGETS) and st.articles_new == 0
    for p, (target, why) in TARGETS.items():
        reason, detail = by_path[p]
        assert reason == "redirect refused" and why in detail and target in detail
        assert any(p in r.getMessage() and "redirect refused" in r.getMessage() for r in caplog.records)


def test_hostile_rss_feed_is_quarantined_and_the_rest_of_the_source_lands(portal, tmp_path, scratch_db):
    from test_rel_bad_input import BILLION_LAUGHS

    reg = load_registry(write_registry(tmp_path, prefix="relrss"))
    s = src(reg, "baothanhhoa")
    portal.put("baothanhhoa", "/rss/thoi-su.xml", BILLION_LAUGHS)
    with scratch_db(), PostgresStore() as store:
        st = crawl_source(s, store, registry=reg)
        reasons = [r[0] for r in store.conn.execute("select reason from raw.quarantine where source = %s "
                                                    "and url like %s", (s.name, "%/rss/thoi-su.xml"))]
        titles = [r[0] for r in store.conn.execute("select title from raw.articles where source = %s", (s.name,))]
    assert reasons == ["rss not parseable"] and not st.failed
    assert titles and not any("lol" in t for t in titles)  # the list pages still land the articles


# -- least privilege ----------------------------------------------------------------------------
def _as(role: str, url_db: str):
    dbname = url_db.rsplit("/", 1)[1]
    return psycopg.connect(config.database_url(role, dbname=dbname), autocommit=True, connect_timeout=10)


REFUSED = {
    "qpan_loader": ["create table marts.mine (x int)", "create table staging.mine (x int)",
                    "create table marts_candidate.mine (x int)", "create view intermediate.v as select 1",
                    "select * from marts.probe", "alter table marts.probe add column y int",
                    "drop table marts.probe", "alter schema marts rename to gone", "create schema mine"],
    "qpan_transformer": ["insert into raw.articles (source, url, title, body_text, content_hash) values ('x','x','x','x','x')",
                         "update raw.articles set title = 'x'", "delete from raw.pages", "truncate raw.quarantine",
                         "create table raw.mine (x int)", "alter table raw.articles add column y int",
                         "drop table raw.pages"],
    "qpan_analyst": ["create temp table t (x int)", "create schema mine", "create table marts.mine (x int)",
                     "select * from raw.pages limit 1", "insert into audit.publish_log (run_id, published) values ('x', true)",
                     "update marts.probe set x = 2", "select * from marts_candidate.probe"],
}


def test_roles_are_least_privilege(scratch_db):
    with scratch_db() as url:
        with _as("qpan_transformer", url) as conn:  # the owner of the dbt schemas builds a mart
            conn.execute("create table marts.probe (x int)")
            conn.execute("insert into marts.probe values (1)")
            conn.execute("create table marts_candidate.probe (x int)")
        with db.connect(autocommit=True) as conn:
            db.grant_analyst(conn)
            owners = dict(conn.execute("select nspname, pg_get_userbyid(nspowner) from pg_namespace "
                                       "where nspname = any(%s)", (list(db.DBT_SCHEMAS),)).fetchall())
            assert set(owners.values()) == {"qpan_transformer"}
            creators = conn.execute(
                "select rolname from pg_roles where has_schema_privilege(rolname, 'marts', 'CREATE') "
                "and rolname like 'qpan%%' and not rolsuper order by 1").fetchall()
            assert creators == [("qpan_transformer",)]  # no role but the schema's owner creates in marts
        for role, statements in REFUSED.items():
            with _as(role, url) as conn:
                for statement in statements:
                    with pytest.raises(errors.InsufficientPrivilege):
                        conn.execute(statement)
        with _as("qpan_analyst", url) as conn:
            assert conn.execute("select x from marts.probe").fetchall() == [(1,)]


# -- secrets ---------------------------------------------------------------------------------------
def test_secrets_appear_in_no_log_data_docs_artefact_or_tracked_file(scratch_db, tmp_path_factory):
    """Every generated secret of this worker (its state folder's secrets.json, every Airflow UI
    password file) in nothing the worker wrote so far: the whole state folder and pytest's temporary
    folders, where the tests' Airflow homes and task logs are (tests/leakscan.py; `make test`'s
    --leak-scan scans every worker's again once they are all done)."""
    import leakscan
    from qpan.gate import validate as gate

    with scratch_db():
        try:
            gate.run_landing_gate("rel-secrets")  # builds the GX Data Docs (and validation results)
        except gate.GateFailed:
            pass
    assert gate.data_docs_index().exists()
    roles = secrets_of_every_role()
    assert all(len(pw) >= 12 for pw in roles.values())
    state, temps = config.state_dir(), tmp_path_factory.getbasetemp()
    secrets = {**roles, **leakscan.generated_secrets([state, temps])}
    assert set(roles.values()) <= set(secrets.values())
    places = [gate.data_docs_index().parent, state, temps, REPO / "dbt_project" / "target", REPO / "dbt_project" / "logs"]
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    places += [REPO / p for p in tracked.decode().split("\0") if p]
    assert leakscan.leaks([p for p in places if p.exists()], secrets) == []
    assert "***" in config.redact(config.database_url("qpan_loader"))


def test_the_leak_scan_finds_a_secret_wherever_a_run_writes_it(tmp_path):
    import leakscan

    state, temps = tmp_path / "state", tmp_path / "pytest-temps"
    (state / "pgdata" / "base").mkdir(parents=True)
    home = temps / "airflow0"
    (home / "logs" / "dag_id=qpan_ingest").mkdir(parents=True)
    (state / "secrets.json").write_text(json.dumps({"qpan_loader": "Loader-s3cret-value", "redis": "Redis/s3cret+x"}))
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": "Ui-pass-s3cret"}))
    (home / "logs" / "dag_id=qpan_ingest" / "attempt=1.log").write_text("login admin / Ui-pass-s3cret\n")
    (state / "pgdata" / "server.log").write_text("ALTER ROLE qpan_loader PASSWORD 'Loader-s3cret-value'\n")
    (state / "pgdata" / "base" / "16384").write_bytes(b"\0Loader-s3cret-value\0")  # data files: not logs
    (temps / "broker.txt").write_text("redis://:Redis%2Fs3cret%2Bx@127.0.0.1:6379/0")  # URL-quoted
    found = leakscan.leaks([state, temps], leakscan.generated_secrets([state, temps]))
    assert sorted(line.split(": ", 1)[0].removeprefix(str(tmp_path)) for line in found) == [
        "/pytest-temps/airflow0/logs/dag_id=qpan_ingest/attempt=1.log", "/pytest-temps/broker.txt",
        "/state/pgdata/server.log"]
    assert not any("s3cret" in line for line in found)  # the report names the secret, never shows it
    shutil.rmtree(tmp_path)  # planted for this test only: the final --leak-scan must not find them


# -- network exposure --------------------------------------------------------------------------------
def _listening(port: int) -> list[str]:
    out = []
    for table, _width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, p = fields[1].split(":")
            if fields[3] == "0A" and int(p, 16) == port:
                out.append(addr)
    return out


def test_embedded_postgres_listens_on_loopback_only(warehouse_url):
    ep = config.endpoint()
    with db.connect(autocommit=True) as conn:
        assert conn.execute("show listen_addresses").fetchone()[0] == "127.0.0.1"
    assert _listening(ep.port) == ["0100007F"]  # 127.0.0.1 only: not 0.0.0.0, not ::
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet sent: just picks the outward interface
            own_ip = s.getsockname()[0]
        except OSError:
            own_ip = None
    if own_ip and not own_ip.startswith("127."):
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(host=own_ip, port=ep.port, dbname=ep.dbname, user="qpan_analyst",
                            password=config.role_password("qpan_analyst"), connect_timeout=5)

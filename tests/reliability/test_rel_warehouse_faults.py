"""Warehouse-side faults: Postgres stopped in the middle of a landing batch, a process killed with
SIGKILL mid-run, two ingests of one source at once. After the retry/rerun the raw tables hold
the same rows (business columns: no serial ids, no work timestamps) as an uninterrupted run."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest

from qpan.core import config, pgserver
from qpan.landing.store import PostgresStore
from helpers.net import free_port
from helpers.relutil import RAW_BUSINESS, raw_checksums, scratch_database, write_registry

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable
NGOCLAC_ARTICLES = 3


def checksums_of(url: str) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        return raw_checksums(conn)


@pytest.fixture()
def own_server(tmp_path, monkeypatch):
    """A throwaway embedded Postgres (its own data folder, port and secrets), so that stopping it
    in the middle of a batch disturbs no other test or helper using the session's server."""
    home = Path(tempfile.mkdtemp(prefix="qpan-rel-"))  # outside pytest's 0700 tmp: the server's user reads it
    home.chmod(0o755)
    monkeypatch.delenv("QPAN_DATABASE_URL", raising=False)
    monkeypatch.setenv("QPAN_HOME", str(home))
    monkeypatch.setenv("QPAN_PG_PORT", str(free_port()))
    for role in (config.ADMIN_ROLE, *config.ROLES):
        monkeypatch.delenv(f"{role.upper()}_PASSWORD", raising=False)
    pgserver.start()
    try:
        yield
    finally:
        monkeypatch.delenv("QPAN_DATABASE_URL", raising=False)
        pgserver.stop()
        shutil.rmtree(home, ignore_errors=True)


def _restart_embedded() -> None:
    """pgserver.start() returns early while QPAN_DATABASE_URL is set: start it without it."""
    url = os.environ.pop("QPAN_DATABASE_URL", None)
    try:
        pgserver.start()
    finally:
        if url:
            os.environ["QPAN_DATABASE_URL"] = url


def test_postgres_stopped_mid_batch_then_task_retried_gives_the_same_rows(own_server, portal, tmp_path, monkeypatch):
    from qpan.ingest.crawl import crawl_one

    reg = write_registry(tmp_path, prefix="pgstop")
    name = "pgstop_ngoclac"
    with scratch_database() as url_a:
        baseline = crawl_one(str(reg), name)
        expected = checksums_of(url_a)
    assert baseline["articles_new"] == NGOCLAC_ARTICLES

    # Stop the server right after the second article's page and validators are saved, before
    # the article itself is: the worst moment (the page is there, the article is not).
    original = PostgresStore.set_validators
    article_saves = []

    def set_validators_then_crash(self, url, etag, last_modified):
        original(self, url, etag, last_modified)
        if "/portal/Pages/" in url:
            article_saves.append(url)
            if len(article_saves) == 2:
                pgserver.stop()

    with scratch_database() as url_b:
        monkeypatch.setattr(PostgresStore, "set_validators", set_validators_then_crash)
        with pytest.raises(psycopg.OperationalError):
            crawl_one(str(reg), name)  # the task fails: the server went away mid-batch
        assert not pgserver.is_running()
        _restart_embedded()
        monkeypatch.setattr(PostgresStore, "set_validators", original)
        with psycopg.connect(url_b, autocommit=True) as conn:
            landed = conn.execute("select count(*) from raw.articles").fetchone()[0]
        assert landed == 1  # what was committed before the stop survived it
        retried = crawl_one(str(reg), name)  # the task's retry
        assert retried["articles_new"] == NGOCLAC_ARTICLES - 1
        assert checksums_of(url_b) == expected  # same rows as the uninterrupted run; lost = 0


def _run_killed(cmd: list[str], env: dict, url: str, ready_sql: str, at_least: int, timeout: float = 120) -> bool:
    """Start cmd, SIGKILL it once `ready_sql` counts at least `at_least` rows. True if it was
    killed mid-run (False: it finished first, which a loaded machine may cause)."""
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            while proc.poll() is None and time.monotonic() < deadline:
                if conn.execute(ready_sql).fetchone()[0] >= at_least:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(30)
                    return proc.returncode == -signal.SIGKILL
                time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    return False


def _qpan(*args: str) -> list[str]:
    return [PY, "-m", "qpan.cli", *args]


def test_scrape_killed_with_sigkill_then_rerun_gives_the_same_rows(scratch_db, portal, tmp_path):
    portal.latency = 0.05  # a little slower, so that the kill lands mid-run
    reg = write_registry(tmp_path, prefix="sigkill")
    env = dict(os.environ)
    with scratch_db() as url_a:
        env["QPAN_DATABASE_URL"] = url_a
        done = subprocess.run(_qpan("scrape", "--sources", str(reg)), env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        expected = checksums_of(url_a)
    assert expected["raw.articles"][0] == 13  # the sample's 13 articles (3 post-reform ones since issue 29)
    with scratch_db() as url_b:
        env["QPAN_DATABASE_URL"] = url_b
        killed = _run_killed(_qpan("scrape", "--sources", str(reg)), env, url_b,
                             "select count(*) from raw.articles", at_least=2)
        with psycopg.connect(url_b, autocommit=True) as conn:
            partial = conn.execute("select count(*) from raw.articles").fetchone()[0]
        rerun = subprocess.run(_qpan("scrape", "--sources", str(reg)), env=env, cwd=REPO, capture_output=True,
                               text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert checksums_of(url_b) == expected  # lost = 0, duplicated = 0
    assert killed and partial < 10, "the scrape finished before it could be killed"


ARTICLE = ("Sáng 20/12, huyện Thọ Xuân tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm 2023. "
           "Huyện đã giao {n} công dân nhập ngũ, đạt 100% chỉ tiêu; tổ chức {d} cuộc diễn tập; "
           "khen thưởng {k} tập thể và 12 cá nhân. Công an huyện phát hiện {c} vụ phạm tội. ")


def _seed_articles(url: str, n: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.executemany(
                "insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id) "
                "values ('sigkill_extract', %s, %s, '2023-12-20T09:00:00+07:00', %s, md5(%s), '38.395')",
                [(f"https://example.test/a{i}", f"Thọ Xuân tổng kết công tác QP-AN năm 2023 ({i})",
                  ARTICLE.format(n=200 + i, d=1 + i % 5, k=3 + i % 7, c=10 + i) * 6, str(i)) for i in range(n)])


def test_extract_killed_with_sigkill_then_rerun_gives_the_same_facts(scratch_db):
    n = 400
    code = "from qpan.ingest.extraction import extract_pending; extract_pending()"
    env = dict(os.environ)
    with scratch_db() as url_a:
        _seed_articles(url_a, n)
        env["QPAN_DATABASE_URL"] = url_a
        subprocess.run([PY, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, timeout=600)
        expected = checksums_of(url_a)
    assert expected["raw.article_extractions"][0] == n and expected["raw.indicator_mentions"][0] >= n
    with scratch_db() as url_b:
        _seed_articles(url_b, n)
        env["QPAN_DATABASE_URL"] = url_b
        # killed as soon as the first facts are committed (mid-run unless one transaction holds all)
        killed = _run_killed([PY, "-c", code], env, url_b, "select count(*) from raw.article_extractions", 1)
        subprocess.run([PY, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, timeout=600)
        assert checksums_of(url_b) == expected
    assert killed, "the extraction finished before it could be killed"


def test_two_ingests_of_one_source_at_once_serialise_without_duplicates(scratch_db, portal, tmp_path):
    from qpan.ingest.crawl import crawl_one

    reg = write_registry(tmp_path, prefix="twice")
    name = "twice_ngoclac"
    results: list[dict] = []
    errors: list[BaseException] = []

    def run():
        try:
            results.append(crawl_one(str(reg), name))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with scratch_db() as url:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        assert not any(t.is_alive() for t in threads), "deadlock: an ingest never finished"
        assert not errors, errors
        # the advisory lock serialised them: one landed everything, the other found it landed
        assert sorted(r["articles_new"] for r in results) == [0, NGOCLAC_ARTICLES]
        assert max(r["skipped_known"] for r in results) >= 1
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("select count(*), count(distinct url) from raw.articles").fetchone() == (3, 3)
            assert conn.execute("select count(*) - count(distinct (url, sha256)) from raw.pages").fetchone()[0] == 0
            dupes = conn.execute("select count(*) - count(distinct (stage, url, reason)) from raw.quarantine")
            assert dupes.fetchone()[0] == 0
            assert conn.execute("select count(*) from pg_locks where locktype = 'advisory' "
                                "and database = (select oid from pg_database where datname = current_database())").fetchone()[0] == 0
    # the server's request log: the two crawls of the one host did not interleave
    reqs = portal.requests_to("ngoclac")
    robots = sorted(r["start"] for r in reqs if r["path"] == "/robots.txt")
    assert len(robots) == 2  # each run read robots.txt once
    assert all(r["end"] <= robots[1] for r in reqs if r["start"] < robots[1])


def test_checksum_rule_covers_every_raw_table(scratch_db):
    with scratch_db() as url:
        sums = checksums_of(url)
    assert set(sums) == set(RAW_BUSINESS)

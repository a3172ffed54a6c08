"""Write-audit-publish with real dbt and real GX: a clean build publishes; a candidate that breaks
an expectation fails, leaves the published marts byte-for-byte unchanged and is recorded in
audit.validation_results; a single bad article is quarantined while the rest publishes."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from psycopg.types.json import Jsonb

from qpan.gate import validate as gate
from qpan.gate import publish
from qpan.transform import warehouse

pytestmark = pytest.mark.slow

BODY = ("Năm 2023, huyện đã hoàn thành tốt nhiệm vụ giao quân với {n} thanh niên, đạt 100% chỉ tiêu giao. "
        "Công tác quốc phòng - an ninh được giữ vững, trật tự an toàn xã hội được bảo đảm. ") * 3


def add_article(conn, url: str, unit_id: str, published: datetime) -> int:
    return conn.execute(
        """insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id)
           values ('test_portal', %s, 'Hội nghị tổng kết công tác quốc phòng - an ninh năm 2023', %s, %s, md5(%s), %s)
           returning article_id""",
        (url, published, BODY.format(n=226) + url, url, unit_id),
    ).fetchone()[0]


def add_fact(conn, article_id: int, indicator: str, value: float, unit_id: str, period: str = "2023",
             value_type: str = "number") -> None:
    evidence = f"{indicator} {value}"
    conn.execute(
        """insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type,
               comparator, unit_id, period, qualifiers, evidence, span_start, span_end)
           values (%s, 'test', %s, %s, %s, '=', %s, %s, %s, %s, 0, %s)""",
        (article_id, indicator, value, value_type, unit_id, period, Jsonb({}), evidence, len(evidence)),
    )


def marts_checksums(conn) -> dict[str, str]:
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
    return {t: conn.execute(f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                            f"from marts.{t} t").fetchone()[0] for t in tables}


def run_pipeline(run_id: str) -> None:
    gate.run_landing_gate(run_id)
    warehouse.build()
    gate.run_candidate_gate(run_id)
    publish.publish(run_id)


@pytest.fixture(scope="module")
def published(warehouse_url):
    from qpan.core import db

    with db.connect() as conn:
        conn.autocommit = True
        a1 = add_article(conn, "http://portal.test/a1", "38.395", datetime(2023, 12, 18, 8, tzinfo=timezone.utc))
        add_fact(conn, a1, "recruits_enlisted", 226, "38.395")
        add_fact(conn, a1, "recruitment_quota_pct", 100, "38.395")
        add_fact(conn, a1, "recruitment_quota_met", 1, "38.395", value_type="boolean")
        a2 = add_article(conn, "http://portal.test/a2", "38.389", datetime(2023, 12, 20, 8, tzinfo=timezone.utc))
        add_fact(conn, a2, "awarded_collectives", 14, "38.389")
    run_pipeline("clean-run")
    return warehouse_url


def test_clean_run_publishes(published, admin_conn):
    n = admin_conn.execute("select count(*) from marts.fct_indicator_facts").fetchone()[0]
    assert n == 4
    ok = admin_conn.execute("select published from audit.publish_log where run_id = 'clean-run'").fetchone()
    assert ok == (True,)


@pytest.mark.parametrize("indicator,value", [("recruits_enlisted", -5), ("recruitment_quota_pct", 350)])
def test_breaking_candidate_fails_and_leaves_marts_untouched(published, admin_conn, indicator, value):
    before = marts_checksums(admin_conn)
    a3 = add_article(admin_conn, f"http://portal.test/bad-{indicator}", "38.397",
                     datetime(2023, 12, 21, tzinfo=timezone.utc))
    add_fact(admin_conn, a3, indicator, value, "38.397")
    run_id = f"bad-{indicator}"
    try:
        with pytest.raises(gate.GateFailed):
            run_pipeline(run_id)
        assert marts_checksums(admin_conn) == before
        failed = admin_conn.execute(
            "select count(*) from audit.validation_results where run_id = %s and not success", (run_id,)
        ).fetchone()[0]
        assert failed >= 1
        refused = admin_conn.execute("select published from audit.publish_log where run_id = %s", (run_id,)).fetchone()
        assert refused == (False,)
    finally:
        admin_conn.execute("delete from raw.articles where article_id = %s", (a3,))


def test_single_bad_article_is_quarantined_and_the_rest_publishes(published, admin_conn):
    future = add_article(admin_conn, "http://portal.test/from-the-future", "38.400",
                         datetime(2099, 1, 1, tzinfo=timezone.utc))
    add_fact(admin_conn, future, "recruits_enlisted", 300, "38.400")
    good = add_article(admin_conn, "http://portal.test/good", "38.401", datetime(2023, 12, 22, tzinfo=timezone.utc))
    add_fact(admin_conn, good, "recruits_enlisted", 180, "38.401")
    run_pipeline("one-bad-article")
    reasons = admin_conn.execute(
        "select reason from raw.quarantine where url = 'http://portal.test/from-the-future' and resolved_at is null"
    ).fetchall()
    assert reasons == [("published_at out of range",)]
    units = {r[0] for r in admin_conn.execute("select unit_id from marts.fct_indicator_facts").fetchall()}
    assert "38.401" in units
    assert "38.400" not in units


def test_unknown_unit_is_quarantined_not_fatal(published, admin_conn):
    art = add_article(admin_conn, "http://portal.test/unknown-unit", "38.402", datetime(2023, 12, 23, tzinfo=timezone.utc))
    add_fact(admin_conn, art, "drills_held", 2, "99.999")
    run_pipeline("unknown-unit")
    reason = admin_conn.execute(
        "select reason from raw.quarantine where url like 'http://portal.test/unknown-unit#mention-%'").fetchall()
    assert reason == [("unknown unit_id",)]
    units = {r[0] for r in admin_conn.execute("select unit_id from marts.fct_indicator_facts").fetchall()}
    assert "99.999" not in units


def _rows(conn, table: str, key: str) -> dict:
    # when dbt computed a row is not what the row says
    volatile = {"processed_at", "last_processed_at", "consolidated_at", "load_watermark"}
    cur = conn.execute(f"select * from {table}")
    cols = [d.name for d in cur.description]
    return {row[cols.index(key)]: {c: v for c, v in zip(cols, row) if c not in volatile} for row in cur.fetchall()}


def test_previous_marts_come_back_as_a_private_candidate_that_catches_up(published, admin_conn):
    """publish hands the previous marts back as the next candidate (the big marts are incremental):
    after the runs above (each a swap), the published marts equal a full rebuild from raw, and
    the analyst cannot read the candidate they inherited rights on."""
    import psycopg
    from psycopg import errors

    from qpan.core import config

    late = add_article(admin_conn, "http://portal.test/late", "38.403", datetime(2023, 12, 24, tzinfo=timezone.utc))
    add_fact(admin_conn, late, "drills_held", 3, "38.403")
    run_pipeline("catch-up")
    assert admin_conn.execute("select count(*) from marts_candidate.fct_indicator_facts").fetchone()[0] > 0
    with psycopg.connect(config.database_url("qpan_analyst"), autocommit=True, connect_timeout=10) as analyst:
        assert analyst.execute("select count(*) from marts.fct_indicator_facts").fetchone()[0] > 0
        with pytest.raises(errors.InsufficientPrivilege):
            analyst.execute("select * from marts_candidate.fct_indicator_facts limit 1")

    warehouse.build(full_refresh=True, marts_schema="marts_check")
    try:
        for table, key in (("fct_indicator_facts", "fact_id"), ("fct_indicator_mentions", "mention_id")):
            published_rows = _rows(admin_conn, f"marts.{table}", key)
            assert published_rows == _rows(admin_conn, f"marts_check.{table}", key), table
        units = {r[0] for r in admin_conn.execute("select unit_id from marts.fct_indicator_facts").fetchall()}
        assert "38.403" in units and "38.397" not in units  # the late article in, the deleted bad ones out
    finally:
        admin_conn.execute("drop schema if exists marts_check cascade")


def test_same_article_under_two_urls_fails_the_landing_gate(published, admin_conn):
    """The sample served on two ports (or a tracking parameter) lands one article twice: the
    landing gate's duplicate expectation names it, and nothing is published from such a load."""
    ids = []
    for port in (8765, 57442):
        ids.append(admin_conn.execute(
            """insert into raw.articles (source, url, title, published_at, body_text, content_hash, source_unit_id)
               values ('sample_thoxuan', %s, 'Thọ Xuân tổng kết công tác quốc phòng năm 2023', %s, %s, md5(%s),
                       '38.395') returning article_id""",
            (f"http://127.0.0.2:{port}/tin/tong-ket-2023.html", datetime(2023, 12, 25, tzinfo=timezone.utc),
             BODY.format(n=180), BODY.format(n=180))).fetchone()[0])
    try:
        with pytest.raises(gate.GateFailed, match="landing__duplicate_articles"):
            gate.run_landing_gate("duplicates")
        failed = admin_conn.execute(
            "select observed_value from audit.validation_results where run_id = 'duplicates' "
            "and suite = 'landing__duplicate_articles' and not success").fetchall()
        assert failed == [("1",)]
    finally:
        admin_conn.execute("delete from raw.articles where article_id = any(%s)", (ids,))
    gate.run_landing_gate("duplicates-gone")  # one URL per article again: passes


def test_readers_never_see_an_error_during_publishes(published, admin_conn):
    """Issue 32: the analyst's rights travel with the candidate, inside the swap's transaction, so
    4 analyst sessions running the README's queries and the Superset dashboard's chart queries in a
    loop through 6 swaps see no error (before, "permission denied for schema marts" in the moment
    between the swap and the grant)."""
    from bench.publish_load import Readers, reader_queries

    from qpan.core import config

    with Readers(config.database_url("qpan_analyst"), reader_queries(), 4) as readers:
        time.sleep(0.3)
        for i in range(6):
            publish.publish(f"readers-{i}")  # back and forth: the candidate is the previous marts
            time.sleep(0.1)
    summary = readers.summary()
    assert summary["errors"] == 0, summary["error_kinds"]
    assert summary["queries"] > 20 and summary["by_kind"]["dashboard"]["queries"] > 0


def test_a_publish_waits_for_its_locks_only_so_long(published, admin_conn, monkeypatch):
    """The swap's lock wait is bounded (lock_timeout, retried with back-off), never unbounded
    behind another session; the published marts stay as they were when it gives up."""
    import psycopg

    from qpan.core import config

    monkeypatch.setenv("QPAN_PUBLISH_LOCK_TIMEOUT", "0.2")
    monkeypatch.setenv("QPAN_PUBLISH_ATTEMPTS", "2")
    before = marts_checksums(admin_conn)
    with psycopg.connect(config.database_url(), autocommit=True) as other:
        other.execute("select pg_advisory_lock(hashtext('qpan.publish'))")  # another publish, stuck
        started = time.monotonic()
        with pytest.raises(publish.PublishLockTimeout, match="2 attempts of 0.2s"):
            publish.publish("blocked")
        assert time.monotonic() - started < 5
    assert marts_checksums(admin_conn) == before


def test_a_long_reader_does_not_hold_up_the_swap(published, admin_conn, monkeypatch):
    """A reader in the middle of a long export (an open transaction holding its table locks) does
    not delay the swap, which renames schemas and grants, locking no mart table; the reader's
    next statement reads the new marts, with its rights."""
    import psycopg

    from qpan.core import config

    monkeypatch.setenv("QPAN_PUBLISH_LOCK_TIMEOUT", "0.5")
    monkeypatch.setenv("QPAN_PUBLISH_ATTEMPTS", "1")
    with psycopg.connect(config.database_url("qpan_analyst")) as reader:  # not autocommit: locks stay held
        n = reader.execute("select count(*) from marts.fct_indicator_facts").fetchone()[0]
        started = time.monotonic()
        publish.publish("long-reader")
        assert time.monotonic() - started < 5
        assert reader.execute("select count(*) from marts.fct_indicator_facts").fetchone()[0] >= 0
        reader.rollback()
    assert n > 0

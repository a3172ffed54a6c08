"""Backups that are proven by restoring them (issue 32): the qpan_backup DAG, run once through
Airflow, writes a pg_dump of raw, review and audit with its manifest; `qpan backup --verify`
restores it into a scratch database; `qpan restore` into a fresh warehouse (refused on one that
holds data, unless --force) followed by a dbt build gives marts identical to the original's."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from qpan.orchestration import backup
from qpan.core import db
from qpan.transform import warehouse
from qpan.cli import main
from qpan.orchestration.run import run_dags

from helpers import review_data as data

pytestmark = pytest.mark.slow
# marts rebuilt from raw: what a restore must reproduce (dbt's data tests ran in the DAG tests)
BUILD = ["build", "--exclude", "resource_type:test"]


# the time dbt built a row (current_timestamp in the models): not data
BUILD_TIMES = ("consolidated_at", "processed_at")


def marts_checksums(conn) -> dict[str, str]:
    """Every published mart, every column but the build times: count and md5 of its rows."""
    out = {}
    for (table,) in conn.execute("select table_name from information_schema.tables where table_schema = 'marts' "
                                 "and table_type = 'BASE TABLE' order by 1").fetchall():
        cols = [r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = %s "
            "and column_name <> all(%s) order by ordinal_position", (table, list(BUILD_TIMES))).fetchall()]
        select = ", ".join(f'"{c}"' for c in cols)
        out[table] = conn.execute(f"select count(*) || ':' || md5(coalesce(string_agg(r::text, '|' order by "
                                  f"r::text), '')) from (select {select} from marts.{table}) r").fetchone()[0]
    return out


@pytest.fixture(scope="module")
def original(warehouse_url, airflow_home, tmp_path_factory):
    """A warehouse with pages, articles, facts, a review decision and marts; backed up by the DAG."""
    with db.connect(autocommit=True) as conn:
        data.load(conn)
        now = datetime(2026, 12, 1, tzinfo=timezone.utc)
        for art in data.ARTICLES.values():
            conn.execute("insert into raw.pages (source, url, status, body, sha256, fetched_at, last_seen_at) "
                         "values (%s, %s, 200, %s, md5(%s), %s, %s)",
                         (art["source"], art["url"], art["body"].encode(), art["url"], now, now))
    key = data.key("ngoclac", "drills_held", "tổ chức 3 cuộc diễn tập")
    assert main(["review", "correct", key, "--value", "4", "--note", "four drills in the table"]) == 0
    warehouse.run_dbt(BUILD, marts_schema="marts")
    with db.connect() as conn:
        marts = marts_checksums(conn)
        raw = backup.table_facts(conn)
    folder = tmp_path_factory.mktemp("backups")
    (folder / "qpan-20000101T000000Z.dump").write_bytes(b"old")  # an old one, beyond QPAN_BACKUP_KEEP
    run_dags([("qpan_backup", None)], {"QPAN_BACKUP_DIR": str(folder), "QPAN_BACKUP_KEEP": "1"})
    dumps = sorted(folder.glob("*.dump"))
    return {"dumps": dumps, "marts": marts, "tables": raw}


def test_the_backup_dag_writes_a_dump_with_its_manifest_and_keeps_the_newest(original):
    [dump] = original["dumps"]  # the old one pruned (QPAN_BACKUP_KEEP=1)
    manifest = json.loads(backup.manifest_path(dump).read_text())
    assert manifest["tables"] == original["tables"]
    assert manifest["tables"]["raw.pages"]["rows"] == 3 and manifest["tables"]["review.decisions"]["rows"] == 1
    assert manifest["bytes"] == dump.stat().st_size and len(manifest["sha256"]) == 64
    assert manifest["extractor_version"] and manifest["layout_version"]


def test_verify_restores_into_a_scratch_database_and_finds_damage(original, tmp_path, capsys):
    [dump] = original["dumps"]
    assert main(["backup", "--verify", str(dump)]) == 0
    assert "verified" in capsys.readouterr().out
    damaged = tmp_path / dump.name
    damaged.write_bytes(dump.read_bytes()[:-10] + b"0123456789")
    backup.manifest_path(damaged).write_text(backup.manifest_path(dump).read_text())
    assert main(["backup", "--verify", str(damaged)]) == 1
    assert "does not match its manifest" in capsys.readouterr().err


def test_restore_into_a_fresh_warehouse_gives_identical_marts(original, warehouse_factory, capsys):
    [dump] = original["dumps"]
    with warehouse_factory():
        assert main(["restore", str(dump)]) == 0
        assert main(["restore", str(dump)]) == 1  # it holds data now
        assert "not empty" in capsys.readouterr().err
        assert main(["restore", str(dump), "--force"]) == 0
        warehouse.run_dbt(BUILD, marts_schema="marts")
        with db.connect() as conn:
            assert backup.table_facts(conn) == original["tables"]
            assert marts_checksums(conn) == original["marts"]
            assert conn.execute("select count(*) from marts.fct_indicator_facts where review_status = 'corrected'"
                                ).fetchone()[0] == 1

"""Backup and restore at a benchmark tier (issue 32): `qpan backup`, `qpan backup --verify` and
`qpan restore` timed on N generated portal pages (raw.pages with their HTML, raw.articles as the
parsers read them, the generated facts as raw.indicator_mentions), against a named alternative
measured in the same run: `pg_dump --format=plain` of the same schemas (size and time).

    python -m bench.backup_tier --n 100000

Runs in its own databases (qpan_bench_backup, and qpan_bench_restore for the restore), dropped
at the end. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SOURCE_DB, RESTORE_DB = "qpan_bench_backup", "qpan_bench_restore"


def _use(dbname: str) -> None:
    from qpan.core import config

    os.environ["QPAN_DATABASE_URL"] = config.database_url(config.ADMIN_ROLE, dbname=dbname)


def _land(n: int) -> dict:
    """N generated pages into raw.pages, their parsed articles (qpan.landing.bulk) and facts (COPY)."""
    from bench.corpus import iter_corpus, parse_page
    from qpan.core import db
    from qpan.landing.bulk import article_row, bulk_load_articles

    started = time.monotonic()
    now = datetime.now(timezone.utc)
    pages, articles, facts = [], [], []
    with db.connect(autocommit=True) as conn:
        for page in iter_corpus(n):
            body = page.html.encode("utf-8")
            pages.append((page.source, page.url, 200, body, hashlib.sha256(body).hexdigest(), now, now))
            articles.append(article_row(parse_page(page)))
            for i, g in enumerate(page.gold):
                facts.append((page.url, g["indicator"], float(g["value"]), g["unit_id"], g["period"], i))
            if len(pages) >= 5000:
                _flush(conn, pages, articles, facts, bulk_load_articles)
        _flush(conn, pages, articles, facts, bulk_load_articles)
        conn.execute("analyze")
    return {"land_seconds": round(time.monotonic() - started, 1)}


def _flush(conn, pages, articles, facts, bulk_load_articles) -> None:
    from qpan.extract import EXTRACTOR_VERSION

    with conn.cursor().copy("copy raw.pages (source, url, status, body, sha256, fetched_at, last_seen_at) "
                            "from stdin") as copy:
        for row in pages:
            copy.write_row(row)
    bulk_load_articles(conn, articles)
    conn.execute("create temp table if not exists f (url text, indicator text, value numeric, unit_id text, "
                 "period text, i int)")
    with conn.cursor().copy("copy f from stdin") as copy:
        for row in facts:
            copy.write_row(row)
    conn.execute("""insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type,
                        comparator, unit_id, period, qualifiers, evidence, span_start, span_end, confidence)
                    select a.article_id, %s, f.indicator, f.value, 'number', '=', f.unit_id, f.period, '{}',
                           '(synthetic fact ' || f.i || ')', f.i, f.i + 1, 0.9
                    from f join raw.articles a using (url) on conflict do nothing""", (EXTRACTOR_VERSION,))
    conn.execute("truncate f")
    pages.clear()
    articles.clear()
    facts.clear()


def run(n: int) -> dict:
    from qpan.orchestration import backup
    from qpan.core import config, db, pgserver

    os.environ.pop("QPAN_DATABASE_URL", None)
    pgserver.start()
    out: dict = {"n": n}
    folder = Path(tempfile.mkdtemp(prefix="qpan-bench-backup-"))
    try:
        _use(SOURCE_DB)
        db.migrate()
        out.update(_land(n))
        with db.connect() as conn:
            out["raw_bytes_in_db"] = conn.execute(
                "select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace s on s.oid = c.relnamespace "
                "where s.nspname in ('raw', 'review', 'audit') and c.relkind = 'r'").fetchone()[0]
        started = time.monotonic()
        dump = backup.backup(folder)
        out["backup_seconds"] = round(time.monotonic() - started, 1)
        out["backup_bytes"] = dump.stat().st_size
        out["rows"] = sum(t["rows"] for t in backup.read_manifest(dump)["tables"].values())
        # the alternative: a plain SQL dump of the same schemas
        started = time.monotonic()
        plain = folder / "plain.sql"
        subprocess.run([backup.pg_tool("pg_dump"), "--format=plain", "--schema=raw", "--schema=review",
                        "--schema=audit", f"--file={plain}", "--dbname", config.database_url()], check=True)
        out["plain_dump_seconds"] = round(time.monotonic() - started, 1)
        out["plain_dump_bytes"] = plain.stat().st_size
        plain.unlink()
        out["verify"] = backup.verify(dump)
        _use(RESTORE_DB)
        db.migrate()
        out["restore"] = backup.restore(dump)
    finally:
        os.environ.pop("QPAN_DATABASE_URL", None)
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            for name in (SOURCE_DB, RESTORE_DB):
                conn.execute(f'drop database if exists "{name}" with (force)')
        for f in folder.glob("*"):
            f.unlink()
        folder.rmdir()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100000)
    a = ap.parse_args(argv)
    print(json.dumps(run(a.n), indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

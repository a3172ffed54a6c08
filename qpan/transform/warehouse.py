"""The dbt warehouse: build the models, the manifest for Airflow (cosmos) and the docs site.

dbt runs as a subprocess (`.venv/bin/dbt`, or `dbt` on PATH) in `dbt_project/`, as the role
`qpan_transformer`, against `config.endpoint()`. Marts are built into `marts_candidate` by
default (write-audit-publish: the quality gate validates that schema, then swaps it into
`marts`); `marts_schema="marts"` builds straight into the published schema (tests, demos).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from qpan.core import config, settings

log = logging.getLogger(__name__)

DBT_PROJECT_DIR = config.REPO_ROOT / "dbt_project"
TRANSFORMER_ROLE = "qpan_transformer"
CANDIDATE_SCHEMA = "marts_candidate"
PUBLISHED_SCHEMA = "marts"


class DbtError(RuntimeError):
    """A dbt command failed; `failures` names the failing nodes (from run_results.json)."""

    def __init__(self, args: list[str], returncode: int, failures: list[str], cause: str | None = None):
        self.args_ = args
        self.returncode = returncode
        self.failures = failures
        detail = "; ".join(failures) if failures else (cause or "see the log above")
        super().__init__(f"dbt {' '.join(args)} failed (exit {returncode}): {detail}")


def target_dir() -> Path:
    """Where dbt writes manifest.json and run_results.json (DBT_TARGET_PATH overrides)."""
    return Path(os.environ.get("DBT_TARGET_PATH", DBT_PROJECT_DIR / "target"))


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    venv = config.REPO_ROOT / ".venv" / "bin" / "dbt"
    if venv.exists():
        return str(venv)
    found = shutil.which("dbt")
    if not found:
        raise DbtError(["--version"], 127, ["dbt is not installed; run `make setup`"])
    return found


def dbt_env(marts_schema: str = CANDIDATE_SCHEMA) -> dict[str, str]:
    """The environment for a dbt subprocess: the connection of the transformer role (from
    qpan.core.config, never from a file), the project and profiles folders and the marts schema."""
    ep = config.endpoint()
    env = dict(os.environ)
    env.update(
        QPAN_DBT_HOST=ep.host,
        QPAN_DBT_PORT=str(ep.port),
        QPAN_DBT_DBNAME=ep.dbname,
        QPAN_DBT_USER=TRANSFORMER_ROLE,
        QPAN_DBT_PASSWORD=config.role_password(TRANSFORMER_ROLE),
        QPAN_MARTS_SCHEMA=marts_schema,
        DBT_PROFILES_DIR=str(DBT_PROJECT_DIR),
        DBT_PROJECT_DIR=str(DBT_PROJECT_DIR),
        DBT_TARGET_PATH=str(target_dir()),
        DBT_LOG_PATH=str(config.state_dir() / "dbt-logs"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    env.setdefault("DBT_USE_COLORS", "false")
    return env


def _failures(path: Path) -> list[str]:
    try:
        results = json.loads((path / "run_results.json").read_text())
    except (OSError, ValueError):
        return []
    failed = []
    for result in results.get("results", []):
        if result.get("status") in ("error", "fail", "runtime error"):
            message = " ".join((result.get("message") or "").split())[:300]
            failed.append(f"{result.get('unique_id')}: {result.get('status')}" + (f" ({message})" if message else ""))
    return failed


def run_dbt(args: list[str], marts_schema: str = CANDIDATE_SCHEMA) -> None:
    """Run `dbt <args>` in dbt_project/, streaming its output to the log.
    Raises DbtError (with the failing nodes) on a non-zero exit."""
    env = dbt_env(marts_schema)
    cmd = [dbt_executable(), *args]
    log.info("running dbt %s (marts schema %s)", " ".join(args), marts_schema)
    started = time.monotonic()
    run_results = target_dir() / "run_results.json"
    run_results.unlink(missing_ok=True)
    proc = subprocess.Popen(cmd, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    cause = None
    for line in proc.stdout:
        log.info("dbt: %s", line.rstrip())
        if _ERROR_LINE.search(line):
            cause = line.strip()
    returncode = proc.wait()
    log.info("dbt %s finished in %.1f s (exit %d)", args[0] if args else "", time.monotonic() - started,
             returncode)
    if returncode != 0:
        raise DbtError(args, returncode, _failures(target_dir()), _short_cause(cause))


# dbt's lines that name why a run stopped (a connection refused, a database error)
_ERROR_LINE = re.compile(r"connection refused|could not connect|connection to server|database error|"
                         r"\berror\b.*:|fatal:", re.IGNORECASE)


def _short_cause(line: str | None) -> str | None:
    if not line:
        return None
    line = re.sub(r"^\S*\d\d:\d\d:\d\d\S*\s+", "", line)  # dbt's timestamp
    return line[:300]


SEED_STATE_TABLE = "seeds.qpan_seed_checksums"


def seed_checksums() -> dict[str, str]:
    """sha256 of each seed CSV, including the seeds' YAML (column types) in every checksum."""
    seeds_dir = DBT_PROJECT_DIR / "seeds"
    config_hash = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(seeds_dir.glob("*.yml")))).hexdigest()
    return {p.stem: hashlib.sha256(p.read_bytes() + config_hash.encode()).hexdigest()
            for p in sorted(seeds_dir.glob("*.csv"))}


def _connect_transformer():
    import psycopg

    return psycopg.connect(config.database_url(TRANSFORMER_ROLE), connect_timeout=10, autocommit=True)


def unchanged_seeds() -> list[str]:
    """Seeds whose table holds the current CSV (checksum recorded after the last successful
    load): `dbt seed` re-inserts 16.5k gazetteer rows in ~10 s, so build() skips them."""
    wanted = seed_checksums()
    try:
        with _connect_transformer() as conn:
            if conn.execute("select to_regclass(%s)", (SEED_STATE_TABLE,)).fetchone()[0] is None:
                return []
            rows = conn.execute(f"select seed, sha256 from {SEED_STATE_TABLE}").fetchall()
            present = {name for name in wanted
                       if conn.execute("select to_regclass(%s)", (f"seeds.{name}",)).fetchone()[0]}
    except Exception as exc:  # no database yet, no table: load everything
        log.info("seed state unknown (%s): loading every seed", exc)
        return []
    loaded = dict(rows)
    return sorted(name for name, digest in wanted.items() if loaded.get(name) == digest and name in present)


def _record_seeds(names: list[str]) -> None:
    digests = seed_checksums()
    with _connect_transformer() as conn:
        conn.execute(f"create table if not exists {SEED_STATE_TABLE} "
                     "(seed text primary key, sha256 text not null, loaded_at timestamptz not null)")
        conn.execute(f"comment on table {SEED_STATE_TABLE} is "
                     "'Checksums of the seed CSVs last loaded by qpan.transform.warehouse.build (lets it skip unchanged seeds).'")
        for name in names:
            conn.execute(f"insert into {SEED_STATE_TABLE} (seed, sha256, loaded_at) values (%s, %s, now()) "
                         "on conflict (seed) do update set sha256 = excluded.sha256, loaded_at = excluded.loaded_at",
                         (name, digests[name]))


# Seeds that every incremental model's rows depend on (unit versions, indicator names).
SEEDS_EVERY_FACT_JOINS = ("admin_units", "indicators")

# Bump when the columns of an incremental model change: a warehouse built by an older qpan is
# then rebuilt in full once (an incremental run cannot read a high-water mark its old table
# does not have). Recorded as a comment on the schemas that hold incremental models, so that it
# travels with the marts through the publish swap (the previous marts come back as candidate).
INCREMENTAL_LAYOUT = "qpan incremental layout 2026-12-07.reviewed-table"


def incremental_layout_is_current(marts_schema: str = CANDIDATE_SCHEMA) -> bool:
    try:
        with _connect_transformer() as conn:
            rows = conn.execute("select nspname, obj_description(oid, 'pg_namespace') from pg_namespace "
                                "where nspname = any(%s)", (["intermediate", marts_schema],)).fetchall()
    except Exception:  # no database yet: a first build is a full one anyway
        return False
    return len(rows) == 2 and all(comment == INCREMENTAL_LAYOUT for _, comment in rows)


def _record_layout(marts_schema: str = CANDIDATE_SCHEMA) -> None:
    from psycopg import sql

    from qpan.core import db

    statements = [sql.SQL("comment on schema {} is {}").format(sql.Identifier(name), sql.Literal(INCREMENTAL_LAYOUT))
                  for name in ("intermediate", marts_schema)]
    try:
        with _connect_transformer() as conn:  # the transformer owns dbt's schemas
            for statement in statements:
                conn.execute(statement)
    except Exception:  # schemas created by another role (a benchmark database): their owner records it
        with db.connect(autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)


def record_loaded_state(marts_schema: str = CANDIDATE_SCHEMA) -> None:
    """Record every seed as loaded and the incremental layout as current, as a successful build
    does: for a caller whose build loaded them and then failed a test (the benchmark), so that
    its next build neither reloads the seeds nor rebuilds the incremental models in full."""
    _record_seeds(sorted(seed_checksums()))
    _record_layout(marts_schema)


def build(full_refresh: bool = False, marts_schema: str = CANDIDATE_SCHEMA, select: str | None = None) -> None:
    """Seed, run and test everything in one `dbt build`. Seeds whose CSV has not changed since
    they were last loaded are left out (and their tests with them); full_refresh reloads them
    and rebuilds the incremental models from raw (same result as incremental), and so does a
    change of the gazetteer or indicator seeds."""
    args = ["build"]
    skipped = [] if full_refresh or select else unchanged_seeds()
    if not full_refresh and not select and set(SEEDS_EVERY_FACT_JOINS) - set(skipped):
        # every incremental row carries gazetteer versions and indicator names: recompute them all
        log.info("seeds %s changed (or first build): incremental models rebuilt in full",
                 ", ".join(sorted(set(SEEDS_EVERY_FACT_JOINS) - set(skipped))))
        full_refresh = True
    if not full_refresh and not select and not incremental_layout_is_current(marts_schema):
        log.info("incremental models were built by another qpan layout: rebuilt in full once")
        full_refresh = True
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", select]
    if skipped:
        args += ["--exclude", *skipped]
    started_at = database_now()
    run_dbt(args, marts_schema=marts_schema)
    if not select:
        _record_seeds(sorted(set(seed_checksums()) - set(skipped)))
        _record_layout(marts_schema)
        record_tested_build(marts_schema, full_refresh, started_at)


def database_now():
    with _connect_transformer() as conn:
        return conn.execute("select now()").fetchone()[0]


def record_tested_build(marts_schema: str, full_refresh: bool, started_at) -> None:
    """A whole-project build passed every data test: rows processed before now (finished_at)
    need no re-testing (the `__tested_before__` placeholder of the models' test `where` configs)."""
    with _connect_transformer() as conn:
        conn.execute("insert into audit.tested_builds (marts_schema, full_refresh, started_at) values (%s, %s, %s)",
                     (marts_schema, full_refresh, started_at))


def seed_if_changed() -> list[str]:
    """Load only the seeds whose CSV changed since their last load (the Airflow DAG runs the
    models through cosmos, one task each, after this)."""
    changed = sorted(set(seed_checksums()) - set(unchanged_seeds()))
    if changed:
        run_dbt(["seed", "--select", *changed])
        _record_seeds(changed)
    if not incremental_layout_is_current() or set(SEEDS_EVERY_FACT_JOINS) & set(changed):
        # the per-model tasks that follow run incrementally: rebuild the incremental models first
        run_dbt(["run", "--full-refresh", "--select", "+config.materialized:incremental"])  # with their parents
        _record_layout()
    log.info("seeds loaded: %s", ", ".join(changed) or "none (all unchanged)")
    return changed


def parse_manifest() -> Path:
    """`dbt parse`: writes target/manifest.json, for astronomer-cosmos LoadMode.DBT_MANIFEST.
    Needs no database connection."""
    run_dbt(["parse"])
    return target_dir() / "manifest.json"


def docs() -> Path:
    """Build the static dbt docs site into .qpan/dbt-docs/ and return the path of index.html."""
    run_dbt(["docs", "generate", "--static"])
    out = config.state_dir() / "dbt-docs"
    out.mkdir(parents=True, exist_ok=True)
    for name in ("static_index.html", "index.html", "manifest.json", "catalog.json"):
        src = target_dir() / name
        if src.exists():
            shutil.copy2(src, out / name)
    static = out / "static_index.html"
    if static.exists():
        shutil.copy2(static, out / "index.html")
    return out / "index.html"


def _cmd_build(args: argparse.Namespace) -> int:
    try:
        build(full_refresh=args.full_refresh, marts_schema=args.marts_schema, select=args.select)
    except DbtError as exc:
        log.error("%s", exc)
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    print(f"warehouse built (marts in schema {args.marts_schema})")
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    try:
        path = docs()
    except DbtError as exc:
        print(f"docs failed: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def register(subparsers) -> None:
    """Add `qpan build [--full-refresh]` and `qpan docs` to the CLI."""
    p = subparsers.add_parser("build", help="build the dbt warehouse (seeds, models, tests)")
    p.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from raw")
    p.add_argument("--marts-schema", default=settings.get("QPAN_MARTS_SCHEMA", CANDIDATE_SCHEMA),
                   help="schema the marts are built into (default: marts_candidate, published by the gate)")
    p.add_argument("--select", default=None, help="dbt node selection (default: everything)")
    p.set_defaults(func=_cmd_build)
    p = subparsers.add_parser("docs", help="build the dbt docs static site and print where it is")
    p.set_defaults(func=_cmd_docs)

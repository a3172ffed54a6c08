"""`qpan`: the command line of the warehouse.

    qpan run [--sources sample|live]   the main job end to end, through Airflow
    qpan db start|stop|status|url      the embedded Postgres
    qpan scrape / reparse              crawl a registry / re-parse stored pages
    qpan extract / eval                facts from text files / score against gold
    qpan build / docs                  dbt marts / dbt docs site
    qpan check                         the quality gate's checkpoints, on demand
    qpan report                        the static HTML report
    qpan show URL                      the stored copy of an article, its evidence marked
    qpan sources status [--json]       each source's health (ok/silent/drift/failing/blocked)
    qpan bi start|stop|status          Apache Superset on the read-only analyst role
    qpan cluster start|stop|status     Airflow on Postgres with Celery workers (make cluster)
    qpan review list|confirm|correct|reject|add|export|import   the review loop
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from qpan import config

log = logging.getLogger("qpan")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# -- db ----------------------------------------------------------------------------
def cmd_db(args) -> int:
    from qpan import db, pgserver

    if args.action == "start":
        pgserver.start()
        db.migrate()
        print(f"Postgres {pgserver.status()}")
    elif args.action == "stop":
        pgserver.stop()
        print("Postgres stopped")
    elif args.action == "status":
        print(pgserver.status())
        if config.external_database_url() or pgserver.is_running():
            reason = db.unreachable_reason()
            if reason:
                print(reason, file=sys.stderr)
                return 3
            return 0
        return 3
    elif args.action == "url":
        role = args.role
        print(config.database_url(role) if args.show_password else config.redact(config.database_url(role)))
    elif args.action == "migrate":
        db.migrate()
        print("migrated")
    return 0


# -- run ---------------------------------------------------------------------------
def cmd_run(args) -> int:
    from qpan.run import run_main_job

    return run_main_job(sources=args.sources, transform=args.transform)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qpan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run the main job end to end (ingest → extract → dbt → gate → publish)")
    run.add_argument("--sources", choices=["sample", "live"], default="sample",
                     help="sample: the five seed articles served locally (default); live: the real portals")
    run.add_argument("--transform", choices=["build", "cosmos"], default=None,
                     help="how the transform DAG runs dbt: one `dbt build` task (the default, as in the scheduler; "
                          "QPAN_TRANSFORM_MODE overrides) or astronomer-cosmos, one task per model")
    run.set_defaults(func=cmd_run)

    dbp = sub.add_parser("db", help="manage the embedded Postgres")
    dbp.add_argument("action", choices=["start", "stop", "status", "url", "migrate"])
    dbp.add_argument("--role", default=config.ADMIN_ROLE, choices=[config.ADMIN_ROLE, *config.ROLES],
                     help="with `url`: the role to connect as")
    dbp.add_argument("--show-password", action="store_true", help="with `url`: print the password too")
    dbp.set_defaults(func=cmd_db)

    # Subcommands owned by their modules.
    for module in ("scrapers.cli", "qpan.extract.cli", "qpan.warehouse", "qpan.gate", "qpan.report", "qpan.show",
                   "qpan.airflow_local", "qpan.health.cli", "qpan.bi.cli", "qpan.cluster.cli",
                   "qpan.review.cli", "qpan.backup"):
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:  # a part not installed must not take the whole CLI down
            log.debug("%s unavailable: %s", module, exc)
            continue
        mod.register(sub)
    return parser


# Commands that need the warehouse running: checked first, so that the first line says why not
# (rather than, e.g., `qpan build` logging "seeds changed" before failing to connect).
# (`qpan scrape` checks it after the registry and the window: their errors come first.)
NEEDS_DATABASE = {"build", "docs", "check", "report", "reparse", "review", "backup", "restore"}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(getattr(args, "verbose", False))
    try:
        config.external_database_url()  # a malformed QPAN_DATABASE_URL: one line, before anything
        if args.command in NEEDS_DATABASE:
            from qpan import db

            db.require_reachable()
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear message, not a traceback, unless asked for
        if os.environ.get("QPAN_DEBUG") or getattr(args, "verbose", False):
            raise
        print(f"qpan {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

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
    qpan gazetteer build|diff          the gazetteer seeds from the pinned source (vietnam-provinces)

Adding a command: in its module, a `register(subparsers)` that calls
`subparsers.add_parser(NAME, help=HELP, ...)` and `set_defaults(func=...)`; then ONE line in
`COMMANDS` below: (NAME, "its.module", HELP). Nothing else imports the module: `qpan --help`
reads only the table, `qpan NAME ...` imports that one module (as Airflow's lazy_load_command).
tests/foundation/test_cli.py fails until the table and the module agree.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from qpan.core import config, settings


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
    from qpan.core import db, pgserver

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
    from qpan.orchestration.run import run_main_job

    return run_main_job(sources=args.sources, transform=args.transform)


DB_HELP = """The warehouse's Postgres: the embedded server of this clone (127.0.0.1:QPAN_PG_PORT, data in
.qpan/pgdata), or the server of QPAN_DATABASE_URL when it is set.

actions:
  start     start the embedded server (initialised on first use) and migrate the warehouse
  stop      stop the embedded server
  status    where the server runs; exit 3 when the database does not answer, with the reason
  url       the connection URL of a role (--role), the password masked unless --show-password
  migrate   create or update the raw, audit and review schemas, the roles and their grants
"""


def register(subparsers) -> None:
    """`qpan run` and `qpan db`, the commands this module owns."""
    run = subparsers.add_parser("run", help=_help("run"))
    run.add_argument("--sources", choices=["sample", "live"], default="sample",
                     help="sample: the five seed articles served locally (default); live: the real portals")
    run.add_argument("--transform", choices=["build", "cosmos"], default=None,
                     help="how the transform DAG runs dbt: one `dbt build` task (the default, as in the scheduler; "
                          "QPAN_TRANSFORM_MODE overrides) or astronomer-cosmos, one task per model")
    run.set_defaults(func=cmd_run)

    dbp = subparsers.add_parser("db", help=_help("db"), description=DB_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    dbp.add_argument("action", choices=["start", "stop", "status", "url", "migrate"], metavar="ACTION",
                     help="start, stop, status, url or migrate (see above)")
    dbp.add_argument("--role", default=config.ADMIN_ROLE, choices=[config.ADMIN_ROLE, *config.ROLES],
                     help="with `url`: the role to connect as")
    dbp.add_argument("--show-password", action="store_true", help="with `url`: print the password too")
    dbp.set_defaults(func=cmd_db)


# -- the command table ----------------------------------------------------------------
# One line per command: (name, the module whose `register(subparsers)` adds it, its help line).
# `qpan --help` reads only this table; a command's module is imported only when that command
# runs (as Airflow's `lazy_load_command`), so `qpan --help` never loads altair, GX or Airflow.
# A new command: a `register(subparsers)` in its module that calls `subparsers.add_parser(NAME,
# ...)` and `set_defaults(func=...)`, and one line here (tests/foundation/test_cli.py checks that
# each module registers exactly the names listed for it, with the same help).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("run", "qpan.cli", "run the main job end to end (ingest → extract → dbt → gate → publish)"),
    ("db", "qpan.cli", "manage the embedded Postgres"),
    ("scrape", "scrapers.cli", "crawl the portals of the registry into the landing store"),
    ("reparse", "scrapers.cli", "re-parse stored raw pages without fetching"),
    ("extract", "qpan.extract.cli", "extract indicator facts from article text files"),
    ("eval", "qpan.extract.cli", "score extraction against gold: P/R/F1, per indicator and per error class"),
    ("build", "qpan.transform.warehouse", "build the dbt warehouse (seeds, models, tests)"),
    ("docs", "qpan.transform.warehouse", "build the dbt docs static site and print where it is"),
    ("check", "qpan.gate.cli", "run the quality gate's checkpoints (exit 1 on failure)"),
    ("report", "qpan.report.page", "write the static HTML report of the published marts"),
    ("show", "qpan.report.show", "the stored copy of an article, with the evidence of its facts marked"),
    ("airflow", "qpan.orchestration.airflow_local",
     "Airflow's UI, scheduler, DAG processor and triggerer on the embedded setup (127.0.0.1)"),
    ("sources", "qpan.health.cli", "the health of the sources (status of their last crawl)"),
    ("bi", "qpan.bi.cli", "Apache Superset on the read-only analyst role (start|stop|status)"),
    ("cluster", "qpan.cluster.cli", "Airflow with Celery workers on this machine: start, stop, status"),
    ("review", "qpan.review.cli", "confirm, correct, reject or add facts (the review loop)"),
    ("backup", "qpan.orchestration.backup", "back up raw, review and audit (pg_dump) with a manifest"),
    ("restore", "qpan.orchestration.backup", "restore a `qpan backup` into this warehouse"),
    ("gazetteer", "qpan.gazetteer.cli", "build the gazetteer seeds from the pinned source; diff against the committed ones"),
)


def _help(name: str) -> str:
    return next(text for command, _, text in COMMANDS if command == name)


def _command_of(argv: list[str]) -> str | None:
    """The command named on the line: the first word that is not an option (`qpan -v run`)."""
    return next((word for word in argv if not word.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for `argv`: the module of the command it names registers the real subparser;
    every other command is a placeholder with its help line (enough for `qpan --help`)."""
    parser = argparse.ArgumentParser(prog="qpan", description=__doc__.split("\n\nAdding a command")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = _command_of(sys.argv[1:] if argv is None else argv)
    module = next((mod for name, mod, _ in COMMANDS if name == wanted), None)
    if module is not None:
        try:
            importlib.import_module(module).register(sub)
        except ImportError as exc:  # a part not installed takes down its command only
            parser.exit(2, f"qpan {wanted}: error: unavailable here ({exc})\n")
    for name, _, text in COMMANDS:
        if name not in sub.choices:
            sub.add_parser(name, help=text, add_help=False)
    return parser


# Commands that need the warehouse running: checked first, so that the first line says why not
# (rather than, e.g., `qpan build` logging "seeds changed" before failing to connect).
# (`qpan scrape` checks it after the registry and the window: their errors come first.)
NEEDS_DATABASE = {"build", "docs", "check", "report", "reparse", "review", "backup", "restore"}


def _debug() -> bool:
    try:
        return settings.get("QPAN_DEBUG")
    except settings.ConfigError:
        return False


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser(argv)  # a command's parser may read a setting (`qpan build`'s default schema)
    except settings.ConfigError as exc:
        print(f"qpan: error: {exc}", file=sys.stderr)
        return 1
    args = parser.parse_args(argv)
    _setup_logging(getattr(args, "verbose", False))
    try:
        settings.check_environment()  # a malformed setting: one line naming it, before anything
        config.external_database_url()  # a malformed QPAN_DATABASE_URL: one line, before anything
        if args.command in NEEDS_DATABASE:
            from qpan.core import db

            db.require_reachable()
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear message, not a traceback, unless asked for
        if getattr(args, "verbose", False) or _debug():
            raise
        print(f"qpan {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

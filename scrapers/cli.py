"""`qpan scrape` and `qpan reparse` (registered into the lead's qpan/cli.py)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date

from scrapers.registry import DEFAULT_SOURCES, RegistryError, load_registry


def _date(s: str) -> date:
    try:
        return date.fromisoformat(s)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {s!r}") from exc


def register(subparsers) -> None:
    p = subparsers.add_parser("scrape", help="crawl the portals of the registry into the landing store")
    p.add_argument("--sources", default=str(DEFAULT_SOURCES), help="registry YAML (default scrapers/sources.yml)")
    p.add_argument("--only", action="append", help="source name (repeatable)")
    p.add_argument("--since", type=_date, help="backfill window start YYYY-MM-DD")
    p.add_argument("--until", type=_date, help="backfill window end YYYY-MM-DD")
    p.add_argument("--json", action="store_true", help="print the stats as JSON")
    p.set_defaults(func=scrape_cmd)
    r = subparsers.add_parser("reparse", help="re-parse stored raw pages without fetching")
    r.add_argument("--source", help="only this source")
    r.add_argument("--sources", default=None, help="registry YAML (default: sources.yml + sample_sources.yml)")
    r.set_defaults(func=reparse_cmd)


def _setup_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)


def _progress_bar():
    """A rich progress bar when stdout is a terminal, else None (plain log lines only)."""
    if not sys.stdout.isatty():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), transient=False)
    tasks: dict[str, int] = {}

    def cb(source, done, total, url=None, decision=None, **_):
        if source not in tasks:
            tasks[source] = prog.add_task(source, total=total)
        prog.update(tasks[source], completed=done, total=total)

    return prog, cb


def scrape_cmd(args) -> int:
    from qpan.landing.store import PostgresStore
    from scrapers.crawl import crawl

    _setup_logging()
    try:
        registry = load_registry(args.sources)
    except RegistryError as exc:
        print(f"registry error: {exc}", file=sys.stderr)
        return 2
    if args.since and args.until and args.since > args.until:
        print("--since is after --until", file=sys.stderr)
        return 2
    from qpan.core.db import require_reachable

    require_reachable()  # one line naming where the database was sought, before any fetch
    prog, cb = _progress_bar()
    with PostgresStore() as store:
        try:
            if prog:
                with prog:
                    results = crawl(registry, store, only=args.only, since=args.since, until=args.until, progress=cb)
            else:
                results = crawl(registry, store, only=args.only, since=args.since, until=args.until)
        except KeyError as exc:
            print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            return 2
    rows = {name: st.to_dict() for name, st in results.items()}
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        cols = ["fetched", "not_modified", "retried", "skipped_irrelevant", "skipped_robots", "skipped_offsite",
                "skipped_known", "quarantined", "articles_new", "articles_updated", "removed", "errors"]
        print("source".ljust(22) + " ".join(c[:12].rjust(12) for c in cols) + "  status")
        for name, d in rows.items():
            print(name[:22].ljust(22) + " ".join(str(d[c]).rjust(12) for c in cols) + ("  FAILED" if d["failed"] else "  ok"))
    failed = [n for n, st in results.items() if st.failed]
    if failed:
        print(f"sources that failed entirely: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def reparse_cmd(args) -> int:
    from qpan.landing.store import PostgresStore
    from scrapers.reparse import reparse

    _setup_logging()
    registry = None
    if args.sources:
        try:
            registry = load_registry(args.sources)
        except RegistryError as exc:
            print(f"registry error: {exc}", file=sys.stderr)
            return 2
    with PostgresStore() as store:
        st = reparse(store, source=args.source, registry=registry)
    print(json.dumps(st.to_dict(), ensure_ascii=False))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="qpan")
    sub = ap.add_subparsers(dest="cmd", required=True)
    register(sub)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())

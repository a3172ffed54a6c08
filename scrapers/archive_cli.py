"""`qpan sources backfill SOURCE --archive [--from D] [--to D]`: land an archive source's captures.

    qpan sources backfill thoxuan_archive --archive --from 2019-01-01 --to 2025-06-30

Lists the captures through the archive's CDX API (only the days not listed on an earlier run),
fetches the ones not landed yet and lands them as pages and articles (scrapers/archive.py), with
a progress line: captures listed, fetched, landed, quarantined, ETA at the configured rate.
Interrupted (Ctrl-C, a kill, a 429 streak), it resumes on the next run where it stopped.
The archive is QPAN_ARCHIVE_URL (default the Wayback Machine); the rate QPAN_ARCHIVE_RATE
requests a minute (24 at most unless --allow-faster / QPAN_ARCHIVE_ALLOW_FASTER=1).
Exit status: 0 done, 1 stopped by the archive (429s) or failures left to retry, 2 bad arguments.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

from scrapers.registry import DEFAULT_SOURCES, RegistryError, host_of


def _path(sources) -> Path:
    """A registry path relative to the repository (as the DAG's `sources_file`), or absolute."""
    from qpan.core import config

    path = Path(sources)
    return path if path.is_absolute() else config.REPO_ROOT / path


def run_backfill(name: str, *, sources=DEFAULT_SOURCES, start: date | None = None, end: date | None = None,
                 allow_faster: bool = False, progress=None, store=None, list_only: bool = False):
    """The backfill of one archive source (also the DAG's task): its BackfillStats."""
    from qpan.landing.store import PostgresStore
    from scrapers.archive import backfill, settings_from_env
    from scrapers.archive_registry import load_archives

    registry, entries = load_archives(_path(sources))
    by_name = {e.name: e for e in entries}
    if name not in by_name:
        raise KeyError(f"unknown archive source {name!r} (archive sources in {registry.path}: "
                       f"{', '.join(sorted(by_name)) or 'none'})")
    settings = settings_from_env(allow_faster=allow_faster)
    own = store is None
    store = store or PostgresStore()
    # one backfill at a time per archive, across processes and workers (the archive allows one
    # connection): a session lock, released by Postgres if this process is killed
    lock = "qpan.archive:" + host_of(settings.base_url)
    try:
        store.conn.execute("select pg_advisory_lock(hashtext(%s))", (lock,))
        try:
            return backfill(by_name[name], entries, store, registry, start=start, end=end, settings=settings,
                            progress=progress, list_only=list_only)
        finally:
            store.conn.execute("select pg_advisory_unlock(hashtext(%s))", (lock,))
    finally:
        if own:
            store.close()


def archive_source_names(sources_file, only: str | None) -> list[str]:
    """The DAG's `list_sources` with `archive: true`: the one archive source asked for (required)."""
    from scrapers.archive_registry import load_archives

    _, entries = load_archives(_path(sources_file))
    names = [e.name for e in entries]
    if not only or only not in names:
        raise KeyError(f"archive: true needs `only` = an archive source of {sources_file} "
                       f"(known: {', '.join(names) or 'none'})")
    return [only]


def backfill_task(sources_file, name: str, since: str | None, until: str | None) -> dict:
    """The DAG's `crawl` task with `archive: true`: the backfill's counts, named as a crawl's."""
    stats = run_backfill(name, sources=sources_file, start=date.fromisoformat(since) if since else None,
                         end=date.fromisoformat(until) if until else None,
                         progress=lambda line: print(line, flush=True))
    if stats.stopped:
        raise RuntimeError(f"archive backfill of {name} stopped: {stats.stopped} (a rerun resumes)")
    return {"source": name, "articles_new": stats.articles, "fetched": stats.fetched, "listed": stats.listed,
            "landed": stats.landed, "quarantined": stats.quarantined, "duplicates": stats.duplicates,
            "errors": stats.failed}


def _cmd_backfill(args) -> int:
    if not args.archive:
        print("only archive backfills are run here (--archive); a live source's window is "
              "`qpan scrape --only NAME --since D --until D`", file=sys.stderr)
        return 2
    tty = sys.stderr.isatty()
    shown = {"n": 0}

    def progress(line: str) -> None:
        shown["n"] += 1
        if tty:
            sys.stderr.write("\r" + line + "\x1b[K")
        elif shown["n"] % 25 == 1:
            print(line, file=sys.stderr, flush=True)

    try:
        stats = run_backfill(args.source, sources=args.sources, start=args.start, end=args.end,
                             allow_faster=args.allow_faster, progress=progress, list_only=args.list_only)
    except (KeyError, ValueError, RegistryError) as exc:
        print(f"qpan sources backfill: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    if tty:
        sys.stderr.write("\n")
    if args.list_only:
        interval = settings_interval()
        print(f"{stats.source}: {stats.listed} captures listed, {stats.todo} to fetch: about "
              f"{timedelta(seconds=round(stats.todo * interval))} at {60 / interval:g} requests a minute")
        return 0
    print(f"{stats.source}: listed {stats.listed} ({stats.listed_new} new), fetched {stats.fetched}, "
          f"landed {stats.landed} ({stats.articles} articles new), quarantined {stats.quarantined}, "
          f"duplicates {stats.duplicates}, failed {stats.failed}; {stats.requests} requests in {stats.seconds:.0f}s")
    if stats.stopped:
        print(f"stopped: {stats.stopped}", file=sys.stderr)
    return 1 if stats.stopped or stats.failed else 0


def register_backfill(actions) -> None:
    """`backfill` under `qpan sources` (the subparsers of qpan.health.cli)."""
    b = actions.add_parser("backfill", help="land an archive source's captures (Wayback CDX + id_ replay)",
                           description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("source", help="an archive source of the registry (`archives:` in sources.yml)")
    b.add_argument("--archive", action="store_true", help="from the web archive (QPAN_ARCHIVE_URL)")
    b.add_argument("--from", dest="start", type=date.fromisoformat, help="first capture day (YYYY-MM-DD)")
    b.add_argument("--to", dest="end", type=date.fromisoformat, help="last capture day (YYYY-MM-DD)")
    b.add_argument("--sources", default=str(DEFAULT_SOURCES), help="the registry (default scrapers/sources.yml)")
    b.add_argument("--allow-faster", action="store_true",
                   help="allow QPAN_ARCHIVE_RATE above 24 requests a minute (a mirror or a local archive only)")
    b.add_argument("--list-only", action="store_true",
                   help="list the captures (CDX only, cached) and print how long fetching them would take")
    b.set_defaults(func=_cmd_backfill)


def settings_interval() -> float:
    from scrapers.archive import settings_from_env

    return settings_from_env(allow_faster=True).interval


ARCHIVE_PROGRESS = """
select archive_source, count(*) as listed,
       count(*) filter (where state = 'landed') as landed,
       count(*) filter (where state = 'quarantined') as quarantined,
       count(*) filter (where state = 'duplicate') as duplicates,
       count(*) filter (where state in ('listed', 'failed')) as to_fetch,
       min(captured_at)::date as first_capture, max(captured_at)::date as last_capture
from raw.archive_captures group by archive_source order by archive_source
"""


def archive_progress(conn) -> str:
    """`qpan sources status`'s archive section: each archive source's captures by state."""
    if conn.execute("select to_regclass('raw.archive_captures')").fetchone()[0] is None:
        return ""
    rows = conn.execute(ARCHIVE_PROGRESS).fetchall()
    if not rows:
        return ""
    head = ("ARCHIVE_SOURCE", "LISTED", "LANDED", "QUARANTINED", "DUPLICATES", "TO_FETCH", "CAPTURED_FROM", "CAPTURED_TO")
    lines = [head] + [tuple("-" if v is None else str(v) for v in r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines) + "\n"

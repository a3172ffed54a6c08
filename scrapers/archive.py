"""Backfill from a web archive: list captures through the CDX API, fetch each capture's original
bytes (`/web/<timestamp>id_/<url>`) and land them as the same pages and articles as a live crawl.

Why not the `wayback` package (0.5.1): its CDX and memento URLs are module constants
(`https://web.archive.org/...`), so a mirror, a proxy or the test archive cannot be used without
patching its private module; its rate limits are per endpoint (CDX and mementos apart, 0.4/s and
8/s), not one budget of requests a minute on one connection; and it retries 503 but not with our
own back-off and logging. The client (scrapers/archive_client.py) is ~150 lines on httpx (already a dependency).

Politeness (the archive's own rules, see docs/archive.md):
- one connection (httpx pool of 1), requests spaced by 60 / rate seconds (24 a minute by default;
  lower is allowed, higher only with QPAN_ARCHIVE_ALLOW_FASTER=1);
- a 429 stops all sending: the client sleeps Retry-After (else QPAN_ARCHIVE_BACKOFF seconds,
  doubled at each 429 in a row) before the next request of any kind, and gives up the run after
  `max_429` of them in a row (the archive blocks an address that keeps sending);
- 5xx and connection errors are retried with exponential back-off, `retries` times;
- `collapse=digest` and the from/to window in the CDX query; CDX answers are cached in
  raw.archive_captures / raw.archive_listings so a rerun lists only days not listed yet.

Landing: a capture lands in raw.pages under its original URL with captured_at (UTC, from the
14-digit timestamp) and archive_digest; a digest already landed for that URL is not fetched again;
a redirect, an archived error status or a truncated body is quarantined with its reason; the
article (raw.articles, keyed by the original URL) is parsed with the template of the capture's
period and attributed to the entry valid on its publication date (else the capture date).
Each capture's state is recorded after it is landed, and landing is an idempotent upsert, so a
killed backfill resumes where it stopped with nothing landed twice.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from scrapers.archive_cache import cache_listing, digest_done, mark_done, pending, save_capture, unlisted_ranges
from scrapers.archive_client import (
    RETRYABLE, ArchiveBlocked, ArchiveClient, ArchiveSettings, Capture, settings_from_env, ts_to_utc,
)
from scrapers.archive_registry import ArchiveSource, attribute
from scrapers.crawl_stats import CrawlStats
from scrapers.downloader.base import FetchError
from scrapers.encoding import decode_body
from scrapers.registry_model import Registry
from scrapers.templates import ParseError, parse_article, template_config
from scrapers.templates.common import VN_TZ, date_from_url

log = logging.getLogger("scrapers.archive")

# the client and the CDX cache live in scrapers/archive_client.py and scrapers/archive_cache.py;
# the CLI and the tests read these from here
__all__ = ["ArchiveSettings", "BackfillStats", "backfill", "settings_from_env", "ts_to_utc", "unlisted_ranges"]


# -- the backfill -------------------------------------------------------------------------------
@dataclass
class BackfillStats:
    source: str
    listed: int = 0          # captures listed in the window (cached or new)
    listed_new: int = 0      # captures the archive listed on this run
    cdx_requests: int = 0
    todo: int = 0
    fetched: int = 0
    landed: int = 0          # captures landed as pages (articles and list pages)
    articles: int = 0        # articles new or updated
    duplicates: int = 0
    quarantined: int = 0
    irrelevant: int = 0
    failed: int = 0
    requests: int = 0
    seconds: float = 0.0
    stopped: str | None = None
    crawl: CrawlStats = field(default_factory=CrawlStats, repr=False)

    def progress_line(self, done: int, interval: float) -> str:
        left = max(0, self.todo - done)
        eta = timedelta(seconds=round(left * interval))
        return (f"{self.source}: listed {self.listed}, fetched {self.fetched}, landed {self.landed}, "
                f"quarantined {self.quarantined}, duplicates {self.duplicates}, {done}/{self.todo} done, "
                f"ETA {eta} at {60 / interval:g} req/min")


def backfill(src: ArchiveSource, entries: list[ArchiveSource], store, registry: Registry, *,
             start: date | None = None, end: date | None = None, settings: ArchiveSettings | None = None,
             progress=None, sleep=time.sleep, list_only: bool = False) -> BackfillStats:
    """List (what is not cached), fetch and land the captures of `src` in [start, end]
    (`list_only`: list and count, fetch nothing: the estimate of a backfill's duration)."""
    settings = settings or settings_from_env()
    start, end = max(start or src.start, src.start), min(end or src.end, src.end)
    stats = BackfillStats(source=src.name, crawl=CrawlStats(source=src.name))
    started_at, t0 = datetime.now(timezone.utc), time.monotonic()
    conn = store.conn
    siblings = [e for e in entries if e.host == src.host] or [src]
    with ArchiveClient(settings, registry.user_agent, sleep=sleep) as client:
        try:
            for a, b in unlisted_ranges(conn, src, start, end):
                caps = client.cdx(src.prefix, a, b)
                stats.listed_new += cache_listing(conn, src, a, b, caps)
                log.info("%s: CDX %s..%s listed %d captures", src.name, a, b, len(caps))
            stats.cdx_requests = client.requests
            stats.listed = conn.execute(
                "select count(*) from raw.archive_captures where archive_source = %s and captured_at::date "
                "between %s and %s", (src.name, start, end)).fetchone()[0]
            todo = pending(conn, src, start, end)
            stats.todo = len(todo)
            for i, c in enumerate([] if list_only else todo, 1):
                _land_one(c, src, siblings, store, client, stats)
                if progress is not None:
                    progress(stats.progress_line(i, settings.interval))
        except ArchiveBlocked as exc:
            stats.stopped = str(exc)
            log.error("%s: %s", src.name, exc)
        finally:
            stats.requests = client.requests
            stats.seconds = round(time.monotonic() - t0, 3)
    if not list_only:
        _record(store, stats, started_at)
    return stats


def _land_one(c: Capture, src: ArchiveSource, siblings, store, client: ArchiveClient, stats: BackfillStats) -> None:
    conn, crawl = store.conn, stats.crawl
    if digest_done(conn, c):
        stats.duplicates += 1
        mark_done(conn, c, "duplicate", "digest already landed")
        return
    code = c.statuscode if c.statuscode and c.statuscode.isdigit() else None
    if code and code.startswith("3"):  # the archive holds the redirect, not a page: nothing to fetch
        return _quarantine(store, stats, c, src.name, "fetch", "redirect capture", f"archived HTTP {code}")
    if code and code[0] in "45":
        return _quarantine(store, stats, c, src.name, "fetch", f"archived http {code}", "error page")
    try:
        resp = client.capture(c)
    except FetchError as exc:
        crawl.errors += 1
        if exc.reason == "truncated body":
            return _quarantine(store, stats, c, src.name, "fetch", exc.reason, exc.detail)
        stats.failed += 1
        mark_done(conn, c, "failed", exc.reason)  # retried on the next run
        return
    stats.fetched += 1
    headers = {k.lower(): v for k, v in resp.headers.items()
               if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")}
    length = resp.headers.get("content-length")
    if length and length.isdigit() and int(length) != len(resp.content) and "content-encoding" not in resp.headers:
        return _quarantine(store, stats, c, src.name, "fetch", "truncated body",
                           f"{len(resp.content)} of {length} bytes")
    day = c.captured_at.date()
    pub_day = (date_from_url(c.original) or c.captured_at).astimezone(VN_TZ).date()
    owner = attribute(siblings, src.host, pub_day) or src
    sha = save_capture(conn, owner.name, c, resp.status_code, headers, resp.content)
    if resp.status_code in (301, 302, 303, 307, 308):
        return _quarantine(store, stats, c, owner.name, "fetch", "redirect capture",
                           f"-> {resp.headers.get('location', '?')}")
    if resp.status_code in RETRYABLE:
        stats.failed += 1
        crawl.errors += 1
        mark_done(conn, c, "failed", f"http {resp.status_code}")
        return
    if resp.status_code != 200:
        return _quarantine(store, stats, c, owner.name, "fetch", f"http {resp.status_code}")
    period = src.period(day)
    if period is None:
        return _quarantine(store, stats, c, owner.name, "parse", "no template for the capture date", str(day))
    conf = template_config(period.template, period.selectors)
    pattern = re.compile(conf.get("article_url_pattern") or r"$^")
    if not pattern.search(urlsplit(c.original).path):  # a list page (or any other page): landed as a page
        stats.landed += 1
        crawl.discovery_ok += 1
        mark_done(conn, c, "landed", landed_as="page")
        return
    crawl.article_pages += 1
    crawl.parse_attempts += 1
    html = decode_body(resp.content, resp.headers.get("content-type"))
    try:
        art = parse_article(period.template, html, c.original, source=owner.name, unit_id=owner.unit_id,
                            selectors=period.selectors)
    except ParseError as exc:
        crawl.parse_failures[exc.reason] = crawl.parse_failures.get(exc.reason, 0) + 1
        return _quarantine(store, stats, c, owner.name, "parse", exc.reason, exc.detail,
                           {"template": period.template, "page_sha256": sha, "timestamp": c.timestamp})
    relevant, why = src.relevance.decide(art.title, art.lead)
    if not relevant:
        stats.irrelevant += 1
        mark_done(conn, c, "irrelevant", why)
        return
    # attribution by the date the article is about: its publication date, else the capture's
    pub = art.published_at or date_from_url(c.original) or c.captured_at
    owner = attribute(siblings, src.host, pub.astimezone(VN_TZ).date()) or owner
    art.source, art.source_unit_id = owner.name, owner.unit_id
    art.published_at = art.published_at or date_from_url(c.original) or c.captured_at
    art.page_sha256 = sha
    live = conn.execute("select source from raw.articles where url = %s", (c.original,)).fetchone()
    if live is None or live[0] in {e.name for e in siblings}:  # a live copy stays the article
        if store.save_article(art):
            stats.articles += 1
            crawl.articles_new += 1
    store.resolve_quarantine("parse", c.original)
    stats.landed += 1
    mark_done(conn, c, "landed", landed_as="article")


def _quarantine(store, stats: BackfillStats, c: Capture, source: str, stage: str, reason: str,
                detail: str | None = None, payload: dict | None = None) -> None:
    stats.quarantined += 1
    stats.crawl.quarantined += 1
    if stage == "fetch":
        cls = "3xx" if "redirect" in reason else ("network" if "truncated" in reason else reason[-3:-2] + "xx")
        stats.crawl.http_errors[cls] = stats.crawl.http_errors.get(cls, 0) + 1
    store.quarantine(stage, source, c.original, reason, f"capture {c.timestamp}: {detail or ''}".strip(": "),
                     payload or {"timestamp": c.timestamp, "digest": c.digest})
    mark_done(store.conn, c, "quarantined", reason)


def _record(store, stats: BackfillStats, started_at: datetime) -> None:
    """The backfill in audit.crawl_runs, so `qpan sources status` shows archive sources too."""
    crawl = stats.crawl
    crawl.fetched = stats.fetched
    crawl.seconds = stats.seconds
    crawl.failed = stats.stopped is not None
    if stats.stopped:
        crawl.http_errors["429"] = crawl.http_errors.get("429", 0) + 1
    record = getattr(store, "record_crawl_run", None)
    if record is not None:
        try:
            record(crawl, started_at)
        except Exception:  # noqa: BLE001 - the health record never costs the backfill its result
            log.exception("%s: could not record the run's health", stats.source)

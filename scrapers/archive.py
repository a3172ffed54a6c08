"""Backfill from a web archive: list captures through the CDX API, fetch each capture's original
bytes (`/web/<timestamp>id_/<url>`) and land them as the same pages and articles as a live crawl.

Why not the `wayback` package (0.5.1): its CDX and memento URLs are module constants
(`https://web.archive.org/...`), so a mirror, a proxy or the test archive cannot be used without
patching its private module; its rate limits are per endpoint (CDX and mementos apart, 0.4/s and
8/s), not one budget of requests a minute on one connection; and it retries 503 but not with our
own back-off and logging. The client below is ~150 lines on httpx (already a dependency).

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

import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import httpx
from psycopg.types.json import Jsonb

from qpan.core import settings

from scrapers.archive_registry import ArchiveSource, attribute
from scrapers.crawl import CrawlStats
from scrapers.fetch import FetchError, HostGate, decode_body, retry_after_seconds
from scrapers.registry import Registry, host_of
from scrapers.templates import ParseError, parse_article, template_config
from scrapers.templates.common import VN_TZ, date_from_url

log = logging.getLogger("scrapers.archive")

DEFAULT_ARCHIVE_URL = "https://web.archive.org"
ARCHIVE_RATE_LIMIT = 24.0   # requests a minute: the Wayback Machine's hard limit since 2025
RETRYABLE = {500, 502, 503, 504}


class ArchiveBlocked(RuntimeError):
    """The archive answered 429 `max_429` times in a row: the run stops (it would be blocked)."""


@dataclass
class ArchiveSettings:
    base_url: str = DEFAULT_ARCHIVE_URL
    rate_per_minute: float = ARCHIVE_RATE_LIMIT
    backoff_429: float = 60.0      # seconds to wait after a 429 without Retry-After (doubled in a row)
    backoff: float = 5.0           # first back-off after a 5xx / connection error (doubled each retry)
    retries: int = 3
    max_429: int = 3
    timeout: float = 60.0

    @property
    def interval(self) -> float:
        return 60.0 / self.rate_per_minute


def settings_from_env(env=None, *, allow_faster: bool = False) -> ArchiveSettings:
    """QPAN_ARCHIVE_URL, QPAN_ARCHIVE_RATE (requests/minute), QPAN_ARCHIVE_ALLOW_FASTER,
    QPAN_ARCHIVE_BACKOFF (seconds after a 429), QPAN_ARCHIVE_RETRY_BACKOFF (after a 5xx):
    registered in qpan.core.settings, read from `env` (default the environment)."""
    s = ArchiveSettings(base_url=settings.get("QPAN_ARCHIVE_URL", environ=env).rstrip("/"),
                        rate_per_minute=settings.get("QPAN_ARCHIVE_RATE", environ=env),
                        backoff_429=settings.get("QPAN_ARCHIVE_BACKOFF", environ=env),
                        backoff=settings.get("QPAN_ARCHIVE_RETRY_BACKOFF", environ=env))
    allow_faster = allow_faster or settings.get("QPAN_ARCHIVE_ALLOW_FASTER", environ=env)
    if s.rate_per_minute > ARCHIVE_RATE_LIMIT and not allow_faster:
        raise ValueError(f"QPAN_ARCHIVE_RATE={s.rate_per_minute:g} is above the archive's limit of "
                         f"{ARCHIVE_RATE_LIMIT:g} requests a minute: set QPAN_ARCHIVE_ALLOW_FASTER=1 "
                         "(or --allow-faster) only for a mirror or a local archive")
    return s


def ts_to_utc(ts14: str) -> datetime:
    """The archive's 14-digit timestamp (UTC) as an aware datetime; shorter forms are padded."""
    ts14 = (ts14 + "01010000000000"[len(ts14) - 4:])[:14] if len(ts14) < 14 else ts14
    return datetime.strptime(ts14, "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)


@dataclass
class Capture:
    original: str
    timestamp: str
    mimetype: str | None
    statuscode: str | None
    digest: str
    length: int | None

    @property
    def captured_at(self) -> datetime:
        return ts_to_utc(self.timestamp)


# -- the client ------------------------------------------------------------------------------
class ArchiveClient:
    """CDX listing and capture replay on one connection, spaced and backing off as the archive asks."""

    def __init__(self, settings: ArchiveSettings, user_agent: str, *, sleep=time.sleep):
        self.settings = settings
        self.sleep = sleep
        self.gate = HostGate(settings.interval, 1)
        loopback = host_of(settings.base_url) in ("127.0.0.1", "localhost", "::1")
        self.client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=False, timeout=settings.timeout, trust_env=not loopback)
        self.requests = 0
        self.in_a_row_429 = 0
        self.total_429 = 0

    def close(self) -> None:
        self.client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, url: str, params: dict | None = None) -> httpx.Response:
        """One GET, retried on 5xx/network errors; a 429 pauses everything before any next request."""
        s = self.settings
        attempt = 0
        while True:
            with self.gate.slot(self.sleep):
                self.requests += 1
                try:
                    resp = self.client.get(url, params=params)
                    resp.read()
                except httpx.RemoteProtocolError as exc:
                    raise FetchError("truncated body", str(exc)) from exc
                except httpx.TransportError as exc:
                    resp, error = None, exc
                else:
                    error = None
                finally:
                    # spaced from the end of this exchange, not its start: however late a request
                    # leaves or slowly it is answered, the archive never sees two closer than 60/rate s
                    self.gate.sent()
            if resp is not None and resp.status_code == 429:
                self.in_a_row_429 += 1
                self.total_429 += 1
                if self.in_a_row_429 >= s.max_429:
                    raise ArchiveBlocked(f"{self.in_a_row_429} answers 429 in a row from {host_of(url)}: stopped "
                                         "(resume later; the archive blocks addresses that keep sending)")
                wait = retry_after_seconds(resp.headers.get("retry-after"))
                wait = max(wait or 0.0, s.backoff_429 * 2 ** (self.in_a_row_429 - 1))
                log.warning("archive 429: sending nothing for %.1fs", wait)
                self.gate.defer(wait)  # the next request of any kind waits too
                self.sleep(wait)
                continue
            self.in_a_row_429 = 0
            if error is None and resp.status_code not in RETRYABLE:
                return resp
            if attempt >= s.retries:
                if error is not None:
                    raise FetchError("connection error", f"{type(error).__name__}: {error}") from error
                return resp
            wait = s.backoff * 2 ** attempt
            attempt += 1
            log.info("archive %s: retry %d/%d in %.1fs", error or resp.status_code, attempt, s.retries, wait)
            self.gate.defer(wait)
            self.sleep(wait)

    def cdx(self, prefix: str, start: date, end: date, *, page_size: int = 5000) -> list[Capture]:
        """HTML captures of `prefix` captured between the two days (inclusive), adjacent equal
        digests collapsed, following the CDX resume key through large answers."""
        params = {"url": prefix, "matchType": "prefix", "from": start.strftime("%Y%m%d"),
                  "to": end.strftime("%Y%m%d"), "collapse": "digest", "output": "json",
                  "fl": "timestamp,original,mimetype,statuscode,digest,length",
                  "filter": "mimetype:text/html", "limit": str(page_size), "showResumeKey": "true"}
        out: list[Capture] = []
        while True:
            resp = self._send(f"{self.settings.base_url}/cdx/search/cdx", params)
            if resp.status_code != 200:
                raise FetchError(f"http {resp.status_code}", "CDX listing")
            rows = json.loads(resp.text or "[]")
            resume = None
            if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:  # [..., [], [resumeKey]]
                resume = rows[-1][0]
                rows = rows[:-2]
            head, body = (rows[0], rows[1:]) if rows else ([], [])
            for r in body:
                d = dict(zip(head, r))
                length = d.get("length")
                out.append(Capture(d["original"], d["timestamp"], d.get("mimetype"), d.get("statuscode"),
                                   d.get("digest") or "", int(length) if length and length.isdigit() else None))
            if not resume:
                return out
            params = {**params, "resumeKey": resume}

    def capture(self, c: Capture) -> httpx.Response:
        """The capture's original bytes (the `id_` form: no rewritten links, no toolbar)."""
        return self._send(f"{self.settings.base_url}/web/{c.timestamp}id_/{c.original}")


# -- the CDX cache ----------------------------------------------------------------------------
def unlisted_ranges(conn, src: ArchiveSource, start: date, end: date) -> list[tuple[date, date]]:
    """The parts of [start, end] not listed yet for the source's prefix."""
    rows = conn.execute("select from_day, to_day from raw.archive_listings where archive_source = %s "
                        "and prefix = %s order by from_day", (src.name, src.prefix)).fetchall()
    gaps, cursor = [], start
    for a, b in rows:
        if b < cursor or a > end:
            continue
        if a > cursor:
            gaps.append((cursor, min(end, a - timedelta(days=1))))
        cursor = max(cursor, b + timedelta(days=1))
        if cursor > end:
            break
    if cursor <= end:
        gaps.append((cursor, end))
    return gaps


def cache_listing(conn, src: ArchiveSource, start: date, end: date, caps: list[Capture]) -> int:
    """Store a CDX answer (new captures only) and the range it covers, in one transaction."""
    new = 0
    with conn.transaction():
        for c in caps:
            cur = conn.execute(
                """insert into raw.archive_captures (original_url, timestamp14, captured_at, archive_source,
                       mimetype, statuscode, digest, length) values (%s, %s, %s, %s, %s, %s, %s, %s)
                   on conflict (original_url, timestamp14) do nothing""",
                (c.original, c.timestamp, c.captured_at, src.name, c.mimetype, c.statuscode, c.digest, c.length))
            new += cur.rowcount
        conn.execute("""insert into raw.archive_listings (archive_source, prefix, from_day, to_day, captures)
                        values (%s, %s, %s, %s, %s) on conflict do nothing""",
                     (src.name, src.prefix, start, end, len(caps)))
    return new


def pending(conn, src: ArchiveSource, start: date, end: date) -> list[Capture]:
    """Captures listed and not done (listed, or failed on an earlier run), oldest first."""
    lo = datetime.combine(start, datetime.min.time(), timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), timezone.utc)
    rows = conn.execute(
        """select original_url, timestamp14, mimetype, statuscode, digest, length from raw.archive_captures
           where archive_source = %s and state in ('listed', 'failed') and captured_at >= %s and captured_at < %s
           order by timestamp14, original_url""", (src.name, lo, hi)).fetchall()
    return [Capture(*r) for r in rows]


def _done(conn, c: Capture, state: str, reason: str | None = None, landed_as: str | None = None) -> None:
    conn.execute("update raw.archive_captures set state = %s, reason = %s, landed_as = %s, done_at = now() "
                 "where original_url = %s and timestamp14 = %s", (state, reason, landed_as, c.original, c.timestamp))


def _digest_done(conn, c: Capture) -> bool:
    """Another capture of the URL with this payload is done (a truncated transfer is not: the same
    payload captured again may arrive whole)."""
    return conn.execute(
        "select 1 from raw.archive_captures where original_url = %s and digest = %s and timestamp14 <> %s "
        "and (state in ('landed', 'irrelevant') or state = 'quarantined' and reason <> 'truncated body') limit 1",
        (c.original, c.digest, c.timestamp)
    ).fetchone() is not None


def _save_capture(conn, source: str, c: Capture, status: int, headers: dict, body: bytes) -> str:
    import hashlib

    digest = hashlib.sha256(body).hexdigest()
    now = datetime.now(timezone.utc)
    conn.execute(
        """insert into raw.pages (source, url, status, headers, body, sha256, fetched_at, last_seen_at,
                                  captured_at, archive_digest)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           on conflict (url, sha256) do update set last_seen_at = excluded.last_seen_at,
               captured_at = coalesce(raw.pages.captured_at, excluded.captured_at),
               archive_digest = coalesce(raw.pages.archive_digest, excluded.archive_digest)""",
        (source, c.original, status, Jsonb(headers), body, digest, now, now, c.captured_at, c.digest))
    return digest


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
    if _digest_done(conn, c):
        stats.duplicates += 1
        _done(conn, c, "duplicate", "digest already landed")
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
        _done(conn, c, "failed", exc.reason)  # retried on the next run
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
    sha = _save_capture(conn, owner.name, c, resp.status_code, headers, resp.content)
    if resp.status_code in (301, 302, 303, 307, 308):
        return _quarantine(store, stats, c, owner.name, "fetch", "redirect capture",
                           f"-> {resp.headers.get('location', '?')}")
    if resp.status_code in RETRYABLE:
        stats.failed += 1
        crawl.errors += 1
        _done(conn, c, "failed", f"http {resp.status_code}")
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
        _done(conn, c, "landed", landed_as="page")
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
        _done(conn, c, "irrelevant", why)
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
    _done(conn, c, "landed", landed_as="article")


def _quarantine(store, stats: BackfillStats, c: Capture, source: str, stage: str, reason: str,
                detail: str | None = None, payload: dict | None = None) -> None:
    stats.quarantined += 1
    stats.crawl.quarantined += 1
    if stage == "fetch":
        cls = "3xx" if "redirect" in reason else ("network" if "truncated" in reason else reason[-3:-2] + "xx")
        stats.crawl.http_errors[cls] = stats.crawl.http_errors.get(cls, 0) + 1
    store.quarantine(stage, source, c.original, reason, f"capture {c.timestamp}: {detail or ''}".strip(": "),
                     payload or {"timestamp": c.timestamp, "digest": c.digest})
    _done(store.conn, c, "quarantined", reason)


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

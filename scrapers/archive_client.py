"""The web archive's client: CDX listing and capture replay on one connection, spaced and backing
off as the archive asks (see scrapers/archive.py for the rules), and its settings."""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone

import httpx

from qpan.core import settings

from scrapers.downloader.base import FetchError
from scrapers.downloader.host_gate import HostGate
from scrapers.downloader.retry import retry_after_seconds
from scrapers.hosts import host_of

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

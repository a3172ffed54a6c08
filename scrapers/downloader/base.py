"""What the downloader policies pass each other: a `Request` going down, a `Response` coming back,
`FetchError` / `Skipped` when a URL is not fetched, and `chain`, which composes the policies.

A policy is an object with `handle(request, call_next) -> Response`: it may refuse the request,
change it, send it on (`call_next`) zero or more times, and look at or change the response. The
request's flags play the part of Scrapy's `Request.meta` switches (`dont_redirect`,
`dont_obey_robotstxt`, ...): robots.txt itself is fetched through the same policies with
`follow_redirects`, `obey_robots` and `conditional` off."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from scrapers.encoding import decode_body
from scrapers.registry_model import Politeness, Source


class FetchError(Exception):
    """A URL that could not be fetched; `reason` is the quarantine reason."""

    def __init__(self, reason: str, detail: str | None = None, status: int | None = None):
        self.reason, self.detail, self.status = reason, detail, status
        super().__init__(reason if not detail else f"{reason}: {detail}")


class Skipped(Exception):
    """A URL we decided not to fetch: kind is 'robots' or 'offsite'."""

    def __init__(self, kind: str, reason: str):
        self.kind, self.reason = kind, reason
        super().__init__(f"{kind}: {reason}")


@dataclass(frozen=True)
class Request:
    url: str
    source: Source
    stats: Any = None                   # the crawl's CrawlStats (or None): counters the policies bump
    politeness: Politeness | None = None  # None: the source's
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True            # send the stored validators, keep the new ones after a 200
    save: bool = True                   # keep the final response in the store
    follow_redirects: bool = True
    obey_robots: bool = True
    gate: Any = None                    # set by the per-host gate: the transport anchors the spacing on the send

    @property
    def polite(self) -> Politeness:
        return self.politeness or self.source.politeness


@dataclass
class Response:
    url: str  # the URL asked for (the key in the store)
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    page_sha256: str | None = None
    redirects: list[str] = field(default_factory=list)
    attempts: int = 1

    @property
    def text(self) -> str:
        return decode_body(self.body, self.headers.get("content-type"))


Handler = Callable[[Request], Response]


class Policy(Protocol):
    def handle(self, request: Request, call_next: Handler) -> Response: ...


def chain(policies: list[Policy], transport: Handler) -> Handler:
    """One handler: the first policy sees the request first and the response last."""
    handler = transport
    for policy in reversed(policies):
        handler = functools.partial(policy.handle, call_next=handler)
    return handler


def error_class(reason: str) -> str:
    """The class of a fetch failure (audit.crawl_runs.http_errors_by_class): 403 and 429 apart
    (a site refusing us), other 4xx, 5xx, timeout, network (reset, truncated, redirects...)."""
    if reason.startswith("http "):
        code = reason[5:].strip()
        return code if code in ("403", "429") else f"{code[:1]}xx"
    return "timeout" if reason == "timeout" else "network"


def count_error(stats, reason: str) -> None:
    if stats is not None and hasattr(stats, "http_errors"):
        cls = error_class(reason)
        stats.http_errors[cls] = stats.http_errors.get(cls, 0) + 1

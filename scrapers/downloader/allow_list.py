"""Allow-list: only http(s) URLs on the registry's allowed hosts, and no private or loopback address
unless the source opts in (`allow_private`, the sample sources). A host *name* is judged by the
address a connection reaches (the transport), never by a lookup done beforehand."""
from __future__ import annotations

from urllib.parse import urlsplit

from scrapers.downloader.base import Handler, Request, Response, Skipped
from scrapers.hosts import is_private_host
from scrapers.registry_model import Registry, Source


class AllowList:
    def __init__(self, registry: Registry):
        self.registry = registry

    def refusal(self, url: str, source: Source) -> tuple[str, str] | None:
        """Why `url` must not be fetched for `source`: (kind, reason), or None."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return "offsite", f"scheme {parts.scheme or '(none)'!r} refused"
        host = (parts.hostname or "").lower()
        if not host or not self.registry.host_allowed(host):
            return "offsite", f"host {host!r} outside the allow-list"
        if not source.allow_private and is_private_host(host):  # names: checked on connection
            return "offsite", f"host {host!r} is a private/loopback address"
        return None

    def handle(self, request: Request, call_next: Handler) -> Response:
        refused = self.refusal(request.url, request.source)
        if refused:
            raise Skipped(*refused)
        return call_next(request)

"""A polite HTTP fetcher (httpx, sync; one thread per host in `crawl`), as an ordered list of
small downloader policies (`scrapers/downloader/`, one module each), the way Scrapy composes
its downloader middlewares. A request passes them top to bottom, its response comes back
bottom to top:

1. allow-list: only http(s) URLs on allow-listed hosts; private/loopback only with `allow_private`;
2. robots.txt per host, cached for the run (Crawl-delay honoured);
3. conditional GET from the store's validators (ETag / Last-Modified);
4. raw save: every final response saved with `store.save_page` before anyone parses it;
5. redirects followed by hand, each target through the allow-list and robots, at most
   `max_redirects` deep, loops detected;
6. retry with exponential back-off + jitter (timeouts, connection errors, 5xx, 429; Retry-After);
7. per-host gate: `delay` seconds between request starts, `concurrency` in flight per host;
then the transport: one connection per request, its peer address checked before the request is
sent (no DNS rebinding), a `timeout` per connect/read, a `deadline` per response, a body cap.
"""
from __future__ import annotations

import random
import time

import httpx

from scrapers.downloader.allow_list import AllowList
from scrapers.downloader.base import FetchError, Handler, Policy, Request, Response, Skipped, chain, error_class
from scrapers.downloader.conditional import ConditionalGet
from scrapers.downloader.host_gate import HostGates, PerHostGate
from scrapers.downloader.raw_save import RawSave
from scrapers.downloader.redirects import Redirects
from scrapers.downloader.retry import Retry
from scrapers.downloader.robots import RobotsTxt
from scrapers.downloader.transport import Transport
from scrapers.encoding import decode_body
from scrapers.registry_model import Registry, Source

# what callers import from here (the crawl, the archive, the tests)
__all__ = ["Fetcher", "FetchError", "Response", "Skipped", "decode_body", "error_class"]


class Fetcher:
    """One per crawl run: shares host gates, robots cache and HTTP clients across sources."""

    def __init__(self, registry: Registry, store=None, *, sleep=time.sleep, rng: random.Random | None = None):
        self.registry = registry
        self.store = store
        self.user_agent = registry.user_agent
        self.gates = HostGates()
        self.transport = Transport(registry.user_agent)
        self.allow_list = AllowList(registry)
        self.robots = RobotsTxt(registry.user_agent, self.gates, fetch=self.send)
        self.policies = self.downloader_policies(sleep, rng or random.Random())
        self._handler: Handler = chain(self.policies, self.transport)
        self.sent_log = self.transport.sent_log  # (host, monotonic time a request left): politeness audit
        self._clients = self.transport.clients  # a test swaps a client in (tests/reliability)

    def downloader_policies(self, sleep, rng: random.Random) -> list[Policy]:
        """THE order of the policies (the one place it is declared), outermost first."""
        return [
            self.allow_list,                      # refuse what is off the allow-list (Skipped "offsite")
            self.robots,                          # refuse what robots.txt disallows (Skipped "robots")
            ConditionalGet(self.store),           # If-None-Match / If-Modified-Since; validators of a 200 kept
            RawSave(self.store),                  # the final response saved before anyone parses it
            Redirects(self.allow_list, self.robots),  # 3xx by hand, every hop checked again
            Retry(rng, sleep),                    # back-off on timeouts, connection errors, 5xx, 429
            PerHostGate(self.gates, sleep),       # spacing and concurrency per host
        ]

    def send(self, request: Request) -> Response:
        """A request through every policy, then the transport."""
        return self._handler(request)

    def fetch(self, url: str, source: Source, *, stats=None, conditional: bool = True, save: bool = True) -> Response:
        """GET `url` for `source`. Raises Skipped (robots/offsite) or FetchError. Returns the
        final response (saved to the store unless 304); 3xx redirects are followed by hand."""
        return self.send(Request(url, source, stats, conditional=conditional, save=save))

    def refusal(self, url: str, source: Source) -> tuple[str, str] | None:
        """Why `url` must not be fetched for `source`: (kind, reason), or None."""
        return self.allow_list.refusal(url, source)

    def client(self, private: bool) -> httpx.Client:
        return self.transport.client(private)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""robots.txt per host, fetched once a run (through the policies below this one) and cached: 200
parsed (Crawl-delay honoured by the host's gate, capped at 30 s), 404/410 and other 4xx allow
all, 401/403 and 5xx/unreachable disallow all."""
from __future__ import annotations

import logging
import threading
from dataclasses import replace
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from scrapers.downloader.base import FetchError, Handler, Request, Response, Skipped, count_error
from scrapers.downloader.host_gate import HostGates
from scrapers.encoding import decode_body
from scrapers.hosts import host_of

log = logging.getLogger("scrapers.fetch")

MAX_CRAWL_DELAY = 30.0


class RobotsTxt:
    """`fetch` sends a request through the whole policy chain (robots.txt requests have
    `obey_robots`, `follow_redirects` and `conditional` off; they are saved as any response)."""

    def __init__(self, user_agent: str, gates: HostGates, fetch: Handler):
        self.ua_token = user_agent.split("/")[0].split()[0]
        self.gates = gates
        self.fetch = fetch
        self._rules: dict[str, RobotFileParser | bool] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str, request: Request) -> bool:
        host = host_of(url)
        with self._lock:
            lock = self._locks.setdefault(host, threading.Lock())
        with lock:
            if host not in self._rules:
                self._rules[host] = self._load(url, request)
        rules = self._rules[host]
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.ua_token, url)

    def _load(self, url: str, request: Request) -> RobotFileParser | bool:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        source, stats = request.source, request.stats
        pol = replace(source.politeness, retries=min(1, source.politeness.retries))
        try:
            resp = self.fetch(Request(robots_url, source, stats, pol, conditional=False,
                                      follow_redirects=False, obey_robots=False))
        except FetchError as exc:
            log.warning("robots.txt %s unreachable (%s): disallow all for this run", robots_url, exc)
            count_error(stats, exc.reason)
            return False
        if resp.status >= 500 or resp.status in (401, 403):
            # source health tells a site that is down (5xx: failing) from one that refuses us (403: blocked)
            count_error(stats, f"http {resp.status}")
            log.warning("robots.txt %s answered %s: disallow all for this run", robots_url, resp.status)
            return False
        if resp.status != 200:
            return True
        rules = RobotFileParser()
        rules.parse(decode_body(resp.body, resp.headers.get("content-type")).splitlines())
        delay = rules.crawl_delay(self.ua_token)
        if delay:
            gate = self.gates.get(parts.hostname or "", source.politeness)
            gate.delay = max(gate.delay, min(float(delay), MAX_CRAWL_DELAY))
        return rules

    def handle(self, request: Request, call_next: Handler) -> Response:
        if request.obey_robots and not self.allowed(request.url, request):
            raise Skipped("robots", f"robots.txt disallows {request.url}")
        return call_next(request)

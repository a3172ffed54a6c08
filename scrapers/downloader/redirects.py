"""Redirects, followed by hand: each target must pass the allow-list (else "redirect refused",
the target counted offsite) and robots.txt, at most `max_redirects` hops, loops detected. Only the
first hop carries the request's own headers (its validators belong to the URL asked for)."""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urljoin

from scrapers.downloader.allow_list import AllowList
from scrapers.downloader.base import FetchError, Handler, Request, Response, Skipped
from scrapers.downloader.robots import RobotsTxt

REDIRECT_STATUS = (301, 302, 303, 307, 308)


class Redirects:
    def __init__(self, allow_list: AllowList, robots: RobotsTxt):
        self.allow_list = allow_list
        self.robots = robots

    def handle(self, request: Request, call_next: Handler) -> Response:
        if not request.follow_redirects:
            return call_next(request)
        url, max_redirects = request.url, request.polite.max_redirects
        hop, seen, chain = request, {url}, []
        while True:
            resp = call_next(hop)
            if resp.status not in REDIRECT_STATUS or not resp.headers.get("location"):
                break
            target = urljoin(hop.url, resp.headers["location"].strip())
            chain.append(target)
            if target in seen:
                raise FetchError("redirect loop", " -> ".join([url] + chain), resp.status)
            if len(chain) > max_redirects:
                raise FetchError("too many redirects", f"more than {max_redirects}", resp.status)
            refused = self.allow_list.refusal(target, request.source)
            if refused:
                if request.stats is not None:
                    request.stats.offsite_links.add(target)
                raise FetchError("redirect refused", f"{target}: {refused[1]}", resp.status)
            if not self.robots.allowed(target, request):
                raise Skipped("robots", f"robots.txt disallows redirect target {target}")
            seen.add(target)
            hop = replace(request, url=target, headers={})
        resp.url, resp.final_url, resp.redirects = url, hop.url, chain
        return resp

"""Conditional GET: the store's validators of the URL (ETag / Last-Modified) sent as
If-None-Match / If-Modified-Since, and those of a 200 kept for the next run (a 304 then means
the stored body is current)."""
from __future__ import annotations

from dataclasses import replace

from scrapers.downloader.base import Handler, Request, Response


class ConditionalGet:
    def __init__(self, store):
        self.store = store

    def handle(self, request: Request, call_next: Handler) -> Response:
        if not request.conditional or self.store is None:
            return call_next(request)
        headers = dict(request.headers)
        etag, last_modified = self.store.validators(request.url) or (None, None)
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        resp = call_next(replace(request, headers=headers))
        if resp.status == 200:
            self.store.set_validators(request.url, resp.headers.get("etag"), resp.headers.get("last-modified"))
        return resp

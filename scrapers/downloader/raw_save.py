"""Raw save: every final response (status, headers, body) kept through the store before anyone
parses it, under the URL asked for (a redirect's target in `x-qpan-final-url`); a 304 has no
body to keep."""
from __future__ import annotations

from scrapers.downloader.base import Handler, Request, Response

# the body is stored decoded (httpx undoes gzip/deflate): drop what described the wire form
WIRE_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class RawSave:
    def __init__(self, store):
        self.store = store

    def handle(self, request: Request, call_next: Handler) -> Response:
        resp = call_next(request)
        if request.save and self.store is not None and resp.status != 304:
            headers = {k: v for k, v in resp.headers.items() if k not in WIRE_HEADERS}
            if resp.final_url and resp.final_url != request.url:
                headers["x-qpan-final-url"] = resp.final_url
            resp.page_sha256 = self.store.save_page(request.source.name, request.url, resp.status, headers, resp.body)
        return resp

"""A local web archive for the tests: the Wayback Machine's CDX API and `id_` capture replay
on 127.0.0.1, with the faults an archive answers and a log of every request it received.

    with ArchiveServer() as arc:
        arc.add("thoxuan.thanhhoa.gov.vn/portal/Pages/2020-12-18/X.aspx", "20201219083000", html)
        arc.add(url, "20210101000000", b"", status=302, headers={"Location": ...})
        arc.rate_limit_after = 5          # the 6th request gets a 429 (Retry-After: retry_after)
        arc.fail_once("/web/20210101000000id_/...", 503)
        os.environ["QPAN_ARCHIVE_URL"] = arc.base_url
        arc.log                           # [{"start", "end", "peer", "path", "status"}]

CDX: `url` + `matchType=prefix`, `from`/`to` (prefixes of the 14-digit timestamp),
`collapse=digest` (adjacent captures of one URL with the same digest), `filter=mimetype:...`,
`output=json`, `fl`, `limit` + `showResumeKey` (the resume key is the next row's index).
Replay: `/web/<timestamp>id_/<original>` serves the capture's status, headers and bytes; a capture
marked truncated announces more bytes than it sends and closes the connection.
"""
from __future__ import annotations

import hashlib
import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def sha1_digest(body: bytes) -> str:
    """The archive's digest form: base32 of the SHA-1 of the payload."""
    return base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


@dataclass
class StoredCapture:
    original: str
    timestamp: str
    body: bytes
    status: int = 200
    headers: dict = field(default_factory=dict)
    mimetype: str = "text/html"
    truncated: bool = False

    @property
    def digest(self) -> str:
        return sha1_digest(self.body)


class ArchiveServer:
    def __init__(self, port: int = 0):
        self.port = port
        self.captures: list[StoredCapture] = []
        self.log: list[dict] = []
        self.rate_limit_after: int | None = None   # answer 429 to the request after this many
        self.retry_after: float = 1.0
        self._faults: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._seen = 0
        self._active = 0
        self.max_active = 0
        self.httpd: ThreadingHTTPServer | None = None

    # -- content ---------------------------------------------------------------------------
    def add(self, original: str, timestamp: str, body: bytes | str, *, status: int = 200, headers=None,
            mimetype: str = "text/html", truncated: bool = False) -> StoredCapture:
        if isinstance(body, str):
            body = body.encode("utf-8")
        c = StoredCapture(original, timestamp, body, status, dict(headers or {}), mimetype, truncated)
        self.captures.append(c)
        self.captures.sort(key=lambda x: (x.original, x.timestamp))
        return c

    def fail_once(self, path: str, status: int, times: int = 1) -> None:
        self._faults.setdefault(path, []).extend([status] * times)

    # -- server ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ArchiveServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"   # keep-alive: one connection can carry the whole backfill

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                server._handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True, name="archive-server").start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def __enter__(self) -> "ArchiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        start = time.monotonic()
        with self._lock:
            self._seen += 1
            n = self._seen
            self._active += 1
            self.max_active = max(self.max_active, self._active)
            fault = self._faults.get(h.path, [])
            fault_status = fault.pop(0) if fault else None
        status = 0
        try:
            if self.rate_limit_after is not None and n == self.rate_limit_after + 1:
                status = self._send(h, 429, {"Retry-After": f"{self.retry_after:g}"}, b"Too Many Requests")
            elif fault_status:
                status = self._send(h, fault_status, {}, b"archive unavailable")
            elif h.path.startswith("/cdx/search/cdx"):
                status = self._cdx(h)
            elif h.path.startswith("/web/"):
                status = self._replay(h)
            else:
                status = self._send(h, 404, {}, b"not found")
        finally:
            with self._lock:
                self._active -= 1
                self.log.append({"start": start, "end": time.monotonic(), "peer": h.client_address[1],
                                 "path": h.path, "status": status, "n": n})

    def _send(self, h, status: int, headers: dict, body: bytes, length: int | None = None) -> int:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        h.end_headers()
        h.wfile.write(body)
        h.wfile.flush()
        return status

    def _cdx(self, h) -> int:
        q = {k: v[-1] for k, v in parse_qs(urlsplit(h.path).query).items()}
        prefix = q.get("url", "")
        lo, hi = q.get("from", ""), q.get("to", "")
        rows, last = [], None
        for c in self.captures:
            bare = c.original.split("://", 1)[-1]
            if not (bare.startswith(prefix) if q.get("matchType") == "prefix" else bare == prefix):
                continue
            if lo and c.timestamp[:len(lo)] < lo or hi and c.timestamp[:len(hi)] > hi:
                continue
            if q.get("filter", "").startswith("mimetype:") and c.mimetype != q["filter"].split(":", 1)[1]:
                continue
            if q.get("collapse") == "digest" and last is not None and last.original == c.original \
                    and last.digest == c.digest:
                continue
            last = c
            rows.append({"timestamp": c.timestamp, "original": c.original, "mimetype": c.mimetype,
                         "statuscode": str(c.status), "digest": c.digest, "length": str(len(c.body))})
        fields = q.get("fl", "timestamp,original,mimetype,statuscode,digest,length").split(",")
        begin = int(q.get("resumeKey", "0"))
        limit = int(q.get("limit", "0")) or len(rows)
        page = rows[begin:begin + limit]
        out = [fields] + [[r[f] for f in fields] for r in page]
        if q.get("showResumeKey") == "true" and begin + limit < len(rows):
            out += [[], [str(begin + limit)]]
        return self._send(h, 200, {"Content-Type": "application/json"}, json.dumps(out).encode())

    def _replay(self, h) -> int:
        rest = h.path[len("/web/"):]
        ts, _, original = rest.partition("id_/")
        for c in self.captures:
            if c.timestamp == ts and c.original == original:
                headers = {"Content-Type": "text/html; charset=utf-8", **c.headers}
                if c.truncated:
                    self._send(h, c.status, headers, c.body[: len(c.body) // 2], length=len(c.body))
                    h.close_connection = True
                    return c.status
                return self._send(h, c.status, headers, c.body)
        return self._send(h, 404, {}, b"not in the archive")

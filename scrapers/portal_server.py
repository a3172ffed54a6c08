"""A local portal server for the sample sources, tests and benchmarks.

Serves the committed fixtures (fixtures/portal/manifest.json): one listener per site, each on
its own loopback address (127.0.0.2 Thọ Xuân, 127.0.0.3 Ngọc Lặc, 127.0.0.4 Báo Thanh Hóa,
127.0.0.5 dangcongsan, 127.0.0.6 Hướng Hóa), all on the same port, so that every site is a
distinct host and per-host politeness is real. `scrapers/sample_sources.yml` points at them
with `${QPAN_SAMPLE_PORT}`.

    with PortalServer() as srv:             # fixtures/portal, a free port
        srv.base_url                        # http://127.0.0.2:PORT (first site)
        srv.url("ngoclac", "/portal/...")   # any site
        srv.set_fault("/rss/thoi-su.xml", "503", times=2, retry_after=1)
        os.environ.update(srv.env())        # QPAN_SAMPLE_PORT for the sample registry

Responses carry ETag and Last-Modified and answer conditional GETs with 304.
Faults (per path, optionally per site; `times` = how many requests get it, then normal):
  500 | 503 (retry_after=s) | 429 (retry_after=s) | 404 | 410 | slow (seconds=s) |
  truncated (Content-Length larger than the body) | reset (connection closed, no response) |
  cp1258_as_utf8 (cp1258 bytes declared utf-8) | utf8_as_cp1258 (utf-8 declared windows-1258) |
  redirect (to=url) | redirect_loop | redirect_offsite (to=url) | robots_disallow (serve "Disallow: /") |
  big (size=bytes) | error_page (200 with chrome, no article) |
  bad_gzip (200, Content-Encoding: gzip, a body that does not decode)
`latency` (seconds, per request) simulates a distant server (benchmarks).
A fault on path "*" applies to every path of the site (e.g. a portal answering 503 to everything).
`set_template(site, REDESIGN)` serves the site's pages through a new template (class names
rewritten), as when a portal is redesigned; `set_template(site, None)` restores it.

Run by hand: `python -m scrapers.portal_server` (port: QPAN_SAMPLE_PORT, default QPAN_PG_PORT + 10,
the port `make run` and `scrapers/sample_sources.yml` use: the port is part of every sample
article's URL, so one port everywhere keeps a sample article one row).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
import unicodedata
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "portal"
# A portal redesign: the article markup's class names change (list pages keep theirs).
REDESIGN = {'class="article-': 'class="bv2-', 'class="news-detail': 'class="bv2-detail',
            'class="journal-content-article': 'class="bv2-body', 'class="article-title': 'class="bv2-title'}
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def encode_cp1258(text: str) -> bytes:
    """Vietnamese text in Windows-1258 (base letters + combining tone marks)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", ch)
        base = unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))
        tones = "".join(c for c in d if c in TONES)
        try:
            out += base.encode("cp1258") + tones.encode("cp1258")
        except UnicodeEncodeError:
            out += b"?"
    return bytes(out)


@dataclass
class Fault:
    kind: str
    times: int
    opts: dict


def content_type_for(route: str) -> str:
    if route.endswith(".xml"):
        return "application/rss+xml; charset=utf-8"
    if route.endswith(".txt"):
        return "text/plain; charset=utf-8"
    return "text/html; charset=utf-8"


class PortalServer:
    def __init__(self, site_dir: str | Path = FIXTURES, port: int = 0, latency: float = 0.0,
                 hosts: dict[str, str] | None = None):
        self.site_dir = Path(site_dir)
        self.manifest = json.loads((self.site_dir / "manifest.json").read_text(encoding="utf-8"))
        self.sites = {name: dict(s) for name, s in self.manifest["sites"].items()}
        if hosts:
            for name, host in hosts.items():
                self.sites[name]["host"] = host
        self.last_modified = self.manifest.get("last_modified", "Wed, 20 Dec 2023 09:00:00 GMT")
        self.port = port
        self.latency = latency
        self.faults: dict[tuple[str | None, str], Fault] = {}
        self.extra: dict[tuple[str, str], tuple[int, dict, bytes]] = {}
        self.templates: dict[str, dict[str, str]] = {}  # site -> markup replacements (set_template)
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "PortalServer":
        handler = self._handler_class()
        for attempt in range(20):
            servers = []
            try:
                port = self.port
                for name, site in self.sites.items():
                    srv = ThreadingHTTPServer((site["host"], port), handler)
                    srv.daemon_threads = True
                    srv.site_name = name  # type: ignore[attr-defined]
                    srv.portal = self  # type: ignore[attr-defined]
                    servers.append(srv)
                    port = srv.server_address[1]
                self.port = port
                break
            except OSError:
                for s in servers:
                    s.server_close()
                if self.port and attempt == 0 and self.port != 0:
                    raise
                self.port = 0
        else:  # pragma: no cover
            raise OSError("no free port on every loopback host")
        self._servers = servers
        for srv in servers:
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        self._servers.clear()

    def __enter__(self) -> "PortalServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        first = next(iter(self.sites.values()))
        return f"http://{first['host']}:{self.port}"

    def base(self, site: str) -> str:
        return f"http://{self.sites[site]['host']}:{self.port}"

    def url(self, site: str, path: str = "/") -> str:
        return self.base(site) + path

    def env(self) -> dict[str, str]:
        return {"QPAN_SAMPLE_PORT": str(self.port)}

    # -- faults and content ------------------------------------------------------------------
    def set_fault(self, path: str, kind: str, times: int = 1, site: str | None = None, **opts) -> None:
        with self._lock:
            self.faults[(site, path)] = Fault(kind, times, opts)

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def put(self, site: str, path: str, body: str | bytes, status: int = 200, content_type: str | None = None) -> None:
        """Add or replace a page at run time (e.g. a new article for an incremental run)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        with self._lock:
            self.extra[(site, path)] = (status, {"Content-Type": content_type or content_type_for(path)}, data)

    def set_template(self, site: str, replacements: dict[str, str] | None) -> None:
        """Serve the site's HTML through these markup replacements (None: the original pages)."""
        with self._lock:
            if replacements:
                self.templates[site] = dict(replacements)
            else:
                self.templates.pop(site, None)

    def take_fault(self, site: str, path: str) -> Fault | None:
        with self._lock:
            for key in ((site, path), (None, path), (site, "*"), (None, "*")):
                f = self.faults.get(key)
                if f and f.times > 0:
                    f.times -= 1
                    return f
        return None

    def requests_to(self, site: str | None = None, path: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if (site is None or r["site"] == site) and (path is None or r["path"] == path)]

    def reset_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def content(self, site: str, route: str) -> tuple[int, dict, bytes] | None:
        with self._lock:
            if (site, route) in self.extra:
                return self.extra[(site, route)]
        entry = self.sites[site]["routes"].get(route)
        if entry is None:
            return None
        data = (self.site_dir / entry["file"]).read_bytes()
        ctype = content_type_for(route)
        with self._lock:
            replacements = self.templates.get(site)
        if replacements and ctype.startswith("text/html"):
            text = data.decode("utf-8")
            for old, new in replacements.items():
                text = text.replace(old, new)
            data = text.encode("utf-8")
        return 200, {"Content-Type": ctype}, data

    # -- the handler -------------------------------------------------------------------------
    def _handler_class(self):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "qpan-portal/1.0"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802
                portal: PortalServer = self.server.portal  # type: ignore[attr-defined]
                site = self.server.site_name  # type: ignore[attr-defined]
                t0 = time.monotonic()
                rec = {"site": site, "path": self.path, "start": t0, "status": None,
                       "ua": self.headers.get("User-Agent"), "inm": self.headers.get("If-None-Match")}
                with portal._lock:
                    portal.requests.append(rec)
                try:
                    rec["status"] = portal._serve(self, site)
                finally:
                    rec["end"] = time.monotonic()

        return Handler

    def _send(self, h, status: int, headers: dict, body: bytes, head_only=False) -> int:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        if "Content-Length" not in headers:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if body and not head_only:
            h.wfile.write(body)
        return status

    def _serve(self, h, site: str) -> int:
        if self.latency:
            time.sleep(self.latency)
        parts = urlsplit(h.path)
        route = parts.path + (f"?{parts.query}" if parts.query else "")
        path_only = parts.path
        fault = self.take_fault(site, route) or (self.take_fault(site, path_only) if route != path_only else None)
        if fault:
            r = self._fault(h, site, route, path_only, parts, fault)
            if r is not None:
                return r
        got = self.content(site, route)
        if got is None:
            return self._send(h, 404, {"Content-Type": "text/html; charset=utf-8"},
                              "<html><body><h1>404</h1><p>Không tìm thấy trang</p></body></html>".encode())
        status, headers, body = got
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = dict(headers, ETag=etag, **{"Last-Modified": self.last_modified, "Cache-Control": "max-age=0"})
        if status == 200 and (h.headers.get("If-None-Match") == etag or
                              (not h.headers.get("If-None-Match") and h.headers.get("If-Modified-Since") == self.last_modified)):
            return self._send(h, 304, {"ETag": etag, "Last-Modified": self.last_modified, "Content-Length": "0"}, b"")
        return self._send(h, status, headers, body)

    def _fault(self, h, site, route, path_only, parts, f: Fault) -> int | None:
        k, o = f.kind, f.opts
        html = {"Content-Type": "text/html; charset=utf-8"}
        if k in ("500", "502", "404", "410"):
            return self._send(h, int(k), html, f"<html><body>HTTP {k}</body></html>".encode())
        if k in ("503", "429"):
            return self._send(h, int(k), dict(html, **{"Retry-After": str(o.get("retry_after", 1))}),
                              b"<html><body>busy</body></html>")
        if k == "slow":
            time.sleep(float(o.get("seconds", 2.0)))
            return None
        if k == "reset":
            h.close_connection = True
            try:
                h.connection.shutdown(2)
            except OSError:
                pass
            return 0
        if k == "truncated":
            got = self.content(site, route) or self.content(site, path_only)
            body = got[2] if got else b"x" * 1000
            h.send_response(200)
            h.send_header("Content-Type", "text/html; charset=utf-8")
            h.send_header("Content-Length", str(len(body) + 500))
            h.end_headers()
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.close_connection = True
            return 200
        if k in ("cp1258_as_utf8", "utf8_as_cp1258"):
            got = self.content(site, route)
            if got is None:
                return None
            text = got[2].decode("utf-8")
            if k == "cp1258_as_utf8":
                body, ctype = encode_cp1258(text), "text/html; charset=utf-8"
            else:
                body = text.replace('<meta charset="utf-8">', '<meta charset="windows-1258">').encode("utf-8")
                ctype = "text/html; charset=windows-1258"
            return self._send(h, 200, {"Content-Type": ctype}, body)
        if k == "redirect":
            return self._send(h, int(o.get("status", 301)), {"Location": o["to"], "Content-Length": "0"}, b"")
        if k == "redirect_loop":
            q = parse_qs(parts.query)
            target = path_only if "hop" in q else path_only + "?hop=1"
            self.set_fault(path_only, "redirect_loop", times=1, site=site)  # the loop goes on
            return self._send(h, 302, {"Location": target, "Content-Length": "0"}, b"")
        if k == "redirect_offsite":
            return self._send(h, 302, {"Location": o.get("to", "http://offsite.example.com/bai-viet.html"),
                                       "Content-Length": "0"}, b"")
        if k == "robots_disallow":
            return self._send(h, 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /\n")
        if k == "big":
            size = int(o.get("size", 2_000_000))
            return self._send(h, 200, html, b"<html><body>" + b"x" * size + b"</body></html>")
        if k == "bad_gzip":
            return self._send(h, 200, dict(html, **{"Content-Encoding": "gzip"}),
                              b"\x1f\x8b\x08\x00" + b"this is not a gzip stream " * 40)
        if k == "error_page":
            return self._send(h, 200, html, (
                '<html><head><meta charset="utf-8"><title>Lỗi</title></head><body><div class="portal-name">Cổng thông tin'
                '</div><p>Đã xảy ra lỗi. Trang bạn yêu cầu không tồn tại.</p></body></html>').encode())
        raise ValueError(f"unknown fault {k!r}")


def sample_site() -> Path:
    """The committed sample site (fixtures/portal)."""
    return FIXTURES


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Serve the sample portals on loopback hosts 127.0.0.2-6.")
    from qpan.core.config import sample_port

    ap.add_argument("--port", type=int, default=sample_port(),
                    help="default: QPAN_SAMPLE_PORT, else QPAN_PG_PORT + 10 (what `make run` and sample_sources.yml use)")
    ap.add_argument("--latency", type=float, default=0.0)
    ap.add_argument("--site-dir", type=Path, default=FIXTURES)
    args = ap.parse_args(argv)
    with PortalServer(args.site_dir, port=args.port, latency=args.latency) as srv:
        for name in srv.sites:
            print(f"{name:12s} {srv.base(name)}")
        print(f"export QPAN_SAMPLE_PORT={srv.port}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

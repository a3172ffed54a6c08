"""The transport under the policies: one GET on its own connection (httpx, sync). The address the
connection reached is checked before a byte of the request is sent (no DNS rebinding: a name that
resolves, or re-resolves, to a non-public address is refused unless the source opts in); a
`timeout` per connect/read and a `deadline` for the whole response (a drip-fed one is cut there);
bodies over `max_body_bytes` aborted; the per-host gate told when the request left."""
from __future__ import annotations

import socket
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import httpx

from scrapers.downloader.base import FetchError, Request, Response
from scrapers.hosts import host_of, is_public_address
from scrapers.registry_model import Politeness

ACCEPT = "text/html,application/xhtml+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.8"


class Transport:
    def __init__(self, user_agent: str):
        # a proxy from the environment (public sources only) resolves names itself: the address
        # connected to is the proxy's, which the operator chose, not the page's host
        self.proxy_hosts = {urlsplit(u).hostname for k, u in urllib.request.getproxies().items()
                            if k != "no" and "://" in u} - {None}
        self.headers = {"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate", "Accept": ACCEPT}
        self.clients: dict[bool, httpx.Client] = {}
        self.sent_log: list[tuple[str, float]] = []  # (host, monotonic time a request left): politeness audit
        self._lock = threading.Lock()

    def client(self, private: bool) -> httpx.Client:
        """Created on first use (a client costs ~0.1-0.5 s of TLS setup). Loopback sample
        sources never go through a proxy from the environment (trust_env=False). No connection
        is kept alive: each request connects, so its peer address is checked and its deadline
        can close its own socket (at a polite 1 request/s per host, the extra handshake is cheap)."""
        with self._lock:
            c = self.clients.get(private)
            if c is None:
                c = self.clients[private] = httpx.Client(
                    follow_redirects=False, headers=self.headers, trust_env=not private,
                    limits=httpx.Limits(max_keepalive_connections=0))
            return c

    def close(self) -> None:
        for c in self.clients.values():
            c.close()
        self.clients.clear()

    def __call__(self, request: Request) -> Response:
        url, pol, gate = request.url, request.polite, request.gate
        check_peer = not request.source.allow_private
        left: list[float] = []
        watch = Deadline(pol.deadline)
        asked = time.monotonic()

        def trace(event: str, info: dict) -> None:
            if event == "connection.connect_tcp.started":
                watch.host = info.get("host")
            elif event == "connection.connect_tcp.complete":
                stream = info["return_value"]
                watch.socket = stream.get_extra_info("socket")
                if check_peer and watch.host not in self.proxy_hosts:
                    peer = stream.get_extra_info("server_addr")[0]
                    if not is_public_address(peer):  # before a byte of the request is sent: fail closed
                        stream.close()
                        raise FetchError("address refused", f"{host_of(url)} connected to {peer}, "
                                                            f"not a public address")
            # the request's headers are on the wire: this, not the gate, is when it left
            elif event.endswith("send_request_headers.complete") and not left:
                left.append(time.monotonic())
                if gate is not None:
                    gate.sent()

        try:
            with watch, self.client(request.source.allow_private).stream(
                    "GET", url, headers=request.headers, timeout=pol.timeout, extensions={"trace": trace}) as r:
                length = r.headers.get("content-length")
                if length and length.isdigit() and int(length) > pol.max_body_bytes:
                    raise FetchError("body too large", f"Content-Length {length} > {pol.max_body_bytes}", r.status_code)
                chunks, size = [], 0
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    if size > pol.max_body_bytes:
                        raise FetchError("body too large", f"more than {pol.max_body_bytes} bytes", r.status_code)
                    watch.check()
                    chunks.append(chunk)
                watch.check()
                resp = Response(url, url, r.status_code, {k.lower(): v for k, v in r.headers.items()}, b"".join(chunks))
        except httpx.HTTPError as exc:
            watch.check()  # the deadline closed the socket: a timeout, whatever httpx made of it
            raise as_fetch_error(exc, pol) from exc
        finally:
            if gate is not None and not left:  # never reached the wire: still spaced from now
                gate.sent()
            self.sent_log.append((host_of(url), left[0] if left else time.monotonic()))
        stats = request.stats
        if stats is not None and hasattr(stats, "response_ms"):  # source health: median response time
            stats.response_ms.append(round((time.monotonic() - asked) * 1000, 1))
        return resp


def as_fetch_error(exc: httpx.HTTPError, pol: Politeness) -> FetchError:
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("timeout", f"{type(exc).__name__} after {pol.timeout}s")
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc).lower()
        return FetchError("truncated body" if "incomplete" in text or "complete message" in text
                          else "connection error", str(exc))
    if isinstance(exc, httpx.TransportError):
        return FetchError("connection error", f"{type(exc).__name__}: {exc}")
    if isinstance(exc, httpx.DecodingError):  # e.g. "Content-Encoding: gzip" over a body that is not gzip
        return FetchError("undecodable body", f"{type(exc).__name__}: {exc}")
    return FetchError("connection error", f"{type(exc).__name__}: {exc}")


class Deadline:
    """The overall deadline of one response. The per-read timeout does not bound a server that
    sends a byte just before each read would time out; at the deadline a timer shuts the
    connection's socket down (that wakes the blocked read), and `check` turns what follows into
    a timeout."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.host: str | None = None
        self.socket: socket.socket | None = None
        self.expired = threading.Event()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def _expire(self) -> None:
        self.expired.set()
        sock = self.socket
        if sock is not None:
            try:  # the plain socket's shutdown, also under TLS: it only wakes the reader, which closes
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def check(self) -> None:
        if self.expired.is_set():
            raise FetchError("timeout", f"response not complete within the {self.seconds:g}s deadline")

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()

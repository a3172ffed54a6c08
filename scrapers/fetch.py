"""A polite HTTP fetcher (httpx, sync; one thread per host in `crawl`).

- only http(s) URLs on hosts of the registry's allow-list; redirects followed by hand, within
  the allow-list, at most `max_redirects` deep, loops detected; redirects to private/loopback
  addresses or other schemes refused unless the source opts in (`allow_private`);
- the address a connection actually reached is checked before the request is sent (a name
  that resolves, or re-resolves, to a non-public address is refused: no DNS rebinding); each
  connection serves one request, so the check and the deadline below hold for every response;
- robots.txt per host, cached for the run: 200 parsed (Crawl-delay honoured), 404/410 and
  other 4xx allow all, 401/403 and 5xx/unreachable disallow all;
- per host: `delay` seconds between request starts and at most `concurrency` requests in
  flight; different hosts proceed in parallel;
- retries with exponential back-off + jitter on timeouts, connection errors, truncated bodies,
  5xx and 429 (Retry-After honoured, capped at `retry_after_cap`);
- conditional GET from the store's validators (ETag / Last-Modified);
- `timeout` per connect/read and a `deadline` per response (headers and body: a drip-fed
  response is cut there);
- bodies over `max_body_bytes` aborted; every final response saved with `store.save_page`
  (status, headers, body) before anyone parses it.
"""
from __future__ import annotations

import email.utils
import logging
import random
import re
import socket
import threading
import time
import unicodedata
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from scrapers.registry import Politeness, Registry, Source, host_of, is_private_host, is_public_address

log = logging.getLogger(__name__)


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


# -- encoding -----------------------------------------------------------------------------
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_XML_ENC = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)["']""", re.I)
# letters only Vietnamese text has (none of them is in Latin-1/cp1252): a cp1252 misreading of
# cp1258 bytes yields "Ò", "ì", "Þ" instead, so the count tells the readings apart
_VI_LETTERS = re.compile(r"[ăđơưảãạằắẳẵặầấẩẫậẻẽẹềếểễệỉĩịỏọồốổỗộờớởỡợủũụừứửữựỳỷỹỵ]", re.I)


def _norm_enc(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    try:
        import codecs

        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    out = []
    if content_type:
        m = re.search(r"charset\s*=\s*([^\s;]+)", content_type, re.I)
        if m:
            out.append(_norm_enc(m.group(1)))
    head = body[:4096]
    for rx in (_XML_ENC, _META_CHARSET):
        m = rx.search(head)
        if m:
            out.append(_norm_enc(m.group(1).decode("ascii", "ignore")))
    return [e for e in out if e]


def decode_body(body: bytes, content_type: str | None = None) -> str:
    """Text of a response, NFC. Valid UTF-8 wins (a page declared cp1258 that is UTF-8 is
    UTF-8); else the declared charset (header, meta, XML) if it decodes strictly; else a
    detector (charset-normalizer, cp1258 included) choosing the most Vietnamese reading."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return unicodedata.normalize("NFC", body.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    for enc in declared_charsets(body, content_type):
        if enc == "utf-8":
            continue
        try:
            return unicodedata.normalize("NFC", body.decode(enc))
        except (UnicodeDecodeError, LookupError):
            continue
    return unicodedata.normalize("NFC", _detect(body))


def _detect(body: bytes) -> str:
    candidates: list[str] = []
    try:
        from charset_normalizer import from_bytes

        for match in from_bytes(body, cp_isolation=["cp1258", "cp1252", "latin_1", "utf_16", "cp1251"]):
            candidates.append(str(match))
    except Exception:  # noqa: BLE001 - the detector is best effort
        pass
    try:
        candidates.append(body.decode("cp1258"))
    except UnicodeDecodeError:
        pass
    if not candidates:
        return body.decode("cp1258", errors="replace")
    return max(candidates, key=lambda t: len(_VI_LETTERS.findall(unicodedata.normalize("NFC", t))))


# -- politeness ---------------------------------------------------------------------------
class HostGate:
    """Spacing of `delay` seconds between request starts to one host, `concurrency` in flight."""

    def __init__(self, delay: float, concurrency: int = 1):
        self.delay = delay
        self.sem = threading.Semaphore(max(1, concurrency))
        self.lock = threading.Lock()
        self.next_at = 0.0

    def defer(self, seconds: float) -> None:
        with self.lock:
            self.next_at = max(self.next_at, time.monotonic() + seconds)

    def sent(self) -> None:
        """Re-anchor the spacing on the moment the request actually left: called when its
        headers are written to the socket (httpcore's trace), so a pause between the gate and the
        socket (GC, a thread that lost the GIL) cannot shorten the next gap."""
        with self.lock:
            self.next_at = max(self.next_at, time.monotonic() + self.delay)

    @contextmanager
    def slot(self, sleep=time.sleep):
        self.sem.acquire()
        try:
            while True:
                with self.lock:
                    now = time.monotonic()
                    wait = self.next_at - now
                    if wait <= 0:
                        self.next_at = now + self.delay
                        break
                sleep(wait)
            yield
        finally:
            self.sem.release()


RETRYABLE_STATUS = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, dt.timestamp() - time.time())


def error_class(reason: str) -> str:
    """The class of a fetch failure (audit.crawl_runs.http_errors_by_class): 403 and 429 apart
    (a site refusing us), other 4xx, 5xx, timeout, network (reset, truncated, redirects...)."""
    if reason.startswith("http "):
        code = reason[5:].strip()
        return code if code in ("403", "429") else f"{code[:1]}xx"
    return "timeout" if reason == "timeout" else "network"


def _count_error(stats, reason: str) -> None:
    if stats is not None and hasattr(stats, "http_errors"):
        cls = error_class(reason)
        stats.http_errors[cls] = stats.http_errors.get(cls, 0) + 1


class Fetcher:
    """One per crawl run: shares host gates, robots cache and HTTP clients across sources."""

    def __init__(self, registry: Registry, store=None, *, sleep=time.sleep, rng: random.Random | None = None):
        self.registry = registry
        self.store = store
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.user_agent = registry.user_agent
        self.ua_token = registry.user_agent.split("/")[0].split()[0]
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, RobotFileParser | bool] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        # a proxy from the environment (public sources only) resolves names itself: the address
        # connected to is the proxy's, which the operator chose, not the page's host
        self._proxy_hosts = {urlsplit(u).hostname for k, u in urllib.request.getproxies().items()
                             if k != "no" and "://" in u} - {None}
        self._headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
                         "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/xml;q=0.9,*/*;q=0.8"}
        self._clients: dict[bool, httpx.Client] = {}
        self.sent_log: list[tuple[str, float]] = []  # (host, monotonic time a request left): politeness audit

    def client(self, private: bool) -> httpx.Client:
        """Created on first use (a client costs ~0.1-0.5 s of TLS setup). Loopback sample
        sources never go through a proxy from the environment (trust_env=False). No connection
        is kept alive: each request connects, so its peer address is checked and its deadline
        can close its own socket (at a polite 1 request/s per host, the extra handshake is cheap)."""
        with self._lock:
            c = self._clients.get(private)
            if c is None:
                c = self._clients[private] = httpx.Client(
                    follow_redirects=False, headers=self._headers, trust_env=not private,
                    limits=httpx.Limits(max_keepalive_connections=0))
            return c

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- policy --------------------------------------------------------------------------
    def gate(self, host: str, pol: Politeness) -> HostGate:
        with self._lock:
            g = self._gates.get(host)
            if g is None:
                g = self._gates[host] = HostGate(pol.delay, pol.concurrency)
            elif pol.delay > g.delay:
                g.delay = pol.delay
            return g

    def refusal(self, url: str, source: Source) -> tuple[str, str] | None:
        """Why `url` must not be fetched for `source`: (kind, reason), or None."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return "offsite", f"scheme {parts.scheme or '(none)'!r} refused"
        host = (parts.hostname or "").lower()
        if not host or not self.registry.host_allowed(host):
            return "offsite", f"host {host!r} outside the allow-list"
        if not source.allow_private and is_private_host(host):  # names: checked on connection (_one)
            return "offsite", f"host {host!r} is a private/loopback address"
        return None

    def robots_allowed(self, url: str, source: Source, stats=None) -> bool:
        host = host_of(url)
        with self._lock:
            lock = self._robots_locks.setdefault(host, threading.Lock())
        with lock:
            if host not in self._robots:
                self._robots[host] = self._load_robots(url, source, stats)
        rp = self._robots[host]
        if isinstance(rp, bool):
            return rp
        return rp.can_fetch(self.ua_token, url)

    def _load_robots(self, url: str, source: Source, stats=None):
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        pol = Politeness(**{**source.politeness.__dict__, "retries": min(1, source.politeness.retries)})
        try:
            resp = self._get(robots_url, source, pol, {}, stats)
        except FetchError as exc:
            log.warning("robots.txt %s unreachable (%s): disallow all for this run", robots_url, exc)
            _count_error(stats, exc.reason)
            return False
        self._save(source, robots_url, resp)
        if resp.status >= 500 or resp.status in (401, 403):
            # source health tells a site that is down (5xx: failing) from one that refuses us (403: blocked)
            _count_error(stats, f"http {resp.status}")
            log.warning("robots.txt %s answered %s: disallow all for this run", robots_url, resp.status)
            return False
        if resp.status != 200:
            return True
        rp = RobotFileParser()
        rp.parse(decode_body(resp.body, resp.headers.get("content-type")).splitlines())
        delay = rp.crawl_delay(self.ua_token)
        if delay:
            self.gate(parts.hostname or "", source.politeness).delay = max(self.gate(parts.hostname or "", source.politeness).delay, min(float(delay), 30.0))
        return rp

    # -- fetching ------------------------------------------------------------------------
    def fetch(self, url: str, source: Source, *, stats=None, conditional: bool = True, save: bool = True) -> Response:
        """GET `url` for `source`. Raises Skipped (robots/offsite) or FetchError. Returns the
        final response (saved to the store unless 304); 3xx redirects are followed by hand."""
        refused = self.refusal(url, source)
        if refused:
            raise Skipped(*refused)
        if not self.robots_allowed(url, source, stats):
            raise Skipped("robots", f"robots.txt disallows {url}")
        headers = {}
        if conditional and self.store is not None:
            v = self.store.validators(url)
            if v:
                if v[0]:
                    headers["If-None-Match"] = v[0]
                if v[1]:
                    headers["If-Modified-Since"] = v[1]
        pol = source.politeness
        current, seen, chain = url, {url}, []
        while True:
            resp = self._get(current, source, pol, headers if current == url else {}, stats)
            if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("location"):
                target = urljoin(current, resp.headers["location"].strip())
                chain.append(target)
                if target in seen:
                    raise FetchError("redirect loop", " -> ".join([url] + chain), resp.status)
                if len(chain) > pol.max_redirects:
                    raise FetchError("too many redirects", f"more than {pol.max_redirects}", resp.status)
                refused = self.refusal(target, source)
                if refused:
                    if stats is not None:
                        stats.offsite_links.add(target)
                    raise FetchError("redirect refused", f"{target}: {refused[1]}", resp.status)
                if not self.robots_allowed(target, source, stats):
                    raise Skipped("robots", f"robots.txt disallows redirect target {target}")
                seen.add(target)
                current = target
                continue
            break
        resp.url, resp.final_url, resp.redirects = url, current, chain
        if resp.status == 304:
            return resp
        if save:
            self._save(source, url, resp)
        if resp.status == 200 and self.store is not None:
            self.store.set_validators(url, resp.headers.get("etag"), resp.headers.get("last-modified"))
        return resp

    def _save(self, source: Source, url: str, resp: Response) -> None:
        if self.store is None or resp.status == 304:
            return
        # the body is stored decoded (httpx undoes gzip/deflate): drop what described the wire form
        headers = {k: v for k, v in resp.headers.items() if k not in ("content-encoding", "content-length", "transfer-encoding")}
        if resp.final_url and resp.final_url != url:
            headers["x-qpan-final-url"] = resp.final_url
        resp.page_sha256 = self.store.save_page(source.name, url, resp.status, headers, resp.body)

    def _get(self, url: str, source: Source, pol: Politeness, headers: dict, stats) -> Response:
        host = host_of(url)
        gate = self.gate(host, pol)
        client = self.client(source.allow_private)
        last_exc: FetchError | None = None
        for attempt in range(pol.retries + 1):
            wait = None
            try:
                with gate.slot(self.sleep):
                    asked = time.monotonic()
                    resp = self._one(client, url, pol, headers, gate, check_peer=not source.allow_private)
                if stats is not None and hasattr(stats, "response_ms"):  # source health: median response time
                    stats.response_ms.append(round((time.monotonic() - asked) * 1000, 1))
                resp.attempts = attempt + 1
                if resp.status not in RETRYABLE_STATUS:
                    return resp
                ra = retry_after_seconds(resp.headers.get("retry-after"))
                if ra is not None:
                    wait = min(ra, pol.retry_after_cap)
                    gate.defer(wait)
                last_exc = None
                final = resp
            except FetchError as exc:
                if exc.reason in ("body too large", "address refused"):
                    raise
                last_exc, final = exc, None
            if attempt >= pol.retries:
                break
            backoff = pol.backoff * (2 ** attempt) + self.rng.uniform(0, pol.backoff)
            wait = max(wait or 0.0, backoff)
            if stats is not None:
                stats.retried += 1
            log.info("retry %d/%d of %s in %.2fs (%s)", attempt + 1, pol.retries, url,
                     wait, last_exc.reason if last_exc else f"HTTP {final.status}")
            self.sleep(wait)
        if last_exc is not None:
            raise last_exc
        return final

    def _one(self, client: httpx.Client, url: str, pol: Politeness, headers: dict, gate: HostGate | None = None,
             *, check_peer: bool = True) -> Response:
        left: list[float] = []
        watch = _Deadline(pol.deadline)

        def trace(event: str, info: dict) -> None:
            if event == "connection.connect_tcp.started":
                watch.host = info.get("host")
            elif event == "connection.connect_tcp.complete":
                stream = info["return_value"]
                watch.socket = stream.get_extra_info("socket")
                if check_peer and watch.host not in self._proxy_hosts:
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
            with watch, client.stream("GET", url, headers=headers, timeout=pol.timeout,
                                      extensions={"trace": trace}) as r:
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
                hdrs = {k.lower(): v for k, v in r.headers.items()}
                return Response(url, url, r.status_code, hdrs, b"".join(chunks))
        except httpx.HTTPError as exc:
            watch.check()  # the deadline closed the socket: a timeout, whatever httpx made of it
            raise _fetch_error(exc, pol) from exc
        finally:
            if gate is not None and not left:  # never reached the wire: still spaced from now
                gate.sent()
            self.sent_log.append((host_of(url), left[0] if left else time.monotonic()))


def _fetch_error(exc: httpx.HTTPError, pol: Politeness) -> FetchError:
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


class _Deadline:
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

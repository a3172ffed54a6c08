"""The crawler reads untrusted hosts (docs/security.md; issue 28 points 2-4): the address a
connection reaches is checked before a byte of the request is sent (DNS rebinding, a name that
fails to resolve for the check and resolves to loopback for the connection), every special-
purpose range is refused, and a response dripped a byte at a time is cut at its deadline.

Real TCP servers on 127.0.0.1 and the real fetcher; the only stand-in is the rebinding attacker's
DNS answers (the process's resolver entry point, `socket.getaddrinfo`, for one test name)."""
from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from scrapers.fetch import Fetcher, FetchError, Skipped
from scrapers.registry import Politeness, is_private_host, is_public_address, load_registry

REBIND_HOST = "rebind.qpan-test.example"


class RawServer:
    """A TCP server on 127.0.0.1 that records every byte it receives and answers with `reply`
    (a list of (bytes, seconds to wait before sending them)); robots.txt: 404 at once."""

    def __init__(self, reply=(), host="127.0.0.1"):
        self.reply = list(reply)
        self.received = bytearray()
        self.connections = 0
        self.sock = socket.create_server((host, 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with conn:
                conn.settimeout(1)
                try:
                    request = conn.recv(65536)
                    self.received += request
                    if request.startswith(b"GET /robots.txt "):
                        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                        continue
                    for data, wait in self.reply:
                        if self._stop.wait(wait):
                            return
                        conn.sendall(data)
                except OSError:
                    pass  # the client hung up (the deadline): next connection

    def close(self):
        self._stop.set()
        self.sock.close()


def _registry(tmp_path, host, *, allow_private=False, **politeness):
    pol = {"delay": 0, "retries": 0, "timeout": 2, **politeness}
    path = tmp_path / "sources.yml"
    path.write_text(f"""user_agent: "qpan-scraper/0.1 (+https://example.org/contact)"
allowed_hosts: ["{host.rsplit(':', 1)[0]}"]
sources:
  - name: sec_portal
    template: thanhhoa_portal
    base_url: http://{host}/
    unit_id: "38.389"
    allow_private: {str(allow_private).lower()}
    politeness: {{{", ".join(f"{k}: {v}" for k, v in pol.items())}}}
    discovery:
      list_pages: [{{url: /list}}]
""", encoding="utf-8")
    reg = load_registry(path)
    return reg, reg.get("sec_portal")


@pytest.fixture()
def loopback_server():
    srv = RawServer([(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 0)])
    yield srv
    srv.close()


def test_a_name_resolving_to_loopback_is_refused_on_the_connection_real_resolver(tmp_path, caplog):
    """The machine's own host name, resolved by the system resolver (/etc/hosts): refused when it
    lands on a non-public address, and the server never sees the request."""
    name = socket.gethostname()
    try:
        address = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
        srv = RawServer([(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0)], host=address)
    except OSError:
        pytest.skip(f"the host name {name!r} does not resolve to an address of this machine")
    try:
        if is_public_address(address):
            pytest.skip(f"the host name {name!r} resolves to a public address here: nothing to refuse")
        reg, source = _registry(tmp_path, f"{name}:{srv.port}")
        with Fetcher(reg) as fetcher, caplog.at_level(logging.WARNING):
            with pytest.raises(Skipped):  # robots.txt is refused first: disallow all
                fetcher.fetch(f"http://{name}:{srv.port}/list", source)
        assert srv.received == b""
        assert any("address refused" in r.getMessage() and address in r.getMessage() for r in caplog.records)
    finally:
        srv.close()


def test_dns_rebinding_to_loopback_reaches_nothing(tmp_path, loopback_server, monkeypatch, caplog):
    """The attacker's DNS fails the first lookup (a checker that treats it as public lets the URL
    through) and answers 127.0.0.1 to every later one: no request reaches the loopback server."""
    real = socket.getaddrinfo
    lookups: list[object] = []

    def rebinding(host, port, *args, **kwargs):
        if host != REBIND_HOST:
            return real(host, port, *args, **kwargs)
        lookups.append(port)
        if len(lookups) == 1:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = loopback_server.port
    reg, source = _registry(tmp_path, f"{REBIND_HOST}:{port}", retries=2, backoff=0.01)
    with Fetcher(reg, sleep=lambda s: None) as fetcher, caplog.at_level(logging.WARNING):
        with pytest.raises((Skipped, FetchError)):
            fetcher.fetch(f"http://{REBIND_HOST}:{port}/list", source)
    assert len(lookups) >= 2  # the name did rebind to loopback for some connection
    assert loopback_server.received == b"", bytes(loopback_server.received[:200])
    assert any("address refused" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("address", [
    "127.0.0.3", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "100.100.100.200",  # carrier-grade NAT (a cloud's metadata service lives there)
    "192.0.0.8", "192.0.0.170", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1", "240.0.0.1",
    "255.255.255.255", "224.0.0.1", "239.255.255.250",
    "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "2001:db8::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1",
])
def test_every_special_purpose_range_is_private(tmp_path, address):
    assert is_private_host(address) and not is_public_address(address)
    literal = f"[{address}]" if ":" in address else address
    reg, source = _registry(tmp_path, "portal.example.org")
    with Fetcher(reg) as fetcher:
        kind, reason = fetcher.refusal(f"http://{literal}/x", source) or (None, "")
    assert kind == "offsite"  # off the allow-list or private: never fetched


@pytest.mark.parametrize("address", ["8.8.8.8", "203.113.131.1", "2606:4700::1111", "2001:ee0::1"])
def test_public_addresses_stay_public(address):
    assert is_public_address(address) and not is_private_host(address)


DRIP = [(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 0)] + [(b"x", 0.1)] * 60
DRIP_HEADERS = [(bytes([b]), 0.1) for b in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 60]


@pytest.mark.parametrize("reply", [DRIP, DRIP_HEADERS], ids=["body", "headers"])
def test_a_drip_fed_response_is_cut_at_its_deadline(tmp_path, reply):
    """A byte every 0.1 s never trips the 1 s read timeout; the 1.5 s deadline cuts it (the server
    would take 6 s)."""
    srv = RawServer(reply)
    try:
        reg, source = _registry(tmp_path, "127.0.0.1", allow_private=True, timeout=1, deadline=1.5)
        assert source.politeness == Politeness(delay=0, retries=0, timeout=1, deadline=1.5)
        with Fetcher(reg) as fetcher:
            started = time.monotonic()
            with pytest.raises(FetchError) as caught:
                fetcher.fetch(f"http://127.0.0.1:{srv.port}/slow", source, conditional=False, save=False)
            took = time.monotonic() - started
        assert caught.value.reason == "timeout" and "deadline" in str(caught.value)
        assert 1.4 < took < 3.0, took
    finally:
        srv.close()

"""Per-host politeness: `delay` seconds between the starts of two requests to one host, at most
`concurrency` of them in flight, different hosts in parallel. The spacing is anchored on the
moment a request's headers reach the socket (the transport calls `sent`), and a host that
answers a retryable status with Retry-After gets nothing from any thread for that long."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import replace

from scrapers.downloader.base import Handler, Request, Response
from scrapers.downloader.retry import RETRYABLE_STATUS, retry_after_seconds
from scrapers.hosts import host_of
from scrapers.registry_model import Politeness


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


class HostGates:
    """One gate per host for the whole run, shared by its sources (the largest delay wins)."""

    def __init__(self):
        self._gates: dict[str, HostGate] = {}
        self._lock = threading.Lock()

    def get(self, host: str, pol: Politeness) -> HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = HostGate(pol.delay, pol.concurrency)
            elif pol.delay > gate.delay:
                gate.delay = pol.delay
            return gate


class PerHostGate:
    def __init__(self, gates: HostGates, sleep=time.sleep):
        self.gates = gates
        self.sleep = sleep

    def handle(self, request: Request, call_next: Handler) -> Response:
        pol = request.polite
        gate = self.gates.get(host_of(request.url), pol)
        with gate.slot(self.sleep):
            resp = call_next(replace(request, gate=gate))
        if resp.status in RETRYABLE_STATUS:
            asked_to_wait = retry_after_seconds(resp.headers.get("retry-after"))
            if asked_to_wait is not None:
                gate.defer(min(asked_to_wait, pol.retry_after_cap))
        return resp

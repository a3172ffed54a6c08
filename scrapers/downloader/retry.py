"""Retry with exponential back-off and jitter: timeouts, connection errors, truncated or
undecodable bodies (any FetchError but a refused address or an oversized body), and the statuses
in RETRYABLE_STATUS (5xx, 429), `retries` times; a Retry-After is waited (capped at
`retry_after_cap`) when longer than the back-off. The last answer or error is what the caller gets."""
from __future__ import annotations

import email.utils
import logging
import random
import time

from scrapers.downloader.base import FetchError, Handler, Request, Response

log = logging.getLogger("scrapers.fetch")

RETRYABLE_STATUS = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}
FINAL_ERRORS = ("body too large", "address refused")  # retrying would get the same answer


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


class Retry:
    def __init__(self, rng: random.Random, sleep=time.sleep):
        self.rng = rng
        self.sleep = sleep

    def handle(self, request: Request, call_next: Handler) -> Response:
        pol = request.polite
        last_exc: FetchError | None = None
        final: Response | None = None
        for attempt in range(pol.retries + 1):
            wait = None
            try:
                final = call_next(request)
                final.attempts = attempt + 1
                if final.status not in RETRYABLE_STATUS:
                    return final
                ra = retry_after_seconds(final.headers.get("retry-after"))
                if ra is not None:
                    wait = min(ra, pol.retry_after_cap)
                last_exc = None
            except FetchError as exc:
                if exc.reason in FINAL_ERRORS:
                    raise
                last_exc, final = exc, None
            if attempt >= pol.retries:
                break
            backoff = pol.backoff * (2 ** attempt) + self.rng.uniform(0, pol.backoff)
            wait = max(wait or 0.0, backoff)
            if request.stats is not None:
                request.stats.retried += 1
            log.info("retry %d/%d of %s in %.2fs (%s)", attempt + 1, pol.retries, request.url,
                     wait, last_exc.reason if last_exc else f"HTTP {final.status}")
            self.sleep(wait)
        if last_exc is not None:
            raise last_exc
        return final

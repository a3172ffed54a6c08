"""The alert outbox (issue 32): an alert for the webhook is first written to audit.alert_outbox,
then posted; one the webhook did not accept stays there and is retried with back-off until it
is, by whichever sender runs next (the next alert, the ingest DAG's health check, `qpan sources
send-alerts`), so an alert survives a webhook that is down and a sender that restarts.

Each alert carries an `idempotency_key` (also sent as the `Idempotency-Key` header): a receiver
that saw the key already can drop a repeat. On our side a row is marked sent once, in the same
transaction that locked it (`for update skip locked`): two senders never post the same row at
once, and a sent row is never posted again.

Back-off: QPAN_ALERT_RETRY_BASE_SECONDS (default 30) doubled per failed attempt, at most
QPAN_ALERT_RETRY_MAX_SECONDS (default 3600).
"""
from __future__ import annotations

import json
import logging
import time
import uuid

from psycopg.types.json import Jsonb

from qpan.core import db, settings
from qpan.health.webhook import WebhookError, httpx_logs_redacted, redact_text, redact_url

log = logging.getLogger(__name__)
ROLE = "qpan_loader"  # the role that records the alerts (audit.alerts) records their delivery too


def _base() -> float:
    return settings.get("QPAN_ALERT_RETRY_BASE_SECONDS")


def _cap() -> float:
    return settings.get("QPAN_ALERT_RETRY_MAX_SECONDS")


def enqueue(alert: dict) -> str:
    """Write the alert to the outbox (committed); returns its idempotency key."""
    key = alert.get("idempotency_key") or str(uuid.uuid4())
    payload = {**alert, "idempotency_key": key}
    with db.connect(ROLE) as conn, conn.transaction():
        conn.execute("insert into audit.alert_outbox (idempotency_key, payload) values (%s, %s) "
                     "on conflict (idempotency_key) do nothing",
                     (key, Jsonb(json.loads(json.dumps(payload, default=str)))))
    return key


def _post(url: str, payload: dict) -> None:
    """POST one alert; a failure raises WebhookError naming the webhook's host only (the error is
    stored in the outbox and logged: the URL's secret path must be in neither)."""
    import httpx

    headers = {"Content-Type": "application/json", "Idempotency-Key": payload["idempotency_key"]}
    token = settings.get("QPAN_ALERT_WEBHOOK_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with httpx_logs_redacted(url):
            resp = httpx.post(url, content=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                              headers=headers, timeout=settings.get("QPAN_ALERT_WEBHOOK_TIMEOUT"))
        resp.raise_for_status()
    except httpx.HTTPError as exc:
        status = f"HTTP {exc.response.status_code}" if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
        raise WebhookError(f"alert webhook {redact_url(url)} failed ({status})") from None


def send_due(url: str) -> dict:
    """Post every outbox row that is due, oldest first, each at most once per call (a row that fails
    again waits for its back-off, even when the back-off is shorter than this pass);
    {"sent": n, "failed": n, "pending": n}."""
    sent = failed = 0
    last_id = 0
    with db.connect(ROLE) as conn:
        while True:
            with conn.transaction():
                row = conn.execute(
                    "select outbox_id, payload, attempts from audit.alert_outbox "
                    "where sent_at is null and next_attempt_at <= now() and outbox_id > %s "
                    "order by outbox_id limit 1 for update skip locked", (last_id,)).fetchone()
                if row is None:
                    break
                outbox_id, payload, attempts = row
                last_id = outbox_id
                try:
                    _post(url, payload)
                except Exception as exc:  # noqa: BLE001 - down, refused, 5xx: all retried later
                    pause = min(_base() * 2 ** attempts, _cap())
                    conn.execute("update audit.alert_outbox set attempts = attempts + 1, last_error = %s, "
                                 "next_attempt_at = now() + make_interval(secs => %s) where outbox_id = %s",
                                 (redact_text(f"{type(exc).__name__}: {exc}", url)[:500], pause, outbox_id))
                    failed += 1
                    log.warning("alert %s not accepted (%s); retry in %.0fs: %s", payload["idempotency_key"],
                                redact_text(str(exc), url), pause, payload.get("text"))
                    continue
                conn.execute("update audit.alert_outbox set attempts = attempts + 1, sent_at = now(), "
                             "last_error = null where outbox_id = %s", (outbox_id,))
                sent += 1
                log.info("alert sent to the webhook %s: %s", redact_url(url), payload.get("text"))
        pending = conn.execute("select count(*) from audit.alert_outbox where sent_at is null").fetchone()[0]
    return {"sent": sent, "failed": failed, "pending": pending}


def send_pending(url: str, wait: float = 0) -> dict:
    """send_due now and, for up to `wait` seconds, again as retries fall due, until none is left."""
    deadline = time.monotonic() + wait
    total = {"sent": 0, "failed": 0, "pending": 0}
    while True:
        result = send_due(url)
        total = {"sent": total["sent"] + result["sent"], "failed": total["failed"] + result["failed"],
                 "pending": result["pending"]}
        if not result["pending"] or time.monotonic() >= deadline:
            return total
        with db.connect(ROLE) as conn:
            due_in = conn.execute("select greatest(0, extract(epoch from min(next_attempt_at) - now())) "
                                  "from audit.alert_outbox where sent_at is null").fetchone()[0]
        time.sleep(max(0.05, min(float(due_in or 0), deadline - time.monotonic())))

"""The alert webhook's URL: checked before anything is sent, and never written out whole.

Slack and Teams put the webhook's secret in the URL's path (others in its query or user-info),
and a bearer token may ride along: the URL must be https (plain http only to this machine or
with the explicit opt-in `QPAN_ALERT_WEBHOOK_ALLOW_HTTP=1`), and every log line and stored error
shows its scheme and host only. No Airflow here: the outbox's cron sender imports it.
"""
from __future__ import annotations

import ipaddress
import logging
from contextlib import contextmanager
from urllib.parse import urlsplit

from qpan.core import settings


class WebhookError(RuntimeError):
    """The webhook is misconfigured or did not accept an alert; the message names its host only."""


def webhook_url() -> str | None:
    """`QPAN_ALERT_WEBHOOK_URL`, refused unless https, or http to 127.0.0.1/::1/localhost, or
    http with `QPAN_ALERT_WEBHOOK_ALLOW_HTTP=1`."""
    url = settings.get("QPAN_ALERT_WEBHOOK_URL")
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and (
            _is_loopback(parts.hostname) or settings.get("QPAN_ALERT_WEBHOOK_ALLOW_HTTP")):
        return url
    raise WebhookError(f"QPAN_ALERT_WEBHOOK_URL must be https:// (got {redact_url(url)}): plain http would send "
                       f"the webhook's secret and the bearer token in clear; QPAN_ALERT_WEBHOOK_ALLOW_HTTP=1 "
                       f"allows it on purpose")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """The webhook URL for a log line: scheme and host only."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/***" if parts.path.strip("/") or parts.query else f"{parts.scheme}://{host}{port}"


def redact_text(text: str, url: str) -> str:
    return text.replace(url, redact_url(url))


@contextmanager
def httpx_logs_redacted(url: str):
    """httpx logs every request's full URL at INFO (into the task log): hide the webhook's."""
    class Redact(logging.Filter):
        def filter(self, record):
            record.msg, record.args = redact_text(record.getMessage(), url), None
            return True

    logger, flt = logging.getLogger("httpx"), Redact()
    logger.addFilter(flt)
    try:
        yield
    finally:
        logger.removeFilter(flt)

"""The alert webhook (docs/security.md; issue 28 point 8): plain http refused unless to this
machine or opted into, and its URL (whose path is the secret on Slack/Teams) in no log line or
error, whether the post succeeds or fails. A real receiver on 127.0.0.1."""
from __future__ import annotations

import importlib
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qpan.core import db


def _alerts():
    # qpan.health.alerts imports Airflow (seconds): when a test runs, not while every worker collects
    return importlib.import_module("qpan.health.alerts")


SECRET = "T0001/B0002/s3cr3tP4thPart"
ALERT = {"text": "source x is failing", "kind": "problem", "key": "source:x"}


@pytest.fixture()
def failing_receiver():
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(self.path)
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/{SECRET}", seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("url", ["http://hooks.invalid/services/" + SECRET, "ftp://hooks.invalid/x",
                                 "hooks.invalid/services/" + SECRET])
def test_a_webhook_that_is_not_https_is_refused_before_anything_is_sent(monkeypatch, url):
    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_URL", url)
    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_TOKEN", "bearer-secret")
    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_TIMEOUT", "1")
    with pytest.raises(_alerts().WebhookError, match="must be https://") as caught:
        _alerts().deliver(ALERT)
    assert SECRET not in str(caught.value) and "bearer-secret" not in str(caught.value)
    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_ALLOW_HTTP", "1")
    if url.startswith("http://"):
        assert _alerts().webhook_url() == url  # the explicit opt-in


def test_a_failing_webhook_s_url_is_in_no_log_or_stored_error(warehouse_url, monkeypatch, caplog, failing_receiver):
    url, seen = failing_receiver
    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_URL", url)  # loopback: plain http allowed
    with caplog.at_level(logging.DEBUG):
        assert _alerts().deliver(ALERT) == "outbox"  # not accepted: kept for a retry (issue 32)
    assert seen == [f"/services/{SECRET}"]  # it was posted, to the real URL
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "127.0.0.1" in logged and ALERT["text"] in logged  # httpx and the outbox did log it...
    assert SECRET not in logged  # ...without the secret part
    with db.connect() as conn:
        errors = [r[0] for r in conn.execute("select last_error from audit.alert_outbox")]
    assert errors and all("HTTP 500" in e and "127.0.0.1" in e and SECRET not in e for e in errors), errors


def test_redact_url_keeps_scheme_and_host_only():
    assert _alerts().redact_url("https://hooks.slack.com/services/T/B/X") == "https://hooks.slack.com/***"
    assert _alerts().redact_url("https://u:p@x.example.org:8443/?key=k") == "https://x.example.org:8443/***"
    assert _alerts().redact_url("https://x.example.org") == "https://x.example.org"

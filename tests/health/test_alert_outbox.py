"""Alerts that arrive (issue 32): an alert raised while the webhook is down waits in
audit.alert_outbox, is retried with back-off by a sender started afterwards (a restart), and is
delivered exactly once, with its idempotency key, when a real receiver on 127.0.0.1 is up."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from qpan.core import config, db
from qpan.health import outbox

from helpers.webhook import Receiver


def deliver(*args, **kwargs):
    # qpan.health.alerts imports Airflow (seconds): when a test runs, not while every worker collects
    from qpan.health.alerts import deliver as deliver_

    return deliver_(*args, **kwargs)


QPAN = [sys.executable, "-m", "qpan.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _outbox() -> list[tuple]:
    with db.connect() as conn:
        return conn.execute("select payload ->> 'idempotency_key', attempts, sent_at is not null, last_error "
                            "from audit.alert_outbox order by outbox_id").fetchall()


def _send_alerts(*args: str) -> subprocess.CompletedProcess:
    """A new sender process each time: nothing of the first one's memory survives."""
    return subprocess.run([*QPAN, "sources", "send-alerts", *args], capture_output=True, text=True, timeout=120,
                          cwd=config.REPO_ROOT, env=dict(os.environ))


def test_an_alert_raised_while_the_webhook_is_down_arrives_once_when_it_is_up(warehouse_url, monkeypatch):
    port = _free_port()
    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    monkeypatch.setenv("QPAN_ALERT_RETRY_BASE_SECONDS", "0.2")
    alert = {"kind": "problem", "key": "source:outbox_test", "source": "outbox_test", "status": "failing",
             "text": "qpan: source outbox_test is failing: connection refused"}
    assert deliver(alert) == "outbox"  # the receiver is down: kept, not lost
    [(key, attempts, sent, error)] = _outbox()
    assert key and attempts == 1 and not sent and "ConnectError" in error
    down = _send_alerts()  # a restarted sender, the webhook still down: retried, still kept
    assert down.returncode == 1 and "still pending: 1" in down.stdout, down.stdout + down.stderr
    assert _outbox()[0][1] >= 2 and not _outbox()[0][2]
    receiver = Receiver(port)
    try:
        up = _send_alerts("--wait", "30")
        assert up.returncode == 0 and "alerts sent: 1" in up.stdout, up.stdout + up.stderr
        assert outbox.send_pending(os.environ["QPAN_ALERT_WEBHOOK_URL"]) == {"sent": 0, "failed": 0, "pending": 0}
        assert deliver({**alert, "kind": "recovery", "status": "ok", "text": "qpan: recovered"}) == "webhook"
    finally:
        receiver.stop()
    # each alert exactly once, with the key the outbox gave it
    assert [a["text"] for a in receiver.alerts] == [alert["text"], "qpan: recovered"]
    assert receiver.alerts[0]["idempotency_key"] == key
    assert len({a["idempotency_key"] for a in receiver.alerts}) == 2
    assert [row[2] for row in _outbox()] == [True, True]


@pytest.mark.parametrize("role", ["qpan_analyst", "qpan_reviewer"])
def test_only_the_loader_writes_the_outbox(warehouse_url, role):
    import psycopg

    with psycopg.connect(config.database_url(role), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into audit.alert_outbox (idempotency_key, payload) values ('k', '{}')")


def test_one_pass_tries_each_alert_once_even_when_its_back_off_is_already_over(warehouse_url, monkeypatch):
    """A back-off shorter than the pass itself (a busy machine, a small base) must not turn one
    send into a burst of retries against a webhook that is down."""
    port = _free_port()
    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    monkeypatch.setenv("QPAN_ALERT_RETRY_BASE_SECONDS", "0.000001")
    with db.connect() as conn:
        conn.execute("delete from audit.alert_outbox")
        conn.commit()
    alert = {"kind": "problem", "key": "source:burst_test", "source": "burst_test", "status": "failing",
             "text": "qpan: source burst_test is failing"}
    outbox.enqueue(alert)
    assert outbox.send_due(os.environ["QPAN_ALERT_WEBHOOK_URL"]) == {"sent": 0, "failed": 1, "pending": 1}
    assert [row[1] for row in _outbox()] == [1]

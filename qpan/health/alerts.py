"""Alerts: one message per new problem, one recovery message when it clears.

The transport is an Airflow notifier (`airflow.sdk.BaseNotifier`): `QpanAlertNotifier` posts
JSON to the webhook of `QPAN_ALERT_WEBHOOK_URL` (a Slack/Teams/Mattermost-compatible
`{"text": ...}` body, with `Authorization: Bearer $QPAN_ALERT_WEBHOOK_TOKEN` when set), or,
with no webhook configured, writes the message to the log. The DAGs use it as their tasks'
`on_failure_callback` / `on_success_callback`; the ingest DAG's `health_check` task sends the
sources' status changes through it.

A problem is a row of audit.alerts, open until it clears: a source that stays in `drift` for
ten runs is announced once; when it is `ok` again, the row is closed and a recovery is sent.
Problems are keyed `source:<name>` (its status) or `task:<dag>.<task>` (a failed task).
"""
from __future__ import annotations

import logging

from airflow.sdk import BaseNotifier

from qpan.core import db
from qpan.health.settings import PROBLEMS
from qpan.health.webhook import WebhookError, redact_url
from qpan.health.webhook import webhook_url as checked_webhook_url

__all__ = ["WebhookError", "redact_url", "deliver", "webhook_url", "QpanAlertNotifier"]

log = logging.getLogger(__name__)

LATEST = """
select distinct on (source) source, status, status_reason, started_at
from audit.crawl_runs where (%(only)s::text[] is null or source = any(%(only)s))
order by source, started_at desc, crawl_id desc
"""


def webhook_url() -> str | None:
    """`QPAN_ALERT_WEBHOOK_URL`, refused unless https (qpan.health.webhook)."""
    return checked_webhook_url()


def deliver(alert: dict) -> str:
    """Send one alert; returns where it went ('webhook', 'outbox' when the webhook did not accept it
    yet: it is retried until it does, qpan.health.outbox; or 'log'). A misconfigured webhook
    raises WebhookError naming its host only, before anything is written or sent."""
    url = webhook_url()
    if not url:
        level = logging.INFO if alert.get("kind") == "recovery" else logging.WARNING
        log.log(level, "ALERT %s", alert["text"])
        return "log"
    from qpan.health import outbox

    outbox.enqueue(alert)
    result = outbox.send_due(url)  # this alert, and any earlier one now due
    return "webhook" if not result["failed"] else "outbox"


# -- the problem ledger (audit.alerts) ------------------------------------------------------------
def open_problem(conn, key: str, status: str, message: str) -> bool:
    """Record a problem; True when it is new (none open for `key`, or open with another status)."""
    row = conn.execute("select alert_id, status from audit.alerts where problem_key = %s and cleared_at is null "
                       "for update", (key,)).fetchone()
    if row and row[1] == status:
        return False
    if row:
        conn.execute("update audit.alerts set cleared_at = now(), recovery = %s where alert_id = %s",
                     (f"became {status}", row[0]))
    conn.execute("insert into audit.alerts (problem_key, status, message) values (%s, %s, %s)", (key, status, message))
    return True


def clear_problem(conn, key: str, message: str) -> tuple[str, object] | None:
    """Close the open problem of `key`; its (status, opened_at) when there was one."""
    return conn.execute("update audit.alerts set cleared_at = now(), recovery = %s where problem_key = %s "
                        "and cleared_at is null returning status, opened_at", (message, key)).fetchone()


class QpanAlertNotifier(BaseNotifier):
    """Airflow notifier for qpan's alerts.

    As a task callback (`on_failure_callback=QpanAlertNotifier()`,
    `on_success_callback=QpanAlertNotifier("recovery")`) it opens/clears the task's problem and
    sends only a new one or a recovery. Called with a context holding `qpan_alert` (a prepared
    alert: kind, key, status, text), it sends that alert."""

    def __init__(self, event: str = "failure"):
        super().__init__()
        if event not in ("failure", "recovery"):
            raise ValueError(f"event must be 'failure' or 'recovery', got {event!r}")
        self.event = event

    def notify(self, context) -> None:
        alert = context.get("qpan_alert")
        if alert is None:
            alert = self._task_alert(context)
        if alert is not None:
            deliver(alert)

    def _task_alert(self, context) -> dict | None:
        ti = context.get("ti") or context.get("task_instance")
        dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "?")
        task_id = getattr(ti, "task_id", "?")
        run_id = context.get("run_id") or getattr(ti, "run_id", "")
        label = getattr(ti, "rendered_map_index", None)
        if task_id == "crawl" and label:  # a source's crawl: the same problem as its `failing` status
            key, what = f"source:{label}", f"source {label}"
        else:
            key, what = f"task:{dag_id}.{task_id}", f"task {dag_id}.{task_id}"
        try:
            return self._ledger(context, key, what, label, run_id)
        except Exception as exc:  # noqa: BLE001 - the warehouse itself may be what failed: say it anyway
            if self.event != "failure":
                log.warning("recovery of %s not checked: the alert ledger is unreachable (%s)", what, exc)
                return None
            log.warning("alert ledger unreachable (%s): alerting without de-duplication", exc)
            text = f"qpan: {what} failed (run {run_id}): {str(context.get('exception') or '')[:500]}"
            return {"kind": "problem", "key": key, "status": "failing", "text": text, "run_id": run_id}

    def _ledger(self, context, key: str, what: str, label, run_id) -> dict | None:
        with db.connect("qpan_loader") as conn, conn.transaction():
            if self.event == "failure":
                exc = context.get("exception")
                text = f"qpan: {what} failed (run {run_id})" + (f": {str(exc)[:500]}" if exc else "")
                status = "failing"
                if key.startswith("source:"):  # the status its crawl recorded (e.g. blocked): the health
                    row = conn.execute(  # check then finds the same problem and does not repeat it
                        "select status from audit.crawl_runs where source = %s order by started_at desc, crawl_id desc "
                        "limit 1", (label,)).fetchone()
                    status = row[0] if row and row[0] in PROBLEMS else status
                if not open_problem(conn, key, status, text):
                    log.info("%s still %s: already announced", what, status)
                    return None
                return {"kind": "problem", "key": key, "source": label if key.startswith("source:") else None,
                        "status": status, "text": text, "run_id": run_id}
            if key.startswith("source:"):
                return None  # a crawl that ran may still be drift or silent: the health check decides
            was = clear_problem(conn, key, f"task succeeded (run {run_id})")
            if was is None:
                return None
            text = f"qpan: recovered: {what} succeeded again (run {run_id}; failing since {was[1]:%Y-%m-%d %H:%M} UTC)"
            return {"kind": "recovery", "key": key, "status": "ok", "text": text, "run_id": run_id}


# -- the post-run health check -----------------------------------------------------------------
def check_sources(only: list[str] | None = None, notifier: BaseNotifier | None = None,
                  context: dict | None = None) -> dict:
    """Compare each source's latest run with the open problems: announce what is new, announce the
    recoveries. Returns {"new": [...], "recovered": [...], "ongoing": [...]} (source names)."""
    notifier = notifier or QpanAlertNotifier()
    out: dict[str, list[str]] = {"new": [], "recovered": [], "ongoing": []}
    if webhook_url():  # the alerts a down webhook left in the outbox, retried at every run
        from qpan.health import outbox

        try:
            outbox.send_due(webhook_url())
        except Exception:  # noqa: BLE001 - the health check itself must still run
            log.exception("could not retry the alert outbox")
    alerts = []
    with db.connect("qpan_loader") as conn:
        with conn.transaction():
            for source, status, reason, started_at in conn.execute(LATEST, {"only": only}).fetchall():
                key = f"source:{source}"
                if status in PROBLEMS:
                    text = f"qpan: source {source} is {status}: {reason}"
                    if open_problem(conn, key, status, text):
                        out["new"].append(source)
                        alerts.append({"kind": "problem", "key": key, "source": source, "status": status,
                                       "reason": reason, "text": text, "at": started_at})
                    else:
                        out["ongoing"].append(source)
                    continue
                was = clear_problem(conn, key, "ok again")
                if was is not None:
                    out["recovered"].append(source)
                    text = (f"qpan: recovered: source {source} is ok again (was {was[0]} since "
                            f"{was[1]:%Y-%m-%d %H:%M} UTC)")
                    alerts.append({"kind": "recovery", "key": key, "source": source, "status": "ok",
                                   "previous_status": was[0], "text": text, "at": started_at})
    for alert in alerts:  # after the commit: a failed send is logged, the ledger stays right
        try:
            notifier(dict(context or {}, qpan_alert=alert))
        except Exception:  # noqa: BLE001 - one unreachable webhook must not hide the other alerts
            log.exception("could not send the alert: %s", alert["text"])
    log.info("health check: %s", out)
    return out

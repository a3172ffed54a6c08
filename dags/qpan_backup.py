"""qpan_backup: back up what cannot be rebuilt (raw, review, audit) and prove the backup restores.

`backup` writes QPAN_BACKUP_DIR/qpan-<UTC time>.dump (pg_dump custom format) and its manifest
(sizes, row counts, checksums, extractor and layout versions) and keeps the newest
QPAN_BACKUP_KEEP (default 7); `verify` restores it into a scratch database and compares it with
the manifest, so a backup that would not restore fails the run (and alerts, through qpan's
notifier). Schedule: QPAN_BACKUP_SCHEDULE (default `@daily`, `none`: triggered runs only); with
the default, at worst one day of crawled pages and review decisions is lost (the RPO).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from qpan.core import settings
from qpan.health.alerts import QpanAlertNotifier

SCHEDULE = settings.get("QPAN_BACKUP_SCHEDULE")


@dag(
    dag_id="qpan_backup",
    schedule=None if SCHEDULE.lower() == "none" else SCHEDULE,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10),
                  "on_failure_callback": [QpanAlertNotifier()], "on_success_callback": [QpanAlertNotifier("recovery")]},
    tags=["qpan", "backup"],
    doc_md=__doc__,
)
def qpan_backup():
    @task
    def backup() -> str:
        from qpan.orchestration.backup import backup as write_backup

        return str(write_backup())

    @task
    def verify(path: str) -> dict:
        from pathlib import Path

        from qpan.orchestration.backup import verify as verify_backup

        result = verify_backup(Path(path))
        if not result["ok"]:
            raise RuntimeError(f"backup {path} does not restore as its manifest says: {result['differences'][:5]}")
        return result

    verify(backup())


qpan_backup()

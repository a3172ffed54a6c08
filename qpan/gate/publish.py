"""The "publish" of write-audit-publish: swap the validated `marts_candidate` into `marts`, and
the ledger of every publish and refusal (`audit.publish_log`)."""
from __future__ import annotations

import logging
import time

from psycopg import errors

from qpan.core import db, settings

log = logging.getLogger(__name__)


PUBLISH_LOCK_TIMEOUT_S = 5   # QPAN_PUBLISH_LOCK_TIMEOUT: how long one swap attempt may wait for a lock
PUBLISH_ATTEMPTS = 6         # QPAN_PUBLISH_ATTEMPTS: attempts before the publish fails (back-off 1, 2, 4, 8, 10 s)


class PublishLockTimeout(RuntimeError):
    pass


def publish(run_id: str) -> None:
    """Swap the validated candidate marts into `marts` in one transaction: analysts see either
    the old marts or the new ones, never a half-built schema, and never one they cannot read:
    the analyst's and reviewer's rights are granted on the candidate inside the same transaction,
    before the rename makes it visible (granting after the commit left a moment of "permission
    denied for schema marts"; issue 32).

    The swap waits at most QPAN_PUBLISH_LOCK_TIMEOUT seconds (default 5) for a lock (a reader
    holding one, another publish) and is retried with back-off, QPAN_PUBLISH_ATTEMPTS times
    (default 6): a publish ends within ~1 minute, never an unbounded wait behind a long query.

    The previous marts become the next candidate rather than being dropped: the large marts are
    incremental (fct_indicator_mentions, fct_indicator_facts) and catch up from whatever version
    they find, so the next build does work in proportion to what changed, not to the warehouse.
    The analyst's rights on them go with the rename and are revoked here; the new marts are
    granted to their readers in the same transaction, by the transformer that owns them (a task
    never needs the database owner's password)."""
    timeout = settings.get("QPAN_PUBLISH_LOCK_TIMEOUT", PUBLISH_LOCK_TIMEOUT_S)
    attempts = settings.get("QPAN_PUBLISH_ATTEMPTS", PUBLISH_ATTEMPTS)
    for attempt in range(1, attempts + 1):
        try:
            _swap(run_id, timeout)
            break
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            if attempt == attempts:
                raise PublishLockTimeout(
                    f"publish: the marts swap could not take its locks in {attempts} attempts of {timeout:g}s "
                    f"({type(exc).__name__}); the candidate stays validated, the next run publishes it") from None
            pause = min(2 ** (attempt - 1), 10)
            log.warning("publish: swap attempt %d/%d waited %gs for a lock (%s); again in %ds",
                        attempt, attempts, timeout, type(exc).__name__, pause)
            time.sleep(pause)
    log.info("publish: marts_candidate published as marts (run %s)", run_id)


def _swap(run_id: str, lock_timeout: float) -> None:
    with db.connect("qpan_transformer") as conn:
        with conn.transaction():
            conn.execute(f"set local lock_timeout = '{int(lock_timeout * 1000)}ms'")
            conn.execute("select pg_advisory_xact_lock(hashtext('qpan.publish'))")
            conn.execute("drop schema if exists marts_previous cascade")  # left by an older qpan
            # the readers' rights travel with the schema: granted before it becomes `marts`
            conn.execute("grant usage on schema marts_candidate to qpan_analyst, qpan_reviewer")
            conn.execute("grant select on all tables in schema marts_candidate to qpan_analyst, qpan_reviewer")
            conn.execute("alter schema marts rename to marts_previous")
            conn.execute("alter schema marts_candidate rename to marts")
            conn.execute("alter schema marts_previous rename to marts_candidate")
            conn.execute("revoke all on all tables in schema marts_candidate from qpan_analyst, qpan_reviewer")
            conn.execute("revoke all on schema marts_candidate from qpan_analyst, qpan_reviewer")
            db.grant_marts_readers(conn)
            conn.execute(
                "insert into audit.publish_log (run_id, published, reason) values (%s, true, 'gate passed')",
                (run_id,),
            )


def record_refusal(run_id: str, reason: str) -> None:
    with db.connect("qpan_transformer") as conn:
        conn.execute(
            "insert into audit.publish_log (run_id, published, reason) values (%s, false, %s)", (run_id, reason[:2000])
        )
        conn.commit()

"""The steps the DAGs run, as plain functions (so the CLI, the DAGs and the tests share them).

- `extract_pending`: run the extractor over articles that have no facts for the current
  extractor version (or changed since, or were extracted without the article's profile),
  replacing their facts and storing their profile (subject unit, reviewed year) in one
  transaction per batch.
- `publish`: the "publish" of write-audit-publish: swap `marts_candidate` into `marts`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from qpan.core import db

log = logging.getLogger(__name__)


@dataclass
class ExtractStats:
    articles: int = 0
    facts: int = 0
    failed: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


PENDING_SQL = """
    select a.article_id, a.source, a.url, a.title, a.body_text, a.published_at, a.source_unit_id
    from raw.articles a
    where a.removed_at is null
      and a.article_id > %(after)s
      and not exists (
        select 1 from raw.quarantine q
        where q.stage = 'extract' and q.url = a.url and q.resolved_at is null
          and q.last_seen_at >= a.loaded_at)
      and not exists (
        select 1 from raw.article_extractions e
        where e.article_id = a.article_id and e.extractor_version = %(version)s
          and e.extracted_at >= a.loaded_at and e.profiled_at is not null)
    order by a.article_id
    limit %(limit)s
"""


def extract_pending(role: str = "qpan_loader", progress_every: int = 500, batch_size: int = 500) -> ExtractStats:
    """Extract facts for every article that needs it. Idempotent: a rerun finds nothing pending.

    Pending articles are read in pages of `batch_size` (keyset on article_id: memory stays flat
    at any corpus size); each page's facts replace the articles' previous ones in one
    transaction, loaded with COPY (qpan.landing.bulk.replace_mentions)."""
    from qpan.landing.bulk import replace_mentions
    from qpan.extract import EXTRACTOR_VERSION
    from qpan.extract.engine import analyse_article
    from qpan.landing.store import PostgresStore

    stats = ExtractStats()
    started = time.monotonic()
    after = 0
    next_progress = progress_every
    with db.connect(role, autocommit=True) as conn, PostgresStore(role=role) as store:
        log.info("extract: articles pending for extractor %s, in batches of %d", EXTRACTOR_VERSION, batch_size)
        while True:
            pending = conn.execute(PENDING_SQL, {"version": EXTRACTOR_VERSION, "after": after,
                                                 "limit": batch_size}).fetchall()
            if not pending:
                break
            after = pending[-1][0]
            done: list[tuple[int, list, object]] = []
            for article_id, source, url, title, body, published_at, unit_id in pending:
                try:
                    # the facts, and the unit the article is about and the year a review is of as the
                    # extractor reads them (the marts' coverage uses these: one definition, not SQL
                    # regexes), from one reading of the article
                    facts, profile = analyse_article(title, body, published_at=published_at, source_unit_id=unit_id,
                                                     url=url)
                except Exception as exc:  # one bad article must not stop the others
                    stats.failed += 1
                    store.quarantine("extract", source, url, f"extractor raised {type(exc).__name__}",
                                     str(exc)[:2000])
                    continue
                done.append((article_id, facts, profile))
            if done:
                stats.facts += replace_mentions(conn, done, EXTRACTOR_VERSION)
                stats.articles += len(done)
            if progress_every and stats.articles >= next_progress:
                log.info("extract: %d articles, %d facts", stats.articles, stats.facts)
                next_progress += progress_every
    stats.seconds = round(time.monotonic() - started, 3)
    log.info("extract: done %s", stats.to_dict())
    return stats


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
    from psycopg import errors

    from qpan.core import settings

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


def summary() -> dict:
    """Row counts of raw and published marts, for the end of `make run`."""
    with db.connect() as conn:
        return db.table_counts(conn, ("raw", "marts"))

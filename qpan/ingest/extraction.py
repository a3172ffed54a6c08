"""The transform DAG's extraction step, as a plain function (the DAG, the CLI and the tests share it).

`extract_pending`: run the extractor over articles that have no facts for the current
extractor version (or changed since, or were extracted without the article's profile),
replacing their facts and storing their profile (subject unit, reviewed year) in one
transaction per batch.
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

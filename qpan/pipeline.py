"""The steps the DAGs run, as plain functions (so the CLI, the DAGs and the tests share them).

- `extract_pending`: run the extractor over articles that have no facts for the current
  extractor version (or changed since), replacing their facts in one transaction each.
- `publish`: the "publish" of write-audit-publish: swap `marts_candidate` into `marts`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from psycopg.types.json import Jsonb

from qpan import db

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
      and not exists (
        select 1 from raw.quarantine q
        where q.stage = 'extract' and q.url = a.url and q.resolved_at is null
          and q.last_seen_at >= a.loaded_at)
      and not exists (
        select 1 from raw.article_extractions e
        where e.article_id = a.article_id and e.extractor_version = %(version)s
          and e.extracted_at >= a.loaded_at)
    order by a.article_id
"""

INSERT_SQL = """
    insert into raw.indicator_mentions
        (article_id, extractor_version, indicator, value, value_type, comparator, unit_id, period,
         qualifiers, evidence, span_start, span_end, confidence)
    values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    on conflict do nothing
"""


def _fact_row(article_id: int, fact) -> tuple:
    is_flag = isinstance(fact.value, bool)
    return (
        article_id, fact.extractor_version, fact.indicator, int(fact.value) if is_flag else fact.value,
        "boolean" if is_flag else "number", fact.comparator, fact.unit_id, fact.period,
        Jsonb(fact.qualifiers or {}), fact.evidence, fact.span_start, fact.span_end, fact.confidence,
    )


def extract_pending(role: str = "qpan_loader", progress_every: int = 500) -> ExtractStats:
    """Extract facts for every article that needs it. Idempotent: a rerun finds nothing pending."""
    from qpan.extract import EXTRACTOR_VERSION, extract_article
    from qpan.landing import PostgresStore

    stats = ExtractStats()
    started = time.monotonic()
    with db.connect(role) as conn, PostgresStore(role=role) as store:
        pending = conn.execute(PENDING_SQL, {"version": EXTRACTOR_VERSION}).fetchall()
        log.info("extract: %d article(s) pending for extractor %s", len(pending), EXTRACTOR_VERSION)
        for article_id, source, url, title, body, published_at, unit_id in pending:
            try:
                facts = extract_article(title, body, published_at=published_at, source_unit_id=unit_id)
            except Exception as exc:  # one bad article must not stop the others
                stats.failed += 1
                store.quarantine("extract", source, url, f"extractor raised {type(exc).__name__}", str(exc)[:2000])
                continue
            with conn.transaction():
                # Re-extraction replaces the article's facts (older versions included).
                conn.execute("delete from raw.indicator_mentions where article_id = %s", (article_id,))
                with conn.cursor() as cur:
                    cur.executemany(INSERT_SQL, [_fact_row(article_id, f) for f in facts])
                conn.execute(
                    """insert into raw.article_extractions (article_id, extractor_version, n_facts)
                       values (%s, %s, %s)
                       on conflict (article_id) do update set extractor_version = excluded.extractor_version,
                           n_facts = excluded.n_facts, extracted_at = now()""",
                    (article_id, EXTRACTOR_VERSION, len(facts)),
                )
            stats.articles += 1
            stats.facts += len(facts)
            if progress_every and stats.articles % progress_every == 0:
                log.info("extract: %d/%d articles, %d facts", stats.articles, len(pending), stats.facts)
    stats.seconds = round(time.monotonic() - started, 3)
    log.info("extract: done %s", stats.to_dict())
    return stats


def publish(run_id: str) -> None:
    """Swap the validated candidate marts into `marts` in one transaction: analysts see either
    the old marts or the new ones, never a half-built schema."""
    with db.connect("qpan_transformer") as conn:
        with conn.transaction():
            conn.execute("select pg_advisory_xact_lock(hashtext('qpan.publish'))")
            conn.execute("drop schema if exists marts_previous cascade")
            conn.execute("alter schema marts rename to marts_previous")
            conn.execute("alter schema marts_candidate rename to marts")
            conn.execute("create schema marts_candidate")
            conn.execute("drop schema marts_previous cascade")
            conn.execute(
                "insert into audit.publish_log (run_id, published, reason) values (%s, true, 'gate passed')",
                (run_id,),
            )
    with db.connect() as conn:  # grants are the owner's (admin) business
        with conn.transaction():
            db.grant_analyst(conn)
    log.info("publish: marts_candidate published as marts (run %s)", run_id)


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

"""COPY-based bulk loading into `raw.*` (idempotent, one transaction per batch).

`PostgresStore` (qpan/landing/store.py) upserts one row per statement: right for a polite crawler
that lands a page every few hundred milliseconds, slow for a backfill or a benchmark corpus.
Here each batch is COPYed into a temporary staging table and merged with ONE
`insert ... select ... on conflict ... do update` statement, in one transaction:

- `bulk_load_articles(conn, rows)`: the same rows `PostgresStore.save_article` would leave
  (same upsert rules: `loaded_at` moves only when what the facts depend on changes), so a rerun
  changes nothing and a crash loses at most the batch in flight;
- `replace_mentions(conn, article_facts)`: the extractor's output for a batch of articles
  (delete their previous mentions, COPY the new ones, record the extractor version and the
  article's profile: subject unit and reviewed year), used by `qpan.ingest.extraction.extract_pending`.

`rows` may be any iterable (a generator is consumed batch by batch: memory stays flat).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice
from typing import Any, Iterable, Iterator

import psycopg

from qpan.landing.store import ARTICLE_MERGE

ARTICLE_COLUMNS = ("source", "url", "title", "published_at", "author", "lead", "body_text", "captions",
                   "body_variant", "source_unit_id", "template", "content_hash", "page_sha256", "synthetic")

_STAGE_ARTICLES = """
create temp table if not exists qpan_stage_articles (
    seq bigint, source text, url text, title text, published_at timestamptz, author text, lead text,
    body_text text, captions text, body_variant text, source_unit_id text, template text,
    content_hash text, page_sha256 text, synthetic boolean
) on commit delete rows
"""

_MERGE_ARTICLES = """
insert into raw.articles (source, url, title, published_at, author, lead, body_text, captions,
                          body_variant, source_unit_id, template, content_hash, page_sha256, synthetic)
select source, url, title, published_at, author, lead, body_text, captions::jsonb,
       coalesce(body_variant, 'html'), source_unit_id, template, content_hash, page_sha256, synthetic
from (select distinct on (url) * from qpan_stage_articles order by url, seq desc) as s
""" + ARTICLE_MERGE


@dataclass
class BulkStats:
    rows: int = 0
    batches: int = 0


def _batches(rows: Iterable[Any], size: int) -> Iterator[list]:
    it = iter(rows)
    while True:
        batch = list(islice(it, size))
        if not batch:
            return
        yield batch


def article_row(art: Any) -> tuple:
    """A ParsedArticle (or a dict with its fields) as a tuple in ARTICLE_COLUMNS order."""
    if isinstance(art, dict):
        get = art.get
        content_hash = get("content_hash")
    else:
        def get(name, default=None):
            return getattr(art, name, default)
        content_hash = art.content_hash
    return (get("source"), get("url"), get("title"), get("published_at"), get("author"), get("lead"),
            get("body_text"), json.dumps(get("captions") or [], ensure_ascii=False), get("body_variant") or "html",
            get("source_unit_id"), get("template"), content_hash, get("page_sha256"), bool(get("synthetic", False)))


def bulk_load_articles(conn: psycopg.Connection, rows: Iterable[Any], batch_size: int = 5000) -> BulkStats:
    """Upsert articles (ParsedArticle objects, dicts, or tuples in ARTICLE_COLUMNS order) by URL,
    one COPY + one merge statement per batch, each batch in its own transaction."""
    stats = BulkStats()
    for batch in _batches(rows, batch_size):
        with conn.transaction():
            conn.execute(_STAGE_ARTICLES)
            conn.execute("truncate qpan_stage_articles")  # on commit delete rows is not enough in a savepoint
            with conn.cursor().copy(
                    "copy qpan_stage_articles (seq, " + ", ".join(ARTICLE_COLUMNS) + ") from stdin") as cp:
                for i, r in enumerate(batch):
                    cp.write_row((i, *(r if isinstance(r, tuple) else article_row(r))))
            conn.execute(_MERGE_ARTICLES)
        stats.rows += len(batch)
        stats.batches += 1
    return stats


MENTION_COLUMNS = ("article_id", "extractor_version", "indicator", "value", "value_type", "comparator", "unit_id",
                   "period", "qualifiers", "evidence", "span_start", "span_end", "confidence")

# The staged mentions into raw, with their review key computed in one set-based join (the
# row trigger raw.set_mention_review_key would look each article's URL up one row at a time).
_INSERT_STAGED_MENTIONS = (
    "insert into raw.indicator_mentions (" + ", ".join(MENTION_COLUMNS) + ", review_key) "
    "select s.article_id, s.extractor_version, s.indicator, s.value, s.value_type, s.comparator, s.unit_id, "
    "s.period, s.qualifiers::jsonb, s.evidence, s.span_start, s.span_end, s.confidence, "
    "raw.review_key(a.url, s.indicator, s.span_start, s.span_end) "
    "from qpan_stage_mentions as s left join raw.articles as a on a.article_id = s.article_id "
    "on conflict do nothing")

_STAGE_MENTIONS = """
create temp table if not exists qpan_stage_mentions (
    article_id bigint, extractor_version text, indicator text, value numeric, value_type text,
    comparator text, unit_id text, period text, qualifiers text, evidence text, span_start integer,
    span_end integer, confidence real
) on commit delete rows
"""
_STAGE_EXTRACTIONS = """
create temp table if not exists qpan_stage_extractions (
    article_id bigint, extractor_version text, n_facts integer, subject_unit_id text, reviewed_year integer,
    profiled boolean
) on commit delete rows
"""


def mention_row(article_id: int, fact: Any) -> tuple:
    """An extractor Fact as a tuple in MENTION_COLUMNS order (booleans stored as 1/0)."""
    is_flag = isinstance(fact.value, bool)
    return (article_id, fact.extractor_version, fact.indicator, int(fact.value) if is_flag else fact.value,
            "boolean" if is_flag else "number", fact.comparator, fact.unit_id, fact.period,
            json.dumps(fact.qualifiers or {}, ensure_ascii=False, sort_keys=True), fact.evidence,
            fact.span_start, fact.span_end, fact.confidence)


def replace_mentions(conn: psycopg.Connection, article_facts: list[tuple],
                     extractor_version: str) -> int:
    """In one transaction: delete the mentions of these articles (older versions included),
    COPY their new ones in, and record which extractor version processed each article.
    Items are `(article_id, facts)` or `(article_id, facts, profile)`, profile an
    `ArticleProfile` (qpan.extract.engine.describe_article): its subject unit and reviewed year
    are stored with the extraction (profiled_at set; without a profile it stays null).
    Idempotent: running it twice leaves the same rows. Returns the number of mentions."""
    n = 0
    ids = [item[0] for item in article_facts]
    with conn.transaction():
        conn.execute(_STAGE_MENTIONS)
        conn.execute(_STAGE_EXTRACTIONS)
        conn.execute("truncate qpan_stage_mentions, qpan_stage_extractions")
        conn.execute("delete from raw.indicator_mentions where article_id = any(%s)", (ids,))
        with conn.cursor().copy("copy qpan_stage_mentions (" + ", ".join(MENTION_COLUMNS) + ") from stdin") as cp:
            for article_id, facts, *_ in article_facts:
                for f in facts:
                    cp.write_row(mention_row(article_id, f))
                    n += 1
        with conn.cursor().copy("copy qpan_stage_extractions (article_id, extractor_version, n_facts, "
                                "subject_unit_id, reviewed_year, profiled) from stdin") as cp:
            for article_id, facts, *rest in article_facts:
                profile = rest[0] if rest else None
                cp.write_row((article_id, extractor_version, len(facts),
                              getattr(profile, "subject_unit_id", None), getattr(profile, "reviewed_year", None),
                              profile is not None))
        conn.execute(
            _INSERT_STAGED_MENTIONS)
        conn.execute(
            """insert into raw.article_extractions (article_id, extractor_version, n_facts, subject_unit_id,
                   reviewed_year, profiled_at)
               select distinct on (article_id) article_id, extractor_version, n_facts, subject_unit_id,
                   reviewed_year, case when profiled then now() end
               from qpan_stage_extractions order by article_id
               on conflict (article_id) do update set extractor_version = excluded.extractor_version,
                   n_facts = excluded.n_facts, subject_unit_id = excluded.subject_unit_id,
                   reviewed_year = excluded.reviewed_year, profiled_at = excluded.profiled_at,
                   extracted_at = now()""")
    return n

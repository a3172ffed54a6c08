"""Landing into Postgres: raw pages, parsed articles, quarantine and crawl state.

`PostgresStore` is what the crawler writes through. Every write is an idempotent upsert,
so a rerun (or a retried task after a crash) leaves the same rows as an uninterrupted run.
Each method commits its own small transaction: a crash loses at most the page in flight,
never something already landed.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from qpan.core import db
from scrapers.items import ParsedArticle  # noqa: F401 - re-exported: the row save_article lands

log = logging.getLogger(__name__)


# How a re-landed article replaces its row (shared by the row store and the COPY loader):
# everything is overwritten, and loaded_at moves only when something the facts depend on
# changed (text, source, date, unit, synthetic flag, a return after removal), so extraction and
# the incremental dbt models reprocess exactly those articles.
ARTICLE_MERGE = """
on conflict (url) do update set
    source = excluded.source, title = excluded.title, published_at = excluded.published_at,
    author = excluded.author, lead = excluded.lead, body_text = excluded.body_text,
    captions = excluded.captions, body_variant = excluded.body_variant,
    source_unit_id = excluded.source_unit_id, template = excluded.template,
    content_hash = excluded.content_hash, page_sha256 = excluded.page_sha256,
    synthetic = excluded.synthetic, parsed_at = now(), removed_at = null,
    loaded_at = case when (raw.articles.content_hash, raw.articles.source, raw.articles.published_at,
                           raw.articles.source_unit_id, raw.articles.synthetic, raw.articles.removed_at is null)
                          is distinct from
                          (excluded.content_hash, excluded.source, excluded.published_at,
                           excluded.source_unit_id, excluded.synthetic, true)
                     then now() else raw.articles.loaded_at end
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class PostgresStore:
    """The crawler's sink (`scrapers.store.Store`). Connects as the least-privilege `qpan_loader`
    role by default."""

    def __init__(self, role: str = "qpan_loader", conn: psycopg.Connection | None = None):
        self.conn = conn or db.connect(role, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- raw pages -------------------------------------------------------------
    def save_page(self, source: str, url: str, status: int, headers: dict[str, str], body: bytes,
                  fetched_at: datetime | None = None) -> str:
        digest = sha256(body)
        now = fetched_at or datetime.now(timezone.utc)
        self.conn.execute(
            """
            insert into raw.pages (source, url, status, headers, body, sha256, fetched_at, last_seen_at)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (url, sha256) do update
               set last_seen_at = excluded.last_seen_at, status = excluded.status, removed_at = null
            """,
            (source, url, status, Jsonb(dict(headers)), body, digest, now, now),
        )
        return digest

    def stored_body(self, url: str) -> tuple[bytes, dict] | None:
        """The latest 200 body of a page and its headers (a 304 answer re-parses it)."""
        row = self.conn.execute(
            "select body, headers from raw.pages where url = %s and status = 200 order by fetched_at desc limit 1",
            (url,)).fetchone()
        return (bytes(row[0]), row[1] or {}) if row else None

    def unmark_removed(self, url: str) -> None:
        """Answered again after a 404/410: no longer removed."""
        for table in ("raw.articles", "raw.pages"):
            self.conn.execute(f"update {table} set removed_at = null where url = %s and removed_at is not null",
                              (url,))

    def mark_removed(self, url: str, at: datetime | None = None) -> None:
        """A landed article that the site now answers 404/410 for: kept, marked removed."""
        at = at or datetime.now(timezone.utc)
        self.conn.execute("update raw.pages set removed_at = coalesce(removed_at, %s) where url = %s", (at, url))
        self.conn.execute("update raw.articles set removed_at = coalesce(removed_at, %s) where url = %s", (at, url))

    # -- articles --------------------------------------------------------------
    def save_article(self, art: ParsedArticle) -> bool:
        """Upsert by URL. Returns True when the row is new or its content changed."""
        row = self.conn.execute(
            """
            insert into raw.articles (source, url, title, published_at, author, lead, body_text, captions,
                                      body_variant, source_unit_id, template, content_hash, page_sha256, synthetic)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """ + ARTICLE_MERGE + """
            returning (xmax = 0) as inserted, loaded_at
            """,
            (art.source, art.url, art.title, art.published_at, art.author, art.lead, art.body_text,
             Jsonb(art.captions), art.body_variant, art.source_unit_id, art.template, art.content_hash,
             art.page_sha256, art.synthetic),
        ).fetchone()
        return bool(row[0])

    def known_urls(self, source: str) -> set[str]:
        rows = self.conn.execute("select url from raw.articles where source = %s", (source,)).fetchall()
        return {r[0] for r in rows}

    def stored_content_hash(self, url: str) -> str | None:
        row = self.conn.execute("select content_hash from raw.articles where url = %s", (url,)).fetchone()
        return row[0] if row else None

    def newest_published(self, source: str) -> datetime | None:
        """The newest article landed for the source (by any run, one that crashed included)."""
        return self.conn.execute("select max(published_at) from raw.articles where source = %s",
                                 (source,)).fetchone()[0]

    # -- quarantine ------------------------------------------------------------
    def quarantine(self, stage: str, source: str | None, url: str | None, reason: str,
                   detail: str | None = None, payload: dict[str, Any] | None = None) -> None:
        log.warning("quarantined [%s] %s: %s", stage, url, reason)
        self.conn.execute(
            """
            insert into raw.quarantine (stage, source, url, reason, detail, payload)
            values (%s, %s, %s, %s, %s, %s)
            on conflict (stage, url, reason) do update
               set last_seen_at = now(), detail = excluded.detail, payload = excluded.payload, resolved_at = null
            """,
            (stage, source, url, reason, detail, Jsonb(payload) if payload is not None else None),
        )

    def resolve_quarantine(self, stage: str, url: str) -> None:
        """A page that parses now (after a fix, or a reparse) leaves the quarantine as resolved."""
        self.conn.execute(
            "update raw.quarantine set resolved_at = now() where stage = %s and url = %s and resolved_at is null",
            (stage, url),
        )

    def fetch_failures(self, source: str) -> list[str]:
        """URLs of the source quarantined at fetch and not landed since (to retry on this run)."""
        rows = self.conn.execute(
            "select q.url from raw.quarantine q where q.source = %s and q.stage = 'fetch' and q.resolved_at is null "
            "and not exists (select 1 from raw.articles a where a.url = q.url) order by q.url", (source,)).fetchall()
        return [r[0] for r in rows]

    # -- crawl state -----------------------------------------------------------
    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        row = self.conn.execute("select etag, last_modified from raw.http_validators where url = %s", (url,)).fetchone()
        return (row[0], row[1]) if row else None

    def set_validators(self, url: str, etag: str | None, last_modified: str | None) -> None:
        if not etag and not last_modified:
            return
        self.conn.execute(
            """
            insert into raw.http_validators (url, etag, last_modified) values (%s, %s, %s)
            on conflict (url) do update set etag = excluded.etag, last_modified = excluded.last_modified,
                                            checked_at = now()
            """,
            (url, etag, last_modified),
        )

    def high_water_mark(self, source: str) -> datetime | None:
        row = self.conn.execute("select high_water_mark from raw.source_state where source = %s", (source,)).fetchone()
        return row[0] if row else None

    def set_high_water_mark(self, source: str, mark: datetime | None, status: str = "ok") -> None:
        """Advance (never move back) the source's high-water mark and record the run."""
        self.conn.execute(
            """
            insert into raw.source_state (source, high_water_mark, last_run_at, last_status)
            values (%s, %s, now(), %s)
            on conflict (source) do update set
                high_water_mark = greatest(raw.source_state.high_water_mark, excluded.high_water_mark),
                last_run_at = now(), last_status = excluded.last_status
            """,
            (source, mark, status),
        )

    # -- source health -----------------------------------------------------------
    def record_crawl_run(self, stats, started_at: datetime) -> dict:
        """One row of audit.crawl_runs for a finished crawl of a source, with its health status."""
        from qpan.health.record import record_run

        return record_run(self.conn, stats, started_at)

    def page_bodies(self, source: str | None = None):
        """Latest stored body of every page (for `qpan reparse`), newest version per URL."""
        query = """
            select distinct on (url) source, url, status, headers, body, sha256
            from raw.pages where (%s::text is null or source = %s) and status = 200
            order by url, fetched_at desc
        """
        with self.conn.cursor(name="page_bodies") if not self.conn.autocommit else self.conn.cursor() as cur:
            cur.execute(query, (source, source))
            for source_name, url, status, headers, body, digest in cur:
                yield source_name, url, status, headers, bytes(body or b""), digest


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)

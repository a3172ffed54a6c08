"""The archive's state in the landing database: CDX answers cached (raw.archive_captures,
raw.archive_listings) so that a rerun lists only the days not listed yet, each capture's state
(listed, landed, duplicate, quarantined, failed), and a capture's bytes saved in raw.pages."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

from psycopg.types.json import Jsonb

from scrapers.archive_client import Capture
from scrapers.archive_registry import ArchiveSource

def unlisted_ranges(conn, src: ArchiveSource, start: date, end: date) -> list[tuple[date, date]]:
    """The parts of [start, end] not listed yet for the source's prefix."""
    rows = conn.execute("select from_day, to_day from raw.archive_listings where archive_source = %s "
                        "and prefix = %s order by from_day", (src.name, src.prefix)).fetchall()
    gaps, cursor = [], start
    for a, b in rows:
        if b < cursor or a > end:
            continue
        if a > cursor:
            gaps.append((cursor, min(end, a - timedelta(days=1))))
        cursor = max(cursor, b + timedelta(days=1))
        if cursor > end:
            break
    if cursor <= end:
        gaps.append((cursor, end))
    return gaps


def cache_listing(conn, src: ArchiveSource, start: date, end: date, caps: list[Capture]) -> int:
    """Store a CDX answer (new captures only) and the range it covers, in one transaction."""
    new = 0
    with conn.transaction():
        for c in caps:
            cur = conn.execute(
                """insert into raw.archive_captures (original_url, timestamp14, captured_at, archive_source,
                       mimetype, statuscode, digest, length) values (%s, %s, %s, %s, %s, %s, %s, %s)
                   on conflict (original_url, timestamp14) do nothing""",
                (c.original, c.timestamp, c.captured_at, src.name, c.mimetype, c.statuscode, c.digest, c.length))
            new += cur.rowcount
        conn.execute("""insert into raw.archive_listings (archive_source, prefix, from_day, to_day, captures)
                        values (%s, %s, %s, %s, %s) on conflict do nothing""",
                     (src.name, src.prefix, start, end, len(caps)))
    return new


def pending(conn, src: ArchiveSource, start: date, end: date) -> list[Capture]:
    """Captures listed and not done (listed, or failed on an earlier run), oldest first."""
    lo = datetime.combine(start, datetime.min.time(), timezone.utc)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), timezone.utc)
    rows = conn.execute(
        """select original_url, timestamp14, mimetype, statuscode, digest, length from raw.archive_captures
           where archive_source = %s and state in ('listed', 'failed') and captured_at >= %s and captured_at < %s
           order by timestamp14, original_url""", (src.name, lo, hi)).fetchall()
    return [Capture(*r) for r in rows]


def mark_done(conn, c: Capture, state: str, reason: str | None = None, landed_as: str | None = None) -> None:
    conn.execute("update raw.archive_captures set state = %s, reason = %s, landed_as = %s, done_at = now() "
                 "where original_url = %s and timestamp14 = %s", (state, reason, landed_as, c.original, c.timestamp))


def digest_done(conn, c: Capture) -> bool:
    """Another capture of the URL with this payload is done (a truncated transfer is not: the same
    payload captured again may arrive whole)."""
    return conn.execute(
        "select 1 from raw.archive_captures where original_url = %s and digest = %s and timestamp14 <> %s "
        "and (state in ('landed', 'irrelevant') or state = 'quarantined' and reason <> 'truncated body') limit 1",
        (c.original, c.digest, c.timestamp)
    ).fetchone() is not None


def save_capture(conn, source: str, c: Capture, status: int, headers: dict, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    now = datetime.now(timezone.utc)
    conn.execute(
        """insert into raw.pages (source, url, status, headers, body, sha256, fetched_at, last_seen_at,
                                  captured_at, archive_digest)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           on conflict (url, sha256) do update set last_seen_at = excluded.last_seen_at,
               captured_at = coalesce(raw.pages.captured_at, excluded.captured_at),
               archive_digest = coalesce(raw.pages.archive_digest, excluded.archive_digest)""",
        (source, c.original, status, Jsonb(headers), body, digest, now, now, c.captured_at, c.digest))
    return digest

"""Helpers of the reliability suite: throwaway warehouse databases on the session's server, the
local portal server, sample registries with test politeness, and a checksum of the business
columns of every raw table (what a rerun must reproduce exactly)."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

from qpan.core import config, db

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "scrapers" / "sample_sources.yml"
SAMPLE_POLITENESS = ("politeness: {delay: 0.2, concurrency: 1, timeout: 5, retries: 2, backoff: 0.2, "
                     "retry_after_cap: 2, max_body_bytes: 2000000}")

# What a row *says*, per raw table: no serial ids (a crash burns sequence values), no timestamps
# that record when the work happened (fetched_at, parsed_at, loaded_at, ...), no HTTP Date headers.
RAW_BUSINESS = {
    "raw.pages": "select source, url, status, sha256, removed_at is not null from raw.pages",
    "raw.articles": (
        "select source, url, title, published_at, author, lead, body_text, captions::text, body_variant, "
        "source_unit_id, template, content_hash, page_sha256, synthetic, removed_at is not null from raw.articles"),
    "raw.indicator_mentions": (
        "select a.url, m.extractor_version, m.indicator, m.value, m.value_type, m.comparator, m.unit_id, m.period, "
        "m.qualifiers::text, m.evidence, m.span_start, m.span_end, m.confidence "
        "from raw.indicator_mentions m join raw.articles a using (article_id)"),
    "raw.article_extractions": (
        "select a.url, e.extractor_version, e.n_facts from raw.article_extractions e join raw.articles a using (article_id)"),
    "raw.quarantine": "select stage, source, url, reason, resolved_at is null from raw.quarantine",
    "raw.source_state": "select source, high_water_mark, last_status from raw.source_state",
    "raw.http_validators": "select url, etag, last_modified from raw.http_validators",
    # which rows were deleted is in article ids, which differ between databases: the count is compared
    "raw.article_deletions": "select 'deleted' from raw.article_deletions",
    # the web archive's CDX answers and each capture's state (issue 30)
    "raw.archive_captures": ("select original_url, timestamp14, archive_source, digest, state, reason, landed_as "
                             "from raw.archive_captures"),
    "raw.archive_listings": "select archive_source, prefix, from_day, to_day, captures from raw.archive_listings",
}


def raw_checksums(conn) -> dict[str, tuple[int, str]]:
    """(row count, md5 of the sorted rows) of every raw table's business columns."""
    out = {}
    for table, query in RAW_BUSINESS.items():
        out[table] = conn.execute(
            f"select count(*), md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from ({query}) r"
        ).fetchone()
    tables = {r[0] for r in conn.execute(
        "select 'raw.' || table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    assert tables <= set(RAW_BUSINESS), f"raw tables without a checksum rule: {tables - set(RAW_BUSINESS)}"
    return out


@contextmanager
def scratch_database():
    """A fresh, migrated warehouse database on the running server, as QPAN_DATABASE_URL for the
    duration (subprocesses started meanwhile inherit it); dropped afterwards."""
    previous = os.environ.get("QPAN_DATABASE_URL")
    name = f"qpan_rel_{uuid.uuid4().hex[:8]}"
    url = config.database_url(config.ADMIN_ROLE, dbname=name)
    os.environ["QPAN_DATABASE_URL"] = url
    try:
        db.migrate()
        yield url
    finally:
        if previous is None:
            os.environ.pop("QPAN_DATABASE_URL", None)
        else:
            os.environ["QPAN_DATABASE_URL"] = previous
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def write_registry(tmp_path, *, delay=0.05, retries=2, backoff=0.05, timeout=2.0, retry_after_cap=0.3,
                   max_body_bytes=2_000_000, prefix="rel", name="sources.yml") -> Path:
    """The sample registry with test politeness; source names `<prefix>_<site>`."""
    text = SAMPLE.read_text(encoding="utf-8")
    assert SAMPLE_POLITENESS in text, "sample registry politeness line changed: update tests/reliability"
    text = text.replace(SAMPLE_POLITENESS, (
        f"politeness: {{delay: {delay}, concurrency: 1, timeout: {timeout}, retries: {retries}, backoff: {backoff}, "
        f"retry_after_cap: {retry_after_cap}, max_body_bytes: {max_body_bytes}}}"))
    text = text.replace("name: sample_", f"name: {prefix}_")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def src(registry, short):
    return next(s for s in registry.sources if s.name.endswith("_" + short))


def secrets_of_every_role() -> dict[str, str]:
    from qpan.core import config as cfg

    return {role: cfg.role_password(role) for role in (cfg.ADMIN_ROLE, *cfg.ROLES)}

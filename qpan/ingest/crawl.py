"""What the ingest DAG's tasks call: list a registry's sources, crawl one, summarise."""
from __future__ import annotations

import logging
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from qpan.core import config, db

log = logging.getLogger(__name__)


def _registry_path(sources_file: str) -> Path:
    path = Path(sources_file)
    return path if path.is_absolute() else config.REPO_ROOT / path


def _load(sources_file: str):
    from scrapers.registry import load_registry

    return load_registry(_registry_path(sources_file))


class ConfigError(ValueError):
    """The run's configuration is wrong (unknown source, bad date, bad registry): retrying
    cannot help, so the DAG fails at once on it."""


def source_names(sources_file: str, only: str | None = None, since: str | None = None,
                 until: str | None = None) -> list[str]:
    """The sources to crawl; every parameter of the run is checked here, before any crawl."""
    from scrapers.registry import RegistryError

    try:
        registry = _load(sources_file)
    except (RegistryError, OSError) as exc:
        raise ConfigError(f"registry {sources_file}: {exc}") from exc
    names = [s.name for s in registry.sources]
    first, last = _parse_day(since), _parse_day(until)
    if first and last and first > last:
        raise ConfigError(f"since {since} is after until {until}")
    if only:
        if only not in names:
            raise ConfigError(f"source {only!r} is not in {sources_file} (known: {', '.join(names)})")
        names = [only]
    log.info("%d source(s) from %s: %s", len(names), sources_file, ", ".join(names))
    return names


def _parse_day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ConfigError(f"malformed date {value!r}: expected YYYY-MM-DD") from exc


def crawl_one(sources_file: str, name: str, since: str | None = None, until: str | None = None) -> dict:
    """Crawl one source while holding an advisory lock on its host, so two runs (or two
    workers) never hit one host at once: politeness across parallel runs."""
    from scrapers.crawl import crawl_source
    from qpan.landing.store import PostgresStore

    registry = _load(sources_file)
    source = registry.get(name)
    host = urlsplit(source.base_url).hostname or name
    with db.connect("qpan_loader", autocommit=True) as lock_conn, PostgresStore() as store:
        log.info("crawl %s: waiting for the politeness lock on host %s", name, host)
        lock_conn.execute("select pg_advisory_lock(hashtext(%s))", ("qpan.host:" + host,))
        # The previous holder (another worker, or one killed mid-request) sent its last request
        # before it let go: one `delay` from now keeps the gap across processes too.
        time.sleep(source.politeness.delay)
        try:
            stats = crawl_source(source, store, registry=registry, since=_parse_day(since), until=_parse_day(until))
        finally:
            lock_conn.execute("select pg_advisory_unlock(hashtext(%s))", ("qpan.host:" + host,))
    result = stats.to_dict()
    result["source"] = name
    log.info("crawl %s: %s", name, result)
    if stats.failed:
        # Fail this source's task only (the other mapped tasks go on); the URLs and reasons
        # are in the log lines above and in raw.quarantine (stage 'fetch').
        with db.connect("qpan_loader") as conn:
            reasons = conn.execute(
                "select url, reason from raw.quarantine where source = %s and stage = 'fetch' "
                "and resolved_at is null order by last_seen_at desc limit 5", (name,)).fetchall()
        detail = "; ".join(f"{url}: {reason}" for url, reason in reasons) or "no list page or feed answered"
        raise SourceUnreachable(f"source {name} failed entirely: {detail}")
    return result


class SourceUnreachable(RuntimeError):
    """Not one list page or feed of a source could be fetched."""


def articles_changed(total: dict) -> bool:
    """Did the run land a new article, update one, or mark one removed?"""
    return any(total.get(key, 0) for key in ("articles_new", "articles_updated", "removed"))


def summarize_stats(stats: list[dict]) -> dict:
    total: dict[str, int] = {}
    for item in stats:
        if not item:
            continue
        for key, value in item.items():
            if isinstance(value, int):
                total[key] = total.get(key, 0) + value
    total["sources_succeeded"] = sum(1 for s in stats if s)
    log.info("ingest summary: %s", total)
    return total

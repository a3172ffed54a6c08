"""What a crawl run saw (CrawlStats: the crawl summary and the source health row of
audit.crawl_runs), and the bookkeeping of a skipped, failed or quarantined page."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

from scrapers.downloader.base import Skipped, error_class
from scrapers.registry_model import Source

log = logging.getLogger("scrapers.crawl")


@dataclass
class CrawlStats:
    source: str = ""
    fetched: int = 0            # 200 responses landed (feeds, list pages, articles)
    not_modified: int = 0       # 304 answers to conditional GETs
    retried: int = 0            # retries after timeouts, connection errors, 5xx, 429
    skipped_irrelevant: int = 0
    skipped_robots: int = 0
    skipped_offsite: int = 0    # distinct links/redirects to hosts outside the allow-list
    skipped_known: int = 0      # already landed, not refetched
    skipped_window: int = 0     # outside the backfill window
    quarantined: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    removed: int = 0
    errors: int = 0             # fetches that failed (also quarantined)
    discovery_ok: int = 0       # feeds/list pages answered 200 or 304
    discovery_failed: int = 0
    failed: bool = False        # the source failed entirely (no discovery page could be fetched)
    seconds: float = 0.0
    offsite_links: set = field(default_factory=set, repr=False)
    # source health (qpan.health): what the run saw, recorded in audit.crawl_runs
    article_pages: int = 0      # article pages answered 200 or 304
    parse_attempts: int = 0     # article pages handed to the template parser
    parse_failures: dict = field(default_factory=dict)     # reason -> count (list pages included)
    failing_selectors: dict = field(default_factory=dict)  # reason -> the selectors that failed
    http_errors: dict = field(default_factory=dict)        # class (5xx, 4xx, 403, 429, timeout, network) -> count
    response_ms: list = field(default_factory=list, repr=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("offsite_links", None)
        d.pop("response_ms", None)
        return d


def record_parse_failure(stats: CrawlStats, reason: str, detail: str | None) -> None:
    stats.parse_failures[reason] = stats.parse_failures.get(reason, 0) + 1
    if detail and reason not in stats.failing_selectors:
        stats.failing_selectors[reason] = detail[:300]


def record_skip(stats: CrawlStats, exc: Skipped, url: str) -> None:
    if exc.kind == "robots":
        stats.skipped_robots += 1
    else:
        stats.offsite_links.add(url)
    log.info("%s skipped (%s): %s", stats.source, exc.kind, exc.reason)


def quarantine(store, stats, stage, source: Source, url, reason, detail=None, payload=None):
    stats.quarantined += 1
    if stage == "fetch":
        cls = error_class(reason)
        stats.http_errors[cls] = stats.http_errors.get(cls, 0) + 1
    elif stage == "parse":
        record_parse_failure(stats, reason, detail)
    store.quarantine(stage, source.name, url, reason, detail, payload)

"""Incremental, polite crawl of the registry's sources into the landing store.

`crawl_source` discovers article URLs from RSS feeds and list pages (with pagination),
decides relevance from the list/RSS title + lead (decision logged), fetches relevant new
articles, saves every raw response before parsing, parses with the source's template and
upserts the article; whatever fails is quarantined with its reason.

Incremental: articles already landed (store.known_urls) are not refetched, and pagination
stops at the first page with nothing new (nothing unknown and nothing at or after the
high-water mark); list pages and feeds are fetched with conditional GET (304 -> the stored
body is reused). A backfill window (`since`/`until`) refetches landed articles inside it
(conditionally) and skips what is outside. An article answering 404/410 after it was landed
is marked removed (store.mark_removed).
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit


from scrapers.discovery import Candidate, discovery_urls, parse_list_page, parse_rss
from scrapers.crawl_stats import CrawlStats, quarantine, record_parse_failure, record_skip
from scrapers.downloader.base import FetchError, Skipped
from scrapers.encoding import decode_body
from scrapers.fetch import Fetcher
from scrapers.hosts import host_of
from scrapers.registry_model import Registry, Source
from scrapers.templates import ParseError, parse_article, template_config
from scrapers.templates.common import VN_TZ, as_list, date_from_url

log = logging.getLogger("scrapers.crawl")


# -- the crawl ------------------------------------------------------------------------------
def _in_window(dt: datetime | None, since: date | None, until: date | None) -> bool | None:
    if dt is None:
        return None
    d = dt.astimezone(VN_TZ).date()
    if since and d < since:
        return False
    if until and d > until:
        return False
    return True


def _as_date(v) -> date | None:
    if v is None or isinstance(v, date) and not isinstance(v, datetime):
        return v
    if isinstance(v, datetime):
        return v.date()
    return date.fromisoformat(str(v))


def _emit(progress, **info):
    if progress is not None:
        try:
            progress(**info)
        except Exception:  # noqa: BLE001 - a progress bar never breaks a crawl
            log.debug("progress callback failed", exc_info=True)


def crawl_source(source: Source, store, *, registry: Registry, since=None, until=None, progress=None,
                 fetcher: Fetcher | None = None) -> CrawlStats:
    """Crawl one source into `store`; returns its CrawlStats (never raises for a page)."""
    t0 = time.monotonic()
    started_at = datetime.now(timezone.utc)
    stats = CrawlStats(source=source.name)
    since, until = _as_date(since), _as_date(until)
    backfill = since is not None or until is not None
    own = fetcher is None
    fetcher = fetcher or Fetcher(registry, store)
    conf = template_config(source.template, source.selectors)
    try:
        known = store.known_urls(source.name)
        hwm = store.high_water_mark(source.name)
        hwm_cut = hwm - timedelta(days=1) if hwm else None
        cands: "OrderedDict[str, Candidate]" = OrderedDict()
        rss_items: dict[str, dict] = {}

        def fresh(c: Candidate) -> bool:
            if backfill:
                return _in_window(c.date, since, until) is not False
            # new to us and not older than the high-water mark (minus a day of slack)
            return c.url not in known and (hwm_cut is None or c.date is None or c.date >= hwm_cut)

        def discovery_fetch(url: str, later_page: bool = False) -> tuple[bytes, dict] | None:
            try:
                resp = fetcher.fetch(url, source, stats=stats)
            except Skipped as exc:
                record_skip(stats, exc, url)
                stats.discovery_failed += 1
                return None
            except FetchError as exc:
                stats.errors += 1
                stats.discovery_failed += 1
                quarantine(store, stats, "fetch", source, url, exc.reason, exc.detail)
                return None
            if resp.status == 304:
                stats.not_modified += 1
                stats.discovery_ok += 1
                log.info("%s 304 %s (unchanged)", source.name, url)
                return store.stored_body(url)
            if resp.status != 200:
                log.info("%s %s %s%s", source.name, resp.status, url, " (end of pagination)" if later_page else "")
                if not (later_page and resp.status in (404, 410)):
                    stats.discovery_failed += 1
                    stats.errors += 1
                    quarantine(store, stats, "fetch", source, url, f"http {resp.status}", "discovery page")
                return None
            stats.fetched += 1
            stats.discovery_ok += 1
            log.info("%s 200 %s (discovery)", source.name, url)
            return resp.body, resp.headers

        for feed in source.rss:
            got = discovery_fetch(feed)
            if not got:
                continue
            try:
                items = parse_rss(got[0], feed)
            except Exception as exc:  # noqa: BLE001 - malformed or hostile XML
                quarantine(store, stats, "parse", source, feed, "rss not parseable", str(exc)[:500])
                continue
            for c in items:
                rss_items[c.url] = c.rss_item or {}
                cands.setdefault(c.url, c)

        for lp in source.list_pages:
            seen_pages: set[str] = set()
            for n in range(lp.first_page, lp.first_page + lp.max_pages):
                page_url = lp.page_url(n)
                if page_url in seen_pages:
                    break
                seen_pages.add(page_url)
                got = discovery_fetch(page_url, later_page=n > lp.first_page)
                if not got:
                    break
                items, others, _ = parse_list_page(decode_body(got[0], (got[1] or {}).get("content-type")), page_url, conf)
                if not items and n == lp.first_page:  # a list page without one article link: its template changed
                    record_parse_failure(stats, "list selector matched nothing",
                                   ", ".join(as_list(conf.get("list_item"))) or "article links")
                for u in others:
                    if not registry.host_allowed(host_of(u)) or urlsplit(u).scheme not in ("http", "https"):
                        if u not in stats.offsite_links:
                            stats.offsite_links.add(u)
                            log.info("%s offsite link not followed: %s", source.name, u)
                new_here = 0
                for c in items:
                    if c.url in cands:
                        prev = cands[c.url]
                        prev.lead = prev.lead or c.lead
                        prev.date = prev.date or c.date
                        continue
                    if fetcher.refusal(c.url, source):
                        stats.offsite_links.add(c.url)
                        continue
                    cands[c.url] = c
                    new_here += fresh(c)
                if not items or (new_here == 0 and not backfill and known):
                    break
                if backfill and since and items and all(c.date and c.date.date() < since for c in items):
                    break

        # Articles whose fetch failed on an earlier run (5xx, reset, timeout...) are retried, even when
        # the incremental discovery above stopped before reaching them: a transient fault loses nothing.
        pattern = re.compile(conf.get("article_url_pattern") or r"$^")
        for url in store.fetch_failures(source.name):
            if url not in cands and pattern.search(urlsplit(url).path) and not fetcher.refusal(url, source):
                cands[url] = Candidate(url, date=date_from_url(url), via="retry")

        for url in discovery_urls(source):  # a pagination link is not an article
            cands.pop(url, None)
        stats.failed = stats.discovery_ok == 0 and (stats.discovery_failed > 0)
        max_pub: datetime | None = None
        total = len(cands)
        for i, c in enumerate(cands.values(), 1):
            decision = _handle(c, source, store, registry, fetcher, stats, known, backfill, since, until,
                               rss_items, conf)
            if isinstance(decision, datetime):
                max_pub = max(max_pub, decision) if max_pub else decision
                decision = "landed"
            _emit(progress, source=source.name, done=i, total=total, url=c.url, decision=decision)
        stats.skipped_offsite = len(stats.offsite_links)
        # the newest article landed for the source, by this run or by one that crashed before
        # recording its mark: a retry converges on the mark of an uninterrupted run
        landed_max = store.newest_published(source.name)
        max_pub = max(d for d in (max_pub, landed_max) if d is not None) if (max_pub or landed_max) else None
        store.set_high_water_mark(source.name, max_pub, "failed" if stats.failed else "ok")
        record = getattr(store, "record_crawl_run", None)  # source health (qpan.health.record)
        if record is not None:
            try:
                record(stats, started_at)
            except Exception:  # noqa: BLE001 - the health record never costs the crawl its result
                log.exception("%s: could not record the run's health", source.name)
    finally:
        if own:
            fetcher.close()
        stats.seconds = round(time.monotonic() - t0, 3)
    log.info("%s summary %s", source.name, stats.to_dict())
    return stats


def _handle(c: Candidate, source: Source, store, registry, fetcher: Fetcher, stats: CrawlStats, known,
            backfill, since, until, rss_items, conf):
    name = source.name
    dt = c.date or date_from_url(c.url)
    if backfill and _in_window(dt, since, until) is False:
        stats.skipped_window += 1
        log.info("%s skip (outside window %s..%s): %s", name, since, until, c.url)
        return "outside window"
    if c.url in known and not backfill:
        stats.skipped_known += 1
        log.info("%s skip (already landed): %s", name, c.url)
        return "known"
    if c.title:
        relevant, why = source.relevance.decide(c.title, c.lead)
        log.info("%s relevance %s (%s): %s | %s", name, "yes" if relevant else "no", why, c.url, c.title)
        if not relevant:
            stats.skipped_irrelevant += 1
            return "irrelevant"
    try:
        resp = fetcher.fetch(c.url, source, stats=stats)
    except Skipped as exc:
        record_skip(stats, exc, c.url)
        return f"skipped {exc.kind}"
    except FetchError as exc:
        stats.errors += 1
        quarantine(store, stats, "fetch", source, c.url, exc.reason, exc.detail)
        return f"quarantined: {exc.reason}"
    log.info("%s %s %s", name, resp.status, c.url)
    refetched = True
    if resp.status == 304:
        stats.not_modified += 1
        stored = None if c.url in known else store.stored_body(c.url)
        if stored is None:
            store.unmark_removed(c.url)  # answered again after a 404/410: no longer removed
            return "not modified"
        # Unchanged, but never landed as an article (a crash between saving the page and saving
        # the article, or a parse error): parse the stored page rather than lose the article.
        resp.status, resp.body, resp.headers = 200, stored[0], dict(stored[1])
        resp.page_sha256 = hashlib.sha256(resp.body).hexdigest()
        refetched = False
    if resp.status in (404, 410):
        if c.url in known:
            store.mark_removed(c.url)
            stats.removed += 1
            return "removed"
        stats.errors += 1
        quarantine(store, stats, "fetch", source, c.url, f"http {resp.status}")
        return f"http {resp.status}"
    if resp.status != 200:
        stats.errors += 1
        quarantine(store, stats, "fetch", source, c.url, f"http {resp.status}",
                    f"after {resp.attempts} attempts")
        return f"http {resp.status}"
    stats.fetched += refetched
    stats.article_pages += 1
    stats.parse_attempts += 1
    html = decode_body(resp.body, resp.headers.get("content-type"))
    try:
        art = parse_article(source.template, html, c.url, source=name, unit_id=source.unit_id,
                            selectors=source.selectors, rss_item=c.rss_item or rss_items.get(c.url))
    except ParseError as exc:
        quarantine(store, stats, "parse", source, c.url, exc.reason, exc.detail,
                    {"template": source.template, "page_sha256": resp.page_sha256})
        return f"quarantined: {exc.reason}"
    if not c.title:
        relevant, why = source.relevance.decide(art.title, art.lead)
        log.info("%s relevance (page) %s (%s): %s", name, "yes" if relevant else "no", why, c.url)
        if not relevant:
            stats.skipped_irrelevant += 1
            return "irrelevant"
    if art.published_at is None and dt is not None:
        art.published_at = dt  # the list/RSS date, else the URL's date: never "now"
    art.page_sha256 = resp.page_sha256
    before = store.stored_content_hash(c.url) if c.url in known or backfill else None
    inserted = store.save_article(art)
    if inserted:
        stats.articles_new += 1
    elif before != art.content_hash:
        stats.articles_updated += 1
    store.resolve_quarantine("parse", c.url)
    store.resolve_quarantine("fetch", c.url)
    return art.published_at or "landed"


def crawl(registry: Registry, store, only=None, since=None, until=None, progress=None,
          store_factory=None, fetcher: Fetcher | None = None) -> dict[str, CrawlStats]:
    """All enabled sources (or `only`: a name or list of names), one thread per host, sources
    of one host one after the other; the fetcher's host gates keep per-host politeness."""
    names = [only] if isinstance(only, str) else (list(only) if only else None)
    sources = [s for s in registry.sources if (s.name in names if names else s.enabled)]
    if names:
        missing = set(names) - {s.name for s in sources}
        if missing:
            known = ", ".join(s.name for s in registry.sources)
            raise KeyError(f"unknown source(s): {', '.join(sorted(missing))} (known in {registry.path}: {known})")
    by_host: "OrderedDict[str, list[Source]]" = OrderedDict()
    for s in sources:
        by_host.setdefault(s.host, []).append(s)
    results: dict[str, CrawlStats] = {}
    lock = threading.Lock()
    own_fetcher = fetcher is None
    fetcher = fetcher or Fetcher(registry, store)

    def run(group: list[Source]):
        st = store_factory() if store_factory else store
        f = fetcher if st is store else Fetcher(registry, st)
        try:
            for s in group:
                try:
                    r = crawl_source(s, st, registry=registry, since=since, until=until, progress=progress, fetcher=f)
                except Exception as exc:  # noqa: BLE001 - one source never stops the others
                    log.exception("%s failed", s.name)
                    r = CrawlStats(source=s.name, failed=True, errors=1)
                    try:
                        st.quarantine("crawl", s.name, s.base_url, "source crashed", repr(exc)[:1000])
                    except Exception:  # noqa: BLE001
                        pass
                with lock:
                    results[s.name] = r
        finally:
            if f is not fetcher:
                f.close()
            if st is not store:
                st.close()

    threads = [threading.Thread(target=run, args=(g,), name=f"crawl-{h}") for h, g in by_host.items()]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if own_fetcher:
            fetcher.close()
    return {s.name: results[s.name] for s in sources if s.name in results}


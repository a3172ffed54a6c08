"""`qpan reparse`: re-parse the stored `raw.pages` without fetching (after a template fix)."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from scrapers.encoding import decode_body
from scrapers.registry_model import Registry
from scrapers.templates import ParseError, parse_article, template_config
from scrapers.templates.common import date_from_url


@dataclass
class ReparseStats:
    pages: int = 0
    parsed: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    quarantined: int = 0
    skipped: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def reparse(store, source: str | None = None, registry: Registry | None = None) -> ReparseStats:
    """Re-parse the stored raw pages (no fetching): after a template fix, quarantined pages land.
    Feeds and list pages are skipped (not articles), error pages quarantined as such."""
    from scrapers.discovery import discovery_urls, parse_rss
    from scrapers.registry import DEFAULT_SOURCES, SAMPLE_SOURCES, load_registry

    regs = [registry] if registry else []
    if not regs:
        for p in (DEFAULT_SOURCES, SAMPLE_SOURCES):
            try:
                regs.append(load_registry(p))
            except Exception:  # noqa: BLE001 - e.g. sample port variable unset
                continue
    by_name = {}
    for r in regs:
        for s in r.sources:
            by_name.setdefault(s.name, s)
    st = ReparseStats()
    pages = list(store.page_bodies(source))
    rss_items: dict[str, dict] = {}
    for _name, url, _status, headers, body, _digest in pages:
        if (headers or {}).get("content-type", "").find("xml") >= 0 or url.endswith((".xml", ".rss")):
            try:
                for c in parse_rss(body, url):
                    rss_items[c.url] = c.rss_item or {}
            except Exception:  # noqa: BLE001
                pass
    not_articles = {name: discovery_urls(src) for name, src in by_name.items()}
    for name, url, _status, headers, body, digest in pages:
        src = by_name.get(name)
        if src is None:
            st.skipped += 1
            continue
        conf = template_config(src.template, src.selectors)
        if url in not_articles[name] or not re.search(conf.get("article_url_pattern") or r"$^", urlsplit(url).path):
            st.skipped += 1  # robots.txt, feeds, list pages
            continue
        st.pages += 1
        html = decode_body(body, (headers or {}).get("content-type"))
        try:
            art = parse_article(src.template, html, url, source=name, unit_id=src.unit_id,
                                selectors=src.selectors, rss_item=rss_items.get(url))
        except ParseError as exc:
            st.quarantined += 1
            store.quarantine("parse", name, url, exc.reason, exc.detail, {"template": src.template, "page_sha256": digest})
            continue
        if art.published_at is None:
            art.published_at = date_from_url(url)
        art.page_sha256 = digest
        before = store.stored_content_hash(url)
        if store.save_article(art):
            st.articles_new += 1
        elif before != art.content_hash:
            st.articles_updated += 1
        store.resolve_quarantine("parse", url)
        st.parsed += 1
    return st

"""Scrapers of the QP-AN warehouse: registry of portals, polite fetcher, template parsers,
incremental crawl into a landing store (the protocol `scrapers.store.Store`, which
`qpan.landing.store.PostgresStore` implements). They import nothing of qpan but its settings.

Public entry points:
    scrapers.registry.load_registry(path) -> Registry
    scrapers.crawl.crawl_source(source, store, *, registry, since=None, until=None, progress=None) -> CrawlStats
    scrapers.crawl.crawl(registry, store, only=None, since=None, until=None) -> dict[str, CrawlStats]
    scrapers.reparse.reparse(store, source=None, registry=None) -> ReparseStats
    scrapers.templates.parse_article(template, html, url, source, ...) -> ParsedArticle
"""

"""Template parsers. `parse_article(template, html, url, ...)` dispatches by template name;
each template's default selectors live in its module's DEFAULTS and may be overridden from
the registry (`templates:` block or a source's `selectors:`)."""
from __future__ import annotations

import re

from scrapers.templates import baothanhhoa, dangcongsan, generic, thanhhoa_portal
from scrapers.templates.common import ParseError, check_nesting, parse_vn_datetime, date_from_url  # noqa: F401

MODULES = {
    "thanhhoa_portal": thanhhoa_portal,
    "baothanhhoa": baothanhhoa,
    "dangcongsan": dangcongsan,
    "generic": generic,
}


# Pages we generated ourselves (fixtures, benchmark corpora) carry this mark in their <head>.
SYNTHETIC_MARK = re.compile(r'<meta\s+name="qpan:synthetic"\s+content="true"', re.I)


def template_config(template: str, overrides: dict | None = None) -> dict:
    conf = dict(MODULES[template].DEFAULTS)
    conf.update(overrides or {})
    return conf


def parse_article(template: str, html: str, url: str, *, source: str, unit_id: str | None = None,
                  selectors: dict | None = None, rss_item: dict | None = None):
    """Parse one article page; raises ParseError with the quarantine reason."""
    if template not in MODULES:
        raise ParseError("unknown template", template)
    conf = template_config(template, selectors)
    check_nesting(html)  # pathological markup is refused in bounded time, before any parser sees it
    try:
        article = MODULES[template].parse(html, url, conf, source=source, unit_id=unit_id, rss_item=rss_item)
    except RecursionError:  # ~1000 nested blocks exhaust the text walker's recursion: a page error
        raise ParseError("markup too deeply nested", "recursion limit while walking the page") from None
    if SYNTHETIC_MARK.search(html[:4096]):
        article.synthetic = True
    return article

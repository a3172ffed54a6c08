"""Template parsers. `parse_article(template, html, url, ...)` dispatches by template name;
each template's default selectors live in its module's DEFAULTS and may be overridden from
the registry (`templates:` block or a source's `selectors:`)."""
from __future__ import annotations

import re

from scrapers.templates import baothanhhoa, dangcongsan, generic, thanhhoa_portal
from scrapers.templates.common import ParseError, parse_vn_datetime, date_from_url  # noqa: F401

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
    article = MODULES[template].parse(html, url, conf, source=source, unit_id=unit_id, rss_item=rss_item)
    if SYNTHETIC_MARK.search(html[:4096]):
        article.synthetic = True
    return article

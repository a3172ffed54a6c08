"""Generic template: trafilatura for any news page (other provinces' portals, aggregators).
Dates from trafilatura's metadata (naive dates are local: Asia/Ho_Chi_Minh), else the URL."""
from __future__ import annotations

import json

import trafilatura

from scrapers.items import ParsedArticle
from scrapers.templates.common import ParseError, VN_TZ, cut_chrome, date_from_url, page_error_marker, parse_html
from scrapers.text import clean

DEFAULTS = {
    "article_url_pattern": r"/[^/?#]*[a-z0-9-]{12,}[^/?#]*(?:\.html?|\.aspx|-\d+)?$",
    "list_item": [],
    "list_title": ["a"],
    "list_lead": [],
    "list_date": [],
    "stop_markers": [],
}


# trafilatura (with its readability/jusText fallbacks) needs ~0.25 ms per element: a page with
# hundreds of thousands of tags would take minutes. No article page comes near this many.
MAX_TAGS = 50_000


def parse(html, url, conf, *, source, unit_id=None, rss_item=None):
    if html.count("<") > MAX_TAGS:
        raise ParseError("page too large for the generic template", f"more than {MAX_TAGS} tags")
    raw = trafilatura.extract(html, url=url, output_format="json", with_metadata=True, include_comments=False,
                              include_tables=False, favor_precision=True)
    data = json.loads(raw) if raw else {}
    title = clean(data.get("title") or "")
    text = data.get("text") or ""
    if not title or len(text) < int(conf.get("min_body_chars", 40)):
        marker = page_error_marker(parse_html(html))
        if marker:
            raise ParseError("error page: no article", f"page says {marker!r}")
        raise ParseError("title selector matched nothing" if not title else "empty body", "trafilatura")
    paras = cut_chrome([clean(p) for p in text.split("\n") if clean(p)], conf.get("stop_markers"))
    if paras and paras[0] == title:
        paras = paras[1:]
    published = None
    if data.get("date"):
        from datetime import datetime

        try:
            published = datetime.fromisoformat(data["date"]).replace(tzinfo=VN_TZ)
        except ValueError:
            published = None
    published = published or date_from_url(url)
    return ParsedArticle(source=source, url=url, title=title, body_text="\n\n".join(paras), published_at=published,
                         author=clean(data.get("author") or "") or None, lead=paras[0] if paras else None,
                         captions=[], body_variant="html", template="generic", source_unit_id=unit_id)

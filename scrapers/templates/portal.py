"""Selector-driven article parser shared by the HTML templates (configuration, not code per site)."""
from __future__ import annotations

import re

from scrapers.items import ParsedArticle
from scrapers.templates.common import (
    COMMON_REMOVE, ParseError, as_list, assemble, author_from, cut_chrome, date_from_url, first,
    node_text, paragraphs, parse_html, parse_vn_datetime, remove, require_title, take_captions,
    take_trailing_author,
)
from scrapers.text import clean


def published_from(tree, conf, url):
    """(datetime, where): the page's date line, else the URL's date, else None -- never now."""
    rx = re.compile(conf["date_regex"]) if conf.get("date_regex") else None
    for sel in as_list(conf.get("date")):
        for n in tree.css(sel):
            for attr in ("datetime", "content", "data-time"):
                v = n.attributes.get(attr)
                dt = parse_vn_datetime(v) if v else None
                if dt:
                    return dt, "page"
            text = node_text(n)
            if rx:
                m = rx.search(text)
                text = m.group(1) if m else ""
            dt = parse_vn_datetime(text)
            if dt:
                return dt, "page"
    if rx and tree.body is not None:  # the date line anywhere on the page ("Đăng lúc: ...")
        m = rx.search(clean(tree.body.text(separator="\n")))
        if m:
            dt = parse_vn_datetime(m.group(1))
            if dt:
                return dt, "page"
    dt = date_from_url(url)
    return (dt, "url") if dt else (None, None)


def parse_with_selectors(html: str, url: str, conf: dict, *, source: str, template: str,
                         unit_id: str | None = None, body_override: list[str] | None = None,
                         body_variant: str = "html") -> ParsedArticle:
    tree = parse_html(html)
    title = require_title(tree, conf.get("title"))
    published_at, _ = published_from(tree, conf, url)
    lead_node = first(tree, conf.get("lead"))
    lead = node_text(lead_node) or None if lead_node is not None else None
    author = author_from(tree, conf.get("author"))
    captions: list[str] = []
    if body_override is not None:
        paras = body_override
    else:
        body = first(tree, conf.get("body"))
        if body is None:
            raise ParseError("body selector matched nothing", ", ".join(as_list(conf.get("body"))))
        remove(body, COMMON_REMOVE + as_list(conf.get("remove")))
        captions = take_captions(body, conf.get("captions"))
        if author is None:
            author = take_trailing_author(body)
        paras = paragraphs(body)
    paras = cut_chrome(paras, conf.get("stop_markers"))
    # a lead selector outside the body may repeat as the first paragraph: assemble() dedupes
    lead, paras = assemble(lead, paras)
    if author and paras and clean(paras[-1]).removeprefix("Tác giả:").strip() == author:
        paras = paras[:-1]
    if not paras or sum(len(p) for p in paras) < int(conf.get("min_body_chars", 40)):
        raise ParseError("empty body", f"{sum(len(p) for p in paras)} characters")
    return ParsedArticle(
        source=source, url=url, title=title, body_text="\n\n".join(paras), published_at=published_at,
        author=author, lead=lead, captions=captions, body_variant=body_variant, template=template,
        source_unit_id=unit_id,
    )

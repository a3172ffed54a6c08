"""Discovery: article candidates from RSS feeds and list pages, and which URLs of a source are
feeds or list pages (never articles)."""
from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urldefrag, urljoin, urlsplit

from defusedxml import ElementTree as DefusedET

from scrapers.hosts import host_of
from scrapers.registry_model import Source
from scrapers.templates.common import VN_TZ, as_list, date_from_url, first, node_text, parse_html, parse_vn_datetime
from scrapers.text import clean

log = logging.getLogger("scrapers.crawl")


@dataclass
class Candidate:
    url: str
    title: str | None = None
    lead: str | None = None
    date: datetime | None = None
    rss_item: dict | None = None
    via: str = "list"


def parse_rss(body: bytes, base_url: str) -> list[Candidate]:
    """RSS 2.0 / Atom items, parsed without entity expansion or network access (defusedxml)."""
    root = DefusedET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    out = []
    for item in root.iter():
        tag = item.tag.rsplit("}", 1)[-1]
        if tag not in ("item", "entry"):
            continue
        fields = {}
        for child in item:
            name = child.tag.rsplit("}", 1)[-1]
            if name == "link" and child.get("href"):
                fields["link"] = child.get("href")
            elif name == "encoded":
                fields["content"] = child.text or ""
            else:
                fields[name] = (child.text or "").strip()
        link = fields.get("link") or fields.get("guid")
        if not link:
            continue
        url = urldefrag(urljoin(base_url, link.strip()))[0]
        pub = fields.get("pubDate") or fields.get("published") or fields.get("updated")
        dt = None
        if pub:
            import email.utils

            try:
                dt = email.utils.parsedate_to_datetime(pub).astimezone(VN_TZ)
            except (TypeError, ValueError):
                dt = parse_vn_datetime(pub)
        desc = fields.get("description") or fields.get("summary") or ""
        lead = clean(re.sub(r"<[^>]+>", " ", desc)) or None
        item_d = {"title": fields.get("title"), "link": url, "description": desc, "content": fields.get("content"),
                  "pubDate": pub}
        out.append(Candidate(url, clean(fields.get("title") or "") or None, lead, dt, item_d, "rss"))
    return out


def parse_list_page(html: str, page_url: str, conf: dict) -> tuple[list[Candidate], set[str], set[str]]:
    """(article candidates, all other links, next-page links) of a list page."""
    tree = parse_html(html)
    pattern = re.compile(conf.get("article_url_pattern") or r"$^")
    cands: "OrderedDict[str, Candidate]" = OrderedDict()

    def is_article(u: str) -> bool:
        return bool(pattern.search(urlsplit(u).path))

    items = []
    for sel in as_list(conf.get("list_item")):
        items = tree.css(sel)
        if items:
            break
    for it in items:
        a = None
        for sel in as_list(conf.get("list_title")) or ["a"]:
            for cand in it.css(sel):
                href = cand.attributes.get("href")
                if href and is_article(urljoin(page_url, href)):
                    a = cand
                    break
            if a is not None:
                break
        if a is None:
            continue
        url = urldefrag(urljoin(page_url, a.attributes["href"].strip()))[0]
        lead_n = first(it, conf.get("list_lead"))
        date_n = first(it, conf.get("list_date"))
        dt = None
        if date_n is not None:
            dt = parse_vn_datetime(date_n.attributes.get("datetime") or node_text(date_n))
        cands.setdefault(url, Candidate(url, node_text(a) or None, node_text(lead_n) or None, dt or date_from_url(url)))
    others: set[str] = set()
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        u = urldefrag(urljoin(page_url, href))[0]
        if u in cands:
            continue
        if not items and is_article(u) and host_of(u) == host_of(page_url):  # no item markup: anchors
            cands.setdefault(u, Candidate(u, node_text(a) or None, None, date_from_url(u)))
        else:
            others.add(u)
    return list(cands.values()), others, set()



def discovery_urls(source: Source) -> set[str]:
    """The source's feeds and list pages (every page its pagination can reach): not articles, even
    when a URL such as `/thoi-su/trang-2.htm` also matches the template's article pattern."""
    urls = set(source.rss)
    for lp in source.list_pages:
        urls.update(lp.page_url(n) for n in range(lp.first_page, lp.first_page + lp.max_pages))
    return urls



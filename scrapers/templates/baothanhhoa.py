"""Báo Thanh Hóa (baothanhhoa.vn), the provincial newspaper.

Clear-text pages: h1.article__title, time.article__time[datetime], .article__sapo (lead),
.article__body, .article__author.

Obfuscated variant (the real scheme is unknown; this is the documented stand-in): the body
element carries `data-obf="b64-rot13"` and its text is base64 of the UTF-8 article text in
which the ASCII letters A-Z/a-z are rotated by 13 places (ROT13; letters with diacritics and
everything else unchanged), paragraphs separated by "\\n". We decode it (body_variant
'decoded'); when it does not decode to plausible text, the RSS item of the same URL is the
fallback (body_variant 'rss'); without RSS text the page is quarantined.
"""
from __future__ import annotations

import base64
import binascii
import re

from scrapers.templates.common import ParseError, first, paragraphs, parse_html
from scrapers.templates.portal import parse_with_selectors
from scrapers.text import clean

DEFAULTS = {
    "title": ["h1.article__title", "h1.detail-title"],
    "date": ["time.article__time", ".article__time", ".detail-time"],
    "lead": [".article__sapo", ".detail-sapo"],
    "body": [".article__body", ".detail-content"],
    "author": [".article__author", ".detail-author"],
    "remove": [".article__related", ".box-related", ".article__tags", ".social-share"],
    "stop_markers": ["Tin cùng chuyên mục", "Đọc thêm"],
    "obfuscated": "[data-obf]",
    "obfuscation_shift": 13,
    "article_url_pattern": r"(?:/[a-z0-9-]+/[a-z0-9-]+/\d+\.htm|/[a-z0-9-]+-\d+\.htm)$",
    "list_item": [".story", ".list-news .item"],
    "list_title": ["h3.story__title a", "a"],
    "list_lead": [".story__summary"],
    "list_date": ["time", ".story__time"],
}

_VI = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)


def shift_letters(text: str, shift: int) -> str:
    """Caesar-shift the ASCII letters by `shift` (other characters unchanged)."""
    low, up = "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    k = shift % 26
    return text.translate(str.maketrans(low + up, low[k:] + low[:k] + up[k:] + up[:k]))


def obfuscate(text: str, shift: int = 13) -> str:
    """The inverse of `deobfuscate` (used by the fixture builder and tests)."""
    return base64.b64encode(shift_letters(text, shift).encode("utf-8")).decode("ascii")


def deobfuscate(blob: str, shift: int = 13) -> list[str] | None:
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", blob), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    text = shift_letters(text, -shift)
    paras = [clean(p) for p in text.split("\n")]
    paras = [p for p in paras if p]
    joined = " ".join(paras)
    if len(joined) < 40 or joined.count(" ") < len(joined) / 20 or not _VI.search(joined):
        return None
    return paras


def rss_paragraphs(item: dict | None) -> list[str] | None:
    if not item:
        return None
    html = item.get("content") or item.get("description") or ""
    if not html.strip():
        return None
    paras = paragraphs(parse_html(f"<div>{html}</div>").body) if "<" in html else [clean(html)]
    return [p for p in paras if p] or None


def parse(html, url, conf, *, source, unit_id=None, rss_item=None):
    tree = parse_html(html)
    obf = first(tree, conf.get("obfuscated"))
    if obf is None:
        return parse_with_selectors(html, url, conf, source=source, template="baothanhhoa", unit_id=unit_id)
    blob = obf.text(deep=True) or ""
    paras = deobfuscate(blob, int(conf.get("obfuscation_shift", 13)))
    variant = "decoded"
    if paras is None:
        paras = rss_paragraphs(rss_item)
        variant = "rss"
        if paras is None:
            raise ParseError("obfuscated body not decodable and no RSS text",
                             f"blob of {len(blob)} characters (expected base64 of ROT{conf.get('obfuscation_shift', 13)} UTF-8 text)")
    return parse_with_selectors(html, url, conf, source=source, template="baothanhhoa", unit_id=unit_id,
                                body_override=paras, body_variant=variant)

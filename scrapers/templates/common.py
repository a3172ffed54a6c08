"""Shared machinery of the template parsers (selectolax/lexbor only).

A parser turns one article page into a `ParsedArticle` or raises `ParseError(reason)`:
the reason is what the quarantine records ("title selector matched nothing", "error page:
no article", ...). A template change therefore shows up as a quarantined page, never as an
empty article.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Iterable
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.text import clean

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class ParseError(Exception):
    """The page cannot give an article; `reason` is short and stable (quarantine key)."""

    def __init__(self, reason: str, detail: str | None = None):
        self.reason, self.detail = reason, detail
        super().__init__(reason if not detail else f"{reason}: {detail}")


BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote", "section",
         "article", "table", "tbody", "thead", "tr", "td", "th", "figure", "figcaption", "header",
         "footer", "br", "hr", "center", "pre", "dl", "dt", "dd", "aside", "nav", "main", "address"}
SKIP = {"script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "img",
        "video", "audio", "source", "input", "button", "select", "textarea", "form", "-comment"}

COMMON_REMOVE = ["script", "style", "noscript", "form", "iframe", "button", "input", "textarea"]
CAPTION_SELECTORS = ["figcaption", ".image-caption", ".caption", "td.caption", ".PhotoCMS_Caption",
                     ".fig-caption", "p.image_caption"]
COMMON_STOP = ["Tin liên quan", "Tin cùng chuyên mục", "Thăm dò ý kiến", "Không có dữ liệu", "noData",
               "CÓ THỂ BẠN QUAN TÂM", "Ý kiến bình luận", "Ý kiến bạn đọc", "Gửi bình luận",
               "TRANG THÔNG TIN ĐIỆN TỬ XÃ", "Bản quyền thuộc về", "Chịu trách nhiệm nội dung"]
ERROR_MARKERS = ["không tìm thấy trang", "trang bạn yêu cầu không tồn tại", "đã xảy ra lỗi",
                 "page not found", "sorry, something went wrong", "lỗi hệ thống", "không tồn tại",
                 # the portals' empty-content placeholder: consulted only when no title was found
                 "không có dữ liệu"]
_IMAGE_LINE = re.compile(r"^\S+\.(?:jpe?g|png|gif|webp|bmp)$", re.I)
_DROP_LINE = re.compile(r"^(?:\d{1,3}%|date|Địa chỉ:.*|Điện thoại:.*|Email:.*|In bài|Chia sẻ|Cỡ chữ.*)$", re.I)


# Deeper than this, a page is refused before parsing: lexbor's tree building is quadratic in the
# nesting depth of block elements (100k nested <div> take a minute), and no article nests so deep.
MAX_NESTING = 10_000
# Opening/closing tags that can nest. Void elements and elements that close an open sibling of
# the same kind (p, li, td, ...) never deepen the tree, so they are not counted. No `[^>]*`
# here: a tag name is enough, and it keeps the scan linear on "<div<div<div..." input.
_NESTING_TAG = re.compile(
    r"<(/?)(?=[a-zA-Z])(?!(?:p|li|dt|dd|option|optgroup|tr|td|th|h[1-6]|a|button|nobr|form|rb|rt|rp|tbody|thead|tfoot|"
    r"colgroup|caption|area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)(?![a-z0-9-]))"
    r"[a-z][a-z0-9-]*", re.I)


def check_nesting(html: str) -> None:
    """Raise ParseError when the markup nests deeper than MAX_NESTING (bounded, linear work)."""
    if html.count("<") <= MAX_NESTING:
        return
    depth = 0
    for m in _NESTING_TAG.finditer(html):
        if m.group(1):
            depth = depth - 1 if depth else 0
        else:
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError("markup too deeply nested", f"more than {MAX_NESTING} open elements")


def parse_html(html: str) -> LexborHTMLParser:
    check_nesting(html)
    return LexborHTMLParser(html)


def as_list(v) -> list[str]:
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def first(tree, selectors) -> LexborNode | None:
    for sel in as_list(selectors):
        n = tree.css_first(sel)
        if n is not None:
            return n
    return None


def node_text(node: LexborNode | None) -> str:
    if node is None:
        return ""
    return " ".join(paragraphs(node))


def paragraphs(node: LexborNode) -> list[str]:
    """Text of a node split at block boundaries (p, div, br, li, ...), each cleaned."""
    out: list[str] = []
    buf: list[str] = []

    def flush():
        t = clean("".join(buf))
        buf.clear()
        if t:
            out.append(t)

    def walk(n: LexborNode):
        for c in n.iter(include_text=True):
            tag = c.tag
            if tag == "-text":
                buf.append(c.text(deep=False) or "")
            elif tag in SKIP:
                continue
            elif tag in BLOCK:
                flush()
                walk(c)
                flush()
            else:
                walk(c)

    walk(node)
    flush()
    return out


def remove(node: LexborNode, selectors: Iterable[str]) -> None:
    for sel in selectors:
        for n in node.css(sel):
            n.decompose()


def take_captions(node: LexborNode, selectors=None) -> list[str]:
    caps: list[str] = []
    for sel in as_list(selectors) or CAPTION_SELECTORS:
        for n in node.css(sel):
            t = node_text(n)
            if t:
                caps.append(t)
            n.decompose()
    return caps


def cut_chrome(paras: list[str], stop_markers=None, drop_lines=True) -> list[str]:
    """Cut at the first trailing-chrome marker ('Tin liên quan', ...) and drop image file names
    and widget lines ('100%', 'date')."""
    stops = [s.casefold() for s in (as_list(stop_markers) or []) + COMMON_STOP]
    out = []
    for p in paras:
        low = p[:80].casefold()  # markers are short: a prefix is enough
        if any(low.startswith(s) for s in stops):
            break
        if drop_lines and (_IMAGE_LINE.match(p) or _DROP_LINE.match(p)):
            continue
        out.append(p)
    return out


_AUTHOR_PREFIX = re.compile(r"^(?:Tác giả|Bài và ảnh|Bài, ảnh|Bài|Tin, ảnh|Tin và ảnh|Nguồn)\s*:\s*", re.I)


def take_trailing_author(body: LexborNode) -> str | None:
    """The author line at the end of the body: 'Tác giả: X', or a short last paragraph that is
    right-aligned or entirely bold/italic ('Lê Hải, Trung tâm VHTT, TT và DL Thọ Xuân')."""
    # lexbor's css() includes the node itself: keep innermost blocks only, never the body
    last = None
    for n in reversed(body.css("p, div")):
        if n.mem_id == body.mem_id or not (n.text(deep=True) or "").strip():
            continue
        if len(n.css("p, div")) == 1:  # innermost block with text
            last = n
        break
    if last is None:
        return None
    text = node_text(last)
    if len(text) > 120:
        return None
    style = (last.attributes.get("style") or "").replace(" ", "").lower()
    align = (last.attributes.get("align") or "").lower()
    emph = last.css_first("strong, b, em, i")
    wholly_emph = emph is not None and node_text(emph) == text
    is_author = bool(_AUTHOR_PREFIX.match(text)) or "text-align:right" in style or align == "right" \
        or (wholly_emph and not text.endswith((".", ":", "!", "?")))
    if not is_author:
        return None
    last.decompose()
    return _AUTHOR_PREFIX.sub("", text).strip() or None


def author_from(tree, selectors) -> str | None:
    n = first(tree, selectors)
    if n is None:
        return None
    t = node_text(n)
    n.decompose()
    t = _AUTHOR_PREFIX.sub("", t).strip()
    return t or None


# -- dates ----------------------------------------------------------------------------------
_DT_PATTERNS = [
    # 15:50:13 18/12/2020  |  15:50 18/12/2020
    (re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:ngày\s*)?(\d{1,2})[/-](\d{1,2})[/-](\d{4})"), "hmsdmy"),
    # 14/03/2023 15:55(:00)
    (re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})\s*(?:-\s*|lúc\s*)?(\d{1,2}):(\d{2})(?::(\d{2}))?"), "dmyhms"),
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?"), "iso"),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), "dmy"),
]


def parse_vn_datetime(text: str | None) -> datetime | None:
    """A date/time as written on the pages, as an aware datetime in Asia/Ho_Chi_Minh.
    Returns None when nothing parses (never 'now')."""
    if not text:
        return None
    text = text.strip()
    iso = _parse_iso(text)
    if iso:
        return iso
    for rx, kind in _DT_PATTERNS:
        m = rx.search(text)
        if not m:
            continue
        g = m.groups()
        try:
            if kind == "hmsdmy":
                return datetime(int(g[5]), int(g[4]), int(g[3]), int(g[0]), int(g[1]), int(g[2] or 0), tzinfo=VN_TZ)
            if kind == "dmyhms":
                return datetime(int(g[2]), int(g[1]), int(g[0]), int(g[3]), int(g[4]), int(g[5] or 0), tzinfo=VN_TZ)
            if kind == "iso":
                return datetime(int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5] or 0), tzinfo=VN_TZ)
            return datetime(int(g[2]), int(g[1]), int(g[0]), tzinfo=VN_TZ)
        except ValueError:
            continue
    return None


def _parse_iso(text: str) -> datetime | None:
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt.astimezone(VN_TZ) if dt.tzinfo else dt.replace(tzinfo=VN_TZ)


_URL_DATES = [re.compile(r"/(\d{4})-(\d{1,2})-(\d{1,2})/"), re.compile(r"/(\d{4})/(\d{1,2})/(\d{1,2})/"),
              re.compile(r"[/-](\d{4})(\d{2})(\d{2})\d{0,6}(?=[-/.]|$)")]


def date_from_url(url: str) -> datetime | None:
    for rx in _URL_DATES:
        m = rx.search(url)
        if m:
            try:
                y, mo, d = (int(x) for x in m.groups())
                if 1990 <= y <= 2100:
                    return datetime(y, mo, d, tzinfo=VN_TZ)
            except ValueError:
                continue
    return None


# Sidebar widgets that say "Không có dữ liệu" on every page of a portal (an empty poll): not
# what the page is about, so not read for error markers.
WIDGET_SELECTORS = ["[class*=poll]", "[id*=poll]", "[class*=thamdo]", "[id*=thamdo]", "[class*=survey]"]


def page_error_marker(tree) -> str | None:
    title = tree.css_first("title")
    texts = [node_text(title)] if title is not None else []
    bodyn = tree.body
    if bodyn is not None:
        for selector in WIDGET_SELECTORS:
            for widget in bodyn.css(selector):
                widget.decompose()
        texts.append(bodyn.text(separator=" ")[:5000])
    low = clean(" ".join(texts)).casefold()
    for m in ERROR_MARKERS:
        if m in low:
            return m
    return None


def require_title(tree, selectors) -> str:
    node = first(tree, selectors)
    title = node_text(node) if node is not None else ""
    if not title:
        marker = page_error_marker(tree)
        if marker:
            raise ParseError("error page: no article", f"page says {marker!r}")
        raise ParseError("title selector matched nothing", ", ".join(as_list(selectors)))
    return title


def assemble(lead: str | None, paras: list[str]) -> tuple[str | None, list[str]]:
    """Lead as the first paragraph of the body (not repeated when the body already starts with it)."""
    if lead:
        if not paras or not (paras[0] == lead or paras[0].startswith(lead) or lead.startswith(paras[0])):
            paras = [lead] + paras
    elif paras:
        lead = paras[0]
    return lead, paras


def utc(dt: datetime | None) -> datetime | None:
    return dt.astimezone(timezone.utc) if dt else None


__all__ = ["ParseError", "VN_TZ", "parse_vn_datetime", "date_from_url", "paragraphs", "timedelta"]

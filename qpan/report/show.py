"""`qpan show URL`: the stored copy of an article, with the evidence of its facts marked.

An evidence link points to the article's page on its portal, which may move, die, or (for the
sample run) be served only while the run lasts. Every article and every HTTP response is kept
in `raw` (raw.articles, raw.pages), so the sentence a figure came from can always be read
here, in its article, whatever became of the page.

    qpan show https://thoxuan.thanhhoa.gov.vn/...            the text, every evidence marked
    qpan show URL --mention 42                              only that mention's evidence marked
    qpan show URL --page                                    the stored HTML response itself
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from qpan.core import db
from scrapers.text import terminal_safe


@dataclass
class Stored:
    article_id: int
    url: str
    source: str
    title: str
    body: str
    published_at: object
    removed_at: object
    mentions: list[tuple]  # (mention_id, indicator, value, comparator, unit_id, period, span_start, span_end)
    page: tuple | None  # (fetched_at, status, sha256, body bytes, content-type) of the latest stored response


def load(url: str, mention_id: int | None = None) -> Stored | None:
    """The stored article at `url` (exact, else ignoring a trailing slash or the scheme)."""
    with db.connect() as conn:  # raw is the loader's and the owner's: an operator's command
        row = conn.execute(
            "select article_id, url, source, title, body_text, published_at, removed_at from raw.articles "
            "where url = %s or rtrim(url, '/') = rtrim(%s, '/') "
            "or regexp_replace(url, '^https?://', '') = regexp_replace(%s, '^https?://', '') "
            "order by (url = %s) desc, article_id limit 1", (url, url, url, url)).fetchone()
        if row is None:
            return None
        mentions = conn.execute(
            "select mention_id, indicator, value, comparator, unit_id, period, span_start, span_end "
            "from raw.indicator_mentions where article_id = %s and (%s::bigint is null or mention_id = %s) "
            "order by span_start, mention_id", (row[0], mention_id, mention_id)).fetchall()
        page = conn.execute(
            "select fetched_at, status, sha256, body, headers ->> 'content-type' from raw.pages "
            "where url = %s order by fetched_at desc limit 1", (row[1],)).fetchone()
    return Stored(*row, mentions=mentions, page=page)


def marked_text(stored: Stored, start_mark: str, end_mark: str) -> str:
    """title + newline + body (the text the spans index) with each evidence span marked;
    overlapping spans are merged into one marked stretch. The page's text is untrusted: its
    control characters are shown escaped (the marks are added after)."""
    text = f"{stored.title}\n{stored.body}"
    spans = sorted((s, e) for *_, s, e in stored.mentions if 0 <= s < e <= len(text))
    merged: list[list[int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out, pos = [], 0
    for s, e in merged:
        out += [terminal_safe(text[pos:s]), start_mark, terminal_safe(text[s:e]), end_mark]
        pos = e
    out.append(terminal_safe(text[pos:]))
    return "".join(out)


def render(stored: Stored, color: bool) -> str:
    start, end = ("\033[1;7m", "\033[0m") if color else ("[[", "]]")
    lines = [f"url:        {terminal_safe(stored.url)}", f"source:     {stored.source}",
             f"published:  {stored.published_at}"]
    if stored.removed_at:
        lines.append(f"removed:    {stored.removed_at} (gone from its site; this is the stored copy)")
    if stored.page:
        fetched_at, status, sha256, _, _ = stored.page
        lines.append(f"stored:     HTTP {status} fetched {fetched_at} (raw.pages, sha256 {sha256[:16]}…)")
    lines.append(f"mentions:   {len(stored.mentions)} (evidence marked {start}like this{end})")
    for mention_id, indicator, value, comparator, unit_id, period, s, e in stored.mentions:
        shown = "" if comparator == "=" else comparator + " "
        lines.append(f"  #{mention_id}  {indicator} = {shown}{value}  unit {unit_id}  period {period}  [{s}:{e}]")
    lines += ["", marked_text(stored, start, end)]
    return "\n".join(lines) + "\n"


def _cmd_show(args: argparse.Namespace) -> int:
    stored = load(args.url, args.mention)
    if stored is None:
        print(f"qpan show: no stored article at {args.url}", file=sys.stderr)
        return 1
    if args.mention is not None and not stored.mentions:
        print(f"qpan show: no mention {args.mention} in the stored article at {stored.url} "
              f"(`qpan show {stored.url}` lists its mentions)", file=sys.stderr)
        return 1
    if args.page:
        if not stored.page or stored.page[3] is None:
            print(f"qpan show: no stored page for {stored.url}", file=sys.stderr)
            return 1
        html = bytes(stored.page[3]).decode("utf-8", errors="replace").replace("\r\n", "\n")
        sys.stdout.write(terminal_safe(html))
        return 0
    color = sys.stdout.isatty() if args.color == "auto" else args.color == "always"
    sys.stdout.write(render(stored, color))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("show", help="the stored copy of an article, with the evidence of its facts marked",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("url", help="the article's URL (as in fct_indicator_facts.evidence or fct_indicator_mentions)")
    p.add_argument("--mention", type=int, default=None, help="mark only this mention's evidence")
    p.add_argument("--page", action="store_true", help="print the stored HTML response instead of the text")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                   help="mark evidence with terminal colours (default: when printing to a terminal) or [[...]]")
    p.set_defaults(func=_cmd_show)

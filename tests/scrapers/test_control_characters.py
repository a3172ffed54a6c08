"""A page cannot drive the operator's terminal (docs/security.md; issue 28 point 5): control
characters (ESC of ANSI/OSC sequences, BEL, CSI...) are dropped when a page is parsed, and
`qpan show` prints what was stored before that (or by any other writer) with every C0/C1
control but newline and tab escaped."""
from __future__ import annotations

import re

from psycopg.types.json import Jsonb

from qpan.core import db
from qpan.cli import main
from scrapers.templates import parse_article

# OSC 0 (set the window title), CSI 2J (clear the screen), BEL, the 8-bit CSI, and an OSC 52
# clipboard write: what a hostile page would send
HOSTILE = "\x1b]0;owned\x07\x1b[2J\x9b31m\x1b]52;c;ZWNobyBwd25lZA==\x07"
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PAGE = f"""<html><body><div class="article-detail"><h1>Huyện X tổng kết{HOSTILE} quốc phòng</h1>
<div class="article-date">Đăng lúc: 10:00:00 05/12/2023 (GMT+7)</div>
<div class="article-content"><p>Năm nay huyện giao 42 công dân nhập ngũ.{HOSTILE}&#x1b;[5m&#7;</p>
<p>Lực lượng dân quân\x1ctự vệ được huấn luyện đầy đủ.</p></div></div></body></html>"""


def test_a_page_s_control_characters_are_dropped_when_it_is_parsed():
    art = parse_article("thanhhoa_portal", PAGE, "http://x.thanhhoa.gov.vn/portal/Pages/2023-12-5/a-b-c.aspx",
                        source="s")
    for text in (art.title, art.body_text, art.lead):
        assert not UNSAFE.search(text.replace("\n", "")), repr(text)
    assert art.title == "Huyện X tổng kết]0;owned[2J31m]52;c;ZWNobyBwd25lZA== quốc phòng"
    assert "dân quân tự vệ" in art.body_text  # a control that separates words still does


def test_qpan_show_escapes_control_characters_of_a_stored_article(warehouse_url, capsys):
    url = "https://hostile.example.test/bai-viet.html"
    with db.connect(autocommit=True) as conn:
        conn.execute("insert into raw.articles (source, url, title, body_text, content_hash) "
                     "values ('hostile', %s, %s, %s, 'h')", (url, f"Tiêu đề{HOSTILE}", f"Nội dung\tbài\n{HOSTILE}"))
        conn.execute("insert into raw.pages (source, url, status, headers, body, sha256, fetched_at, last_seen_at) "
                     "values ('hostile', %s, 200, %s, %s, 'sha', now(), now())",
                     (url, Jsonb({"content-type": "text/html"}), f"<p>{HOSTILE}</p>\r\n".encode()))
    for argv in (["show", url, "--color", "never"], ["show", url, "--page"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert not UNSAFE.search(out), repr(out)
        assert r"\x1b]0;owned\x07" in out and r"\x9b31m" in out  # shown, not obeyed
    assert main(["show", url, "--color", "always"]) == 0
    out = capsys.readouterr().out
    assert not UNSAFE.search(out.replace("\x1b[1;7m", "").replace("\x1b[0m", ""))  # only the marks' own
    assert "Nội dung\tbài\n" in out

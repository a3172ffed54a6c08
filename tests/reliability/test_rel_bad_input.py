"""Bad input: the HTML parsers of every template, the page decoder, the RSS reader, the date,
number, period and gazetteer parsers never raise anything but the project's own ParseError on
hostile input, and never hang (bounded time on pathological markup: 10 MB of one tag, 100k
nested elements). Hostile article text (SQL, HTML/JS, control characters) is stored verbatim
and never executed. Plain `st.text()` fuzzing of the number/period/gazetteer parsers is in
tests/extract; here they get structured and pathological input."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from scrapers.crawl import parse_list_page, parse_rss
from scrapers.fetch import decode_body
from scrapers.templates import MODULES, ParseError, parse_article, template_config
from scrapers.templates.common import date_from_url, parse_vn_datetime

TEMPLATES = sorted(MODULES)
BOUND = 20.0  # seconds: generous for a loaded 2-core machine

# Markup made of the pieces the templates look for (their selectors' tags and classes), so the
# fuzzer reaches the extraction code and not only "title selector matched nothing".
TAGS = ["div", "p", "h1", "span", "a", "article", "section", "table", "td", "li", "ul", "br", "script",
        "figure", "figcaption", "strong", "em", "time", "meta", "title", "b", "font", "iframe", "svg"]
CLASSES = ["article-detail", "news-detail", "article-title", "article-content", "journal-content-article",
           "article__title", "article__body", "detail-title", "detail-content", "post-title", "post-content",
           "post-detail", "date", "author", "caption", "news-date", "content", "sapo", "article__sapo",
           "image-caption", "portal-name", "time", "", "x"]
WORDS = st.sampled_from(["Quốc phòng", "an ninh", "năm 2023", "226 công dân", "đạt 100%", "Tin liên quan",
                         "15:50:13 18/12/2020", "14/03/2023 15:55", "Không tìm thấy trang", "Tác giả: X",
                         "'); drop table raw.articles; --", "<script>alert(1)</script>", "\x00\x07\x1b",
                         "&amp;&lt;&#0;&#xD800;&#x110000;", "\ufeff\u200b", "huyện Thọ Xuân", "]]>", "<!--"])


@st.composite
def markup(draw, depth=0):
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 3))
        if kind == 0 or depth > 4:
            parts.append(draw(st.one_of(WORDS, st.text(max_size=30))))
        else:
            tag = draw(st.sampled_from(TAGS))
            cls = draw(st.sampled_from(CLASSES))
            close = draw(st.booleans())
            inner = draw(markup(depth=depth + 1))
            parts.append(f'<{tag} class="{cls}">{inner}' + (f"</{tag}>" if close else ""))
    return "".join(parts)


@st.composite
def pages(draw):
    head = draw(st.sampled_from(["", "<!doctype html>", '<meta charset="utf-8">', "<?xml version='1.0'?>",
                                 '<meta name="qpan:synthetic" content="true">']))
    return f"<html><head>{head}<title>{draw(WORDS)}</title></head><body>{draw(markup())}</body></html>"


def _parse_or_parse_error(template: str, html: str, url: str = "http://x/2023/12/20/bai-viet-dai-dien-123.html"):
    try:
        art = parse_article(template, html, url, source="fuzz", rss_item=None)
    except ParseError as exc:
        assert exc.reason and isinstance(exc.reason, str)
        return None
    assert art.title and isinstance(art.body_text, str)
    return art


@pytest.mark.parametrize("template", TEMPLATES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=pages())
def test_templates_raise_only_parse_error_on_random_markup(template, html):
    _parse_or_parse_error(template, html)


@settings(max_examples=40, deadline=None)
@given(html=pages(), item=st.fixed_dictionaries({"description": st.one_of(st.none(), st.text(max_size=200), pages())}))
def test_obfuscated_template_with_random_rss_fallback(html, item):
    try:
        parse_article("baothanhhoa", html, "http://x/a-1.htm", source="fuzz", rss_item=item)
    except ParseError:
        pass


@settings(max_examples=60, deadline=None)
@given(html=pages())
def test_list_pages_never_raise(html):
    for template in TEMPLATES:
        parse_list_page(html, "http://x/list", template_config(template))


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=2000), ctype=st.sampled_from([None, "text/html; charset=utf-8", "text/html; charset=windows-1258",
                                                              "text/html; charset=bogus-42", "application/rss+xml"]))
def test_decode_body_never_raises(body, ctype):
    assert isinstance(decode_body(body, ctype), str)


@settings(max_examples=100, deadline=None)
@given(text=st.one_of(st.text(max_size=80), st.from_regex(r"\d{1,3}[:/ -]\d{1,3}[/-]\d{1,5}( \d{1,2}:\d{1,2}(:\d{1,2})?)?")),
       url=st.one_of(st.text(max_size=60), st.from_regex(r"http://x/\d{4}[-/]\d{1,2}[-/]\d{1,2}/a\d{0,8}\.html")))
def test_page_dates_never_raise(text, url):
    dt = parse_vn_datetime(text)
    assert dt is None or dt.tzinfo is not None
    du = date_from_url(url)
    assert du is None or 1990 <= du.year <= 2100


PATHOLOGICAL = {
    "100k nested div": "<div>" * 100_000 + "<h1 class='post-title'>x</h1>" + "</div>" * 100_000,
    "10 MB of <div>": "<div>" * 2_000_000,
    "10 MB of <p>": "<html><body>" + "<p>" * 3_300_000,
    "10 MB of <ul>": "<ul>" * 2_500_000,
    "10 MB of '<'": "<" * 10_000_000,
    "10 MB unterminated tags": "<div" * 2_500_000,
    "deep tables": "<table><tr><td>" * 200_000,
    "1500 nested divs in the body": ("<html><body><div class='article-detail'><h1>Tiêu đề bài</h1>"
                                     "<div class='article-content'>" + "<div>" * 1500 + "<p>Nội dung.</p>"
                                     + "</div>" * 1500 + "</div></div></body></html>"),
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_markup_is_bounded(name):
    html = PATHOLOGICAL[name]
    for template in TEMPLATES:
        t0 = time.monotonic()
        _parse_or_parse_error(template, html)
        assert time.monotonic() - t0 < BOUND, (name, template)


def test_deep_nesting_is_refused_with_its_reason():
    for template in TEMPLATES:
        with pytest.raises(ParseError) as e:
            parse_article(template, PATHOLOGICAL["100k nested div"], "http://x/a", source="s")
        assert e.value.reason == "markup too deeply nested"
        with pytest.raises(ParseError) as e:  # deep enough to exhaust recursion, not the pre-check
            parse_article(template, PATHOLOGICAL["1500 nested divs in the body"], "http://x/a", source="s")
        assert e.value.reason in ("markup too deeply nested", "title selector matched nothing")


def test_extraction_parsers_are_bounded_on_pathological_text():
    from qpan.extract import extract_article
    from qpan.extract.gazetteer import default_gazetteer
    from qpan.extract.normalize import normalize
    from qpan.extract.numbers import find_numbers, parse_number
    from qpan.extract.periods import find_span, parse_publication_date

    gaz = default_gazetteer()
    texts = ["1." * 500_000, "9" * 1_000_000, "năm " * 250_000, "huyện " * 200_000 + "Thọ Xuân",
             "Thanh Hóa " * 100_000, "2023-" * 200_000, "12/12/" * 150_000, "hai mươi " * 100_000,
             "(" * 500_000, "đạt 100% chỉ tiêu, " * 50_000]
    for text in texts:
        t0 = time.monotonic()
        n = normalize(text)
        find_numbers(n.lower)
        parse_number(text[:10_000])
        parse_publication_date(n.lower)
        find_span(n.lower)
        gaz.find_mentions(n.text, n.lower)
        assert time.monotonic() - t0 < BOUND, text[:20]
    # 20k sentences (~1 MB) with a figure each.
    t0 = time.monotonic()
    assert isinstance(extract_article("Tổng kết", "Huyện đạt 100% chỉ tiêu, 226 công dân nhập ngũ. " * 20_000), list)
    assert time.monotonic() - t0 < BOUND
    # Thousands of figures in ONE sentence (a table dump, no capital after the full stops): only
    # the first figures of a sentence are read, so the work stays bounded (it was quadratic).
    t0 = time.monotonic()
    dump = "Huyện Thọ Xuân có " + ", ".join(f"{i} tập thể. {i} cá nhân" for i in range(3000)) + "."
    assert isinstance(extract_article("Tổng kết", dump), list)
    assert time.monotonic() - t0 < BOUND


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<rss version="2.0"><channel><item><title>&lol9;</title><link>http://127.0.0.4/a-1.htm</link></item></channel></rss>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY net SYSTEM "http://127.0.0.1:9/leak">]>
<rss version="2.0"><channel><item><title>&xxe;&net;</title><link>http://127.0.0.4/a-2.htm</link></item></channel></rss>"""


@pytest.mark.parametrize("feed", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_rss_entities_are_never_expanded(feed):
    t0 = time.monotonic()
    with pytest.raises(Exception) as e:
        parse_rss(feed, "http://127.0.0.4/rss/thoi-su.xml")
    assert time.monotonic() - t0 < 2
    assert type(e.value).__module__.startswith("defusedxml"), type(e.value)  # refused, not expanded
    assert "root:" not in str(e.value) and "lollol" not in str(e.value)

"""Thanh Hóa government portals (thanhhoa.gov.vn and the district subdomains).

Two layouts, one parser driven by the selectors below:
- old SharePoint: /portal/Pages/YYYY-M-D/<Slug>-<id>.aspx, <h1> in .article-detail, body in
  .article-content, "Đăng lúc: 15:50:13 18/12/2020 (GMT+7)";
- newer (from ~2022): /web/trang-chu/tin-tuc-su-kien/<category>/<slug>.html, .news-detail h1,
  body in .journal-content-article, "Đăng lúc: 23/11/2022 (GMT+7)" (date only).
"""
from scrapers.templates.portal import parse_with_selectors

DEFAULTS = {
    "title": [".article-detail h1", ".news-detail h1", "h1.article-title"],
    "date": [".article-date", ".news-detail .date", ".date-post"],
    "date_regex": r"Đăng lúc:\s*((?:\d{1,2}:\d{2}(?::\d{2})?\s+)?\d{1,2}/\d{1,2}/\d{4})",
    "lead": [".article-sapo", ".article-summary"],
    "body": [".article-content", ".journal-content-article"],
    "author": [".article-author"],
    "remove": [".related-news", ".tin-lien-quan", ".poll", ".font-size", ".share-tools"],
    "stop_markers": [],
    "article_url_pattern": r"(?:/portal/Pages/\d{4}-\d{1,2}-\d{1,2}/[^/?#]+\.aspx|/web/trang-chu/tin-tuc-su-kien/[^/?#]+/[^/?#]+\.html)$",
    "list_item": [".news-list .news-item"],
    "list_title": ["a.news-title", "h3 a", "a"],
    "list_lead": [".news-summary"],
    "list_date": [".news-date"],
}


def parse(html, url, conf, *, source, unit_id=None, rss_item=None):
    return parse_with_selectors(html, url, conf, source=source, template="thanhhoa_portal", unit_id=unit_id)

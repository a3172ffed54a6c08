"""dangcongsan.vn (national): h1.post-title, .lbPublishedDate "Thứ ba, 14/03/2023 15:55",
.post-summary (the "(ĐCSVN) –" lead, kept) then .post-content; author .post-author/div.tacgia;
trailing "CÓ THỂ BẠN QUAN TÂM", "Ý kiến bình luận" and the comment form are cut."""
from scrapers.templates.portal import parse_with_selectors

DEFAULTS = {
    "title": ["h1.post-title", ".post-title h1"],
    "date": [".lbPublishedDate"],
    "lead": [".post-summary h2", ".post-summary"],
    "body": [".post-content", "div.noidung"],
    "author": [".post-author", "div.tacgia"],
    "remove": [".box-related", ".related-news", ".box-comment", ".tags", ".social-share"],
    "stop_markers": ["CÓ THỂ BẠN QUAN TÂM", "Ý kiến bình luận", "Họ và tên"],
    "article_url_pattern": r"/[a-z0-9-]+/[a-z0-9-]+-\d+\.html$",
    "list_item": [".ctrangc3 .item", ".ctrangc3 li"],
    "list_title": ["a.title", "h3 a", "a"],
    "list_lead": [".sapo", ".summary"],
    "list_date": [".date"],
}


def parse(html, url, conf, *, source, unit_id=None, rss_item=None):
    return parse_with_selectors(html, url, conf, source=source, template="dangcongsan", unit_id=unit_id)

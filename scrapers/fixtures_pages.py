"""The pages of the sample portal site, rendered in each portal's template with its chrome
(portal name, slogan, breadcrumb, "Tin liên quan", polls, comment forms, footers) for the parsers
to strip: Thọ Xuân / Ngọc Lặc (thanhhoa_portal, new and old layouts), Báo Thanh Hóa (clear and
obfuscated bodies, RSS), dangcongsan, Hướng Hóa (generic). Used by `scrapers.fixtures_build` (the
committed fixtures), the benchmark corpus (bench/corpus.py) and the tests."""
from __future__ import annotations

import html

from scrapers.templates.baothanhhoa import obfuscate

def e(s: str) -> str:
    return html.escape(s, quote=True)


def ps(paras, lead_first_bold=False) -> str:
    out = []
    for i, p in enumerate(paras):
        t = e(p)
        out.append(f"<p><strong>{t}</strong></p>" if (i == 0 and lead_first_bold) else f"<p>{t}</p>")
    return "\n".join(out)


FIG = ('<figure class="image"><img src="/portal/Photos/{ym}/anh-{n}.jpg" alt="">'
       '<figcaption>{cap}</figcaption></figure>')


# -- thanhhoa_portal -----------------------------------------------------------------------
def portal_chrome(site_name: str, slogan: str, inner: str, title: str, offsite=True) -> str:
    links = ('<a href="https://www.facebook.com/congthongtin.thanhhoa">Facebook</a> '
             '<a href="http://baomoi.com/tin-moi.epi">Báo mới</a> '
             '<a href="https://thanhhoa.gov.vn/">Cổng TTĐT tỉnh</a>') if offsite else ""
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{e(title)} - {e(site_name)}</title></head>
<body>
<div class="header"><div class="portal-name">{e(site_name)}</div>
<marquee class="slogan">{e(slogan)}</marquee><div class="date-widget">date</div></div>
<ul class="menu"><li><a href="/">Trang chủ</a></li><li><a href="/portal/KenhTin/Tin-tuc-su-kien.aspx">Tin tức - Sự kiện</a></li>
<li><a href="/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh.html">Quốc phòng - An ninh</a></li></ul>
{inner}
<div class="poll"><h3>Thăm dò ý kiến</h3><div>noData</div><div>Không có dữ liệu</div></div>
<div class="footer">{links}<p>Cơ quan chủ quản: UBND huyện. Địa chỉ: Khu 1, thị trấn.</p>
<p>Chịu trách nhiệm nội dung: Chánh Văn phòng HĐND-UBND huyện</p></div>
</body></html>
"""


TX_NAME = "Cổng thông tin điện tử huyện Thọ Xuân - Thanh Hóa"
TX_SLOGAN = ("THỌ XUÂN PHẤN ĐẤU ĐẾN NĂM 2025 TRỞ THÀNH MỘT TRONG NHỮNG HUYỆN DẪN ĐẦU CỦA TỈNH VỀ PHÁT TRIỂN "
             "KINH TẾ - XÃ HỘI, ĐẾN NĂM 2030 TRỞ THÀNH THỊ XÃ THỌ XUÂN.")
NL_NAME = "Cổng thông tin điện tử huyện Ngọc Lặc - Thanh Hóa"
NL_SLOGAN = "NGỌC LẶC - ĐOÀN KẾT, ĐỔI MỚI, PHÁT TRIỂN BỀN VỮNG"


def portal_new_article(title, date_line, category, paras, author, caption, ym="2020-12", changed=False) -> str:
    author_html = f'<p style="text-align: right;"><strong>{e(author)}</strong></p>' if author else ""
    h = f'<div class="tieu-de">{e(title)}</div>' if changed else f"<h1 class=\"title\">{e(title)}</h1>"
    inner = f"""<div class="portlet-body"><div class="news-detail">
<div class="breadcrumb"><a href="/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh.html">{e(category)}</a></div>
{h}
<div class="date">Đăng lúc: {e(date_line)} (GMT+7)</div>
<div class="font-size">100%</div>
<div class="journal-content-article">
{ps(paras[:1], True)}
<p>&nbsp;</p><p> </p>
<p>av.jpg</p>
{FIG.format(ym=ym, n=1, cap=caption)}
{ps(paras[1:])}
{author_html}
</div>
<div class="related-news"><h3>Tin liên quan</h3><ul><li><a href="/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh/tho-xuan-ra-quan-huan-luyen-dan-quan-tu-ve-nam-2022.html">Thọ Xuân ra quân huấn luyện</a></li></ul></div>
</div></div>"""
    return portal_chrome(TX_NAME, TX_SLOGAN, inner, title)


def portal_old_article(title, date_line, category, lead, paras, author, caption, ym="2023-12", site=(NL_NAME, NL_SLOGAN)) -> str:
    inner = f"""<div class="breadcrumb"><a href="/portal/KenhTin/Tin-tuc-su-kien.aspx">{e(category)}</a></div>
<div class="article-detail">
<h1>{e(title)}</h1>
<div class="article-date">Đăng lúc: {e(date_line)} (GMT+7)</div>
<div class="article-sapo"><p>{e(lead)}</p></div>
<div class="article-content">
{FIG.format(ym=ym, n=1, cap=caption)}
{ps(paras)}
<div class="article-author">Tác giả: {e(author)}</div>
<div class="box-lienquan"><h3>Tin liên quan</h3><ul><li><a href="/portal/Pages/2023-2-14/Ngoc-Lac-giao-quan-nam-2023-a11b22.aspx">Ngọc Lặc giao quân năm 2023</a></li></ul></div>
</div>
<a class="print" href="/portal/pages/print.aspx?p=e5f1c2">In bài</a>
</div>"""
    return portal_chrome(site[0], site[1], inner, title)


def portal_list(items, page_links, layout="old", site=(NL_NAME, NL_SLOGAN)) -> str:
    rows = "\n".join(
        f'<div class="news-item"><a class="news-title" href="{e(u)}">{e(t)}</a>'
        f'<div class="news-date">{e(d)}</div><div class="news-summary">{e(s)}</div></div>'
        for u, t, d, s in items)
    pager = " ".join(f'<a href="{e(u)}">{n}</a>' for n, u in page_links)
    inner = f'<div class="news-list">\n{rows}\n</div><div class="pager">{pager}</div>'
    return portal_chrome(site[0], site[1], inner, "Tin tức - Sự kiện")


def portal_error_page(site=(NL_NAME, NL_SLOGAN)) -> str:
    inner = ('<div class="error-box"><p>Trang bạn yêu cầu không tồn tại hoặc đã bị xóa.</p>'
             '<p><a href="/">Quay lại trang chủ</a></p></div>')
    return portal_chrome(site[0], site[1], inner, "Lỗi")


# -- baothanhhoa ---------------------------------------------------------------------------
def btt_chrome(inner: str, title: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{e(title)} | Báo Thanh Hóa</title></head>
<body>
<header class="site-header"><a class="logo" href="/">Báo Thanh Hóa</a>
<span class="date-widget">date 2023-01</span>
<nav><a href="/thoi-su.htm">Thời sự</a> <a href="/quoc-phong-an-ninh.htm">Quốc phòng - An ninh</a>
<a href="/rss/thoi-su.xml">RSS</a> <a href="https://www.youtube.com/@baothanhhoa">Video</a></nav></header>
{inner}
<footer class="site-footer"><p>Cơ quan của Đảng bộ Đảng Cộng sản Việt Nam tỉnh Thanh Hóa, tiếng nói của Đảng bộ, chính quyền và Nhân dân Thanh Hóa.</p>
<p>Tổng Biên tập: (chrome) - Địa chỉ: Số 6 Nguyễn Trãi, TP Thanh Hóa</p></footer>
</body></html>
"""


def btt_article(title, published, lead, paras, caption, *, obfuscated=False, blob=None, author=None) -> str:
    if obfuscated:
        body = f'<div class="article__body" data-obf="b64-rot13">{blob or obfuscate(chr(10).join(paras))}</div>'
    else:
        body = f"""<div class="article__body">
{ps(paras[1:2])}
{FIG.format(ym=published[:7], n=1, cap=caption)}
{ps(paras[2:])}
<div class="article__related"><h3>Tin cùng chuyên mục</h3><a href="/thoi-su.htm">Thời sự</a></div>
</div>"""
    dt = published
    shown = f"{dt[8:10]}/{dt[5:7]}/{dt[:4]} {dt[11:16]}"
    auth = f'<div class="article__author">{e(author)}</div>' if author else ""
    inner = f"""<div class="breadcrumb"><a href="/thoi-su.htm">Thời sự</a> <a href="/quoc-phong-an-ninh.htm">Quốc phòng - An ninh</a></div>
<article class="article">
<h1 class="article__title">{e(title)}</h1>
<div class="article__meta"><time class="article__time" datetime="{dt}">{shown}</time></div>
<div class="article__sapo">{e(lead)}</div>
{body}
{auth}
</article>
<div class="box-related"><h3>Tin liên quan</h3><a href="/thoi-su.htm">Xem thêm</a></div>"""
    return btt_chrome(inner, title)


def btt_list(items, next_url=None) -> str:
    rows = "\n".join(
        f'<div class="story"><h3 class="story__title"><a href="{e(u)}">{e(t)}</a></h3>'
        f'<time datetime="{d}">{d[:10]}</time><p class="story__summary">{e(s)}</p></div>'
        for u, t, d, s in items)
    nxt = f'<a class="next" href="{e(next_url)}">Trang sau</a>' if next_url else ""
    return btt_chrome(f'<div class="list-news">{rows}</div>{nxt}', "Thời sự")


def rss(items) -> str:
    import email.utils
    from datetime import datetime

    out = []
    for it in items:
        pub = email.utils.format_datetime(datetime.fromisoformat(it["published"]))
        out.append(f"""<item><title>{e(it['title'])}</title><link>{e(it['link'])}</link>
<description><![CDATA[{it['description']}]]></description><pubDate>{pub}</pubDate><guid>{e(it['link'])}</guid></item>""")
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Báo Thanh Hóa - Thời sự</title>'
            '<link>/thoi-su.htm</link><description>Thời sự</description>\n' + "\n".join(out) + "\n</channel></rss>\n")


# -- dangcongsan ---------------------------------------------------------------------------
def dcs_chrome(inner, title) -> str:
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>{e(title)}</title></head>
<body><div class="header"><a href="/" class="logo">ĐẢNG CỘNG SẢN VIỆT NAM</a>
<form action="/page/search"><input name="keyword"></form>
<a href="https://twitter.com/dangcongsan">X</a></div>
{inner}
<div class="footer">Báo điện tử Đảng Cộng sản Việt Nam. Cơ quan chủ quản: Ban Tuyên giáo Trung ương.</div>
</body></html>"""


def dcs_article(title, date_line, lead, paras, author, caption) -> str:
    inner = f"""<div class="post-detail">
<h1 class="post-title">{e(title)}</h1>
<span class="lbPublishedDate">{e(date_line)}</span>
<div class="post-summary"><h2>{e(lead)}</h2></div>
<div class="post-content">
{ps(paras[1:2])}
{FIG.format(ym="2023-03", n=1, cap=caption)}
{ps(paras[2:])}
<div class="post-author">{e(author)}</div>
<div class="box-quantam"><h3>CÓ THỂ BẠN QUAN TÂM</h3><a href="/xa-hoi/hoi-nghi-bao-cao-vien-trung-uong-thang-3-633001.html">Hội nghị Báo cáo viên</a></div>
</div>
<div class="box-comment"><h3>Ý kiến bình luận</h3><form><label>Họ và tên</label><input><label>Email</label><input>
<label>Lời bình</label><textarea></textarea><span>/</span><button>Xác thực</button></form></div>
</div>"""
    return dcs_chrome(inner, title)


def dcs_list(items, next_url=None) -> str:
    rows = "\n".join(
        f'<div class="item"><a class="title" href="{e(u)}">{e(t)}</a><span class="date">{e(d)}</span>'
        f'<p class="sapo">{e(s)}</p></div>' for u, t, d, s in items)
    nxt = f'<div class="paging"><a href="{e(next_url)}">2</a></div>' if next_url else ""
    return dcs_chrome(f'<div class="ctrangc3">{rows}</div>{nxt}', "Xây dựng Đảng")


# -- generic (Liferay portal of another province) -------------------------------------------
HH_TEXT = [
    "Ngày 11/01/2023, Ban Chỉ huy Quân sự huyện Hướng Hóa tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm 2022, triển khai nhiệm vụ năm 2023.",
    "Năm 2022, lực lượng vũ trang huyện đã hoàn thành tốt công tác tuyển quân, giao quân đạt 100% chỉ tiêu; tổ chức huấn luyện dân quân tự vệ đúng kế hoạch.",
    "Công tác phối hợp giữa lực lượng quân sự, công an và biên phòng được duy trì chặt chẽ, giữ vững an ninh chính trị, trật tự an toàn xã hội trên địa bàn.",
    "Dịp này, Chủ tịch UBND huyện tặng Giấy khen cho các tập thể và cá nhân có thành tích xuất sắc.",
]


def hh_article() -> str:
    body = "\n".join(f"<p>{e(p)}</p>" for p in HH_TEXT)
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">
<title>Hướng Hóa tổng kết công tác quốc phòng - an ninh năm 2022</title>
<meta property="og:title" content="Hướng Hóa tổng kết công tác quốc phòng - an ninh năm 2022">
<meta name="date" content="2023-01-11"></head><body>
<div class="header">Cổng thông tin điện tử huyện Hướng Hóa</div>
<div class="journal-content-article">
<div class="category">Phóng sự - Huyện Hướng Hóa</div>
<h1>Hướng Hóa tổng kết công tác quốc phòng - an ninh năm 2022</h1>
<div class="meta">11/01/2023 854 0</div>
{body}
</div>
<div class="footer">Bản quyền thuộc về UBND huyện Hướng Hóa</div></body></html>"""


def hh_list() -> str:
    return """<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Phóng sự</title></head><body>
<ul class="list"><li><a href="/-/view-article/huong-hoa-tong-ket-cong-tac-quoc-phong-an-ninh-nam-2022">Hướng Hóa tổng kết công tác quốc phòng - an ninh năm 2022</a></li>
<li><a href="/-/view-article/huong-hoa-khai-mac-le-hoi-van-hoa-dan-toc-van-kieu">Hướng Hóa khai mạc lễ hội văn hóa dân tộc Vân Kiều</a></li></ul></body></html>"""

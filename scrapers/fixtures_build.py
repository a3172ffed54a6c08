"""Build the sample portal site (fixtures/portal/) from the five seed articles.

    python -m scrapers.fixtures_build [--seeds /work/shared/seeds] [--out fixtures/portal]

Each seed is rendered in its portal's template, with the chrome described in
/work/shared/domain/sources.md around it (portal name, slogan, breadcrumb, "Tin liên quan",
"Thăm dò ý kiến", comment forms, footers) so the parsers must strip it:

- 001 Thọ Xuân      -> thanhhoa_portal, newer layout (/web/trang-chu/tin-tuc-su-kien/...)
- 002 Ngọc Lặc      -> thanhhoa_portal, old SharePoint layout (/portal/Pages/2023-12-20/...)
- 003 dangcongsan   -> dangcongsan
- 000 Báo Thanh Hóa -> baothanhhoa, clear text
- 004 Báo Thanh Hóa -> baothanhhoa, obfuscated body (base64 of ROT13 letters), RSS available

Every seed paragraph becomes a <p> of the article body (so the parsed body_text carries the
seed text verbatim); the one <figure> per page has a short invented caption (synthetic, for
the caption/body separation). Around the seeds: a few short synthetic articles (marked
"synthetic" in the manifest): non-QP-AN items that relevance must skip ("báo chí" is not
"bão"), a 200 error page, a page whose template changed (no <h1>), an obfuscated page whose
blob does not decode (RSS fallback), and offsite links. The output is deterministic.

Written for the sample (not seeds, not synthetic: they land and reach the marts): three
articles of Báo Thanh Hóa's "Quốc phòng - An ninh" section (/quoc-phong-an-ninh.htm), on
both sides of the 1 July 2025 reform: huyện Ngọc Lặc's recruits of 2024, and those of 2026 of
two new communes that lie wholly inside the former district (xã Ngọc Lặc, xã Minh Sơn), so the
sample has post-reform commune rows and a former district to compare across the reform.

Layout: fixtures/portal/manifest.json maps each site to its loopback host and each URL path
(with query) to a file under fixtures/portal/<site>/.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from scrapers.fixtures_pages import (
    NL_NAME, NL_SLOGAN, TX_NAME, TX_SLOGAN, btt_article, btt_list, dcs_article, dcs_list, e, hh_article, hh_list,
    portal_chrome, portal_error_page, portal_list, portal_new_article, portal_old_article, rss,
)

# the page renderers live in scrapers/fixtures_pages.py; they are still read from here (the tests,
# bench/corpus.py)
__all__ = ["NL_NAME", "NL_SLOGAN", "portal_chrome", "portal_error_page", "portal_list", "portal_new_article",
           "portal_old_article", "btt_article", "dcs_article", "build", "main"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "fixtures" / "portal"
DEFAULT_SEEDS = Path("/work/shared/seeds")

SITES = {  # site -> loopback host (each site is its own "host": per-host politeness is real)
    "thoxuan": "127.0.0.2",
    "ngoclac": "127.0.0.3",
    "baothanhhoa": "127.0.0.4",
    "dangcongsan": "127.0.0.5",
    "huonghoa": "127.0.0.6",
}
LAST_MODIFIED = "Wed, 20 Dec 2023 09:00:00 GMT"

# seed file prefix -> (site, url path, title line, body lines [a, b] inclusive, author, published, extra)
SEEDS = {
    "000": dict(site="baothanhhoa",
                path="/quoc-phong-an-ninh/tp-thanh-hoa-phat-huy-suc-manh-tong-hop-thuc-hien-nhiem-vu-qp-an/196123.htm",
                title_line=0, body=(2, None), author=None, published="2023-12-05T11:05:00+07:00", obfuscated=False),
    "001": dict(site="thoxuan",
                path="/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh/hoi-nghi-tong-ket-cong-tac-quoc-phong-an-ninh-nam-2020.html",
                title_line=6, body=(10, 40), author_line=42, published="15:50:13 18/12/2020"),
    "002": dict(site="ngoclac",
                path="/portal/Pages/2023-12-20/Ngoc-Lac-tong-ket-cong-tac-Quoc-phong-An-ninh-nam-2023-e5f1c2.aspx",
                title_line=0, body=(2, 16), author_line=18, published="16:20:05 20/12/2023"),
    "003": dict(site="dangcongsan",
                path="/xay-dung-dang/nang-cao-hieu-qua-cong-tac-lanh-dao-cua-dang-voi-phong-trao-toan-dan-bao-ve-antq-633117.html",
                title_line=0, body=(3, 26), author_line=28, published="Thứ ba, 14/03/2023 15:55"),
    "004": dict(site="baothanhhoa",
                path="/tp-thanh-hoa-tong-ket-cong-tac-pho-thon-va-trien-khai-ke-hoach-bao-dam-an-ninh-trat-tu-174321.htm",
                title_line=0, body=(2, None), author=None, published="2023-01-06T16:20:00+07:00", obfuscated=True),
}


# Articles written for the sample (own text), Báo Thanh Hóa's QP-AN section: (path, title,
# published, paragraphs). Recruits of huyện Ngọc Lặc in 2024, and of two of the six new
# communes wholly inside it in 2026 (the other four do not report: the comparison is incomplete).
REFORM_ARTICLES = [
    ("/quoc-phong-an-ninh/ngoc-lac-215-tan-binh-len-duong-nhap-ngu-nam-2024-201144.htm",
     "Ngọc Lặc: 215 tân binh lên đường nhập ngũ năm 2024", "2024-02-22T10:30:00+07:00", [
         "Sáng 22/2, huyện Ngọc Lặc tổ chức lễ giao nhận quân năm 2024 tại sân vận động trung tâm huyện.",
         "Năm 2024, huyện Ngọc Lặc giao 215 công dân nhập ngũ, đạt 100% chỉ tiêu tỉnh giao; chất lượng tân binh "
         "được nâng lên, 38 thanh niên có trình độ cao đẳng, đại học.",
         "Ban Chỉ huy Quân sự huyện phối hợp với các xã, thị trấn bảo đảm lễ giao quân diễn ra nhanh gọn, an toàn, "
         "tiết kiệm."]),
    ("/quoc-phong-an-ninh/xa-ngoc-lac-tien-42-thanh-nien-len-duong-nhap-ngu-268310.htm",
     "Xã Ngọc Lặc tiễn 42 thanh niên lên đường nhập ngũ", "2026-02-26T09:15:00+07:00", [
         "Sáng 26/2, xã Ngọc Lặc tổ chức lễ giao nhận quân năm 2026, lần đầu tiên sau khi sắp xếp đơn vị hành "
         "chính cấp xã.",
         "Năm 2026, xã Ngọc Lặc giao 42 công dân nhập ngũ, đạt 100% chỉ tiêu; các tân binh được bàn giao cho đơn vị "
         "nhận quân trong buổi sáng.",
         "Chỉ huy trưởng Ban Chỉ huy Quân sự xã cho biết công tác khám tuyển được chuẩn bị từ tháng 10 năm trước."]),
    ("/quoc-phong-an-ninh/xa-minh-son-hoan-thanh-giao-quan-nam-2026-268355.htm",
     "Xã Minh Sơn hoàn thành giao quân năm 2026", "2026-02-26T15:40:00+07:00", [
         "Chiều 26/2, Đảng ủy, UBND xã Minh Sơn tổ chức lễ giao nhận quân năm 2026.",
         "Năm 2026, xã Minh Sơn giao 31 công dân nhập ngũ, đạt 100% chỉ tiêu.",
         "Lễ giao quân diễn ra trang trọng, an toàn; gia đình các tân binh được xã tặng quà động viên."]),
]


def seed_parts(path: Path, spec: dict) -> dict:
    lines = path.read_text(encoding="utf-8").split("\n")
    title = lines[spec["title_line"]].strip()
    title = re.sub(r"^date \d{4}-\d{2}\s+", "", title)  # 004's stray date widget
    a, b = spec["body"]
    body = [ln for ln in lines[a:(b + 1 if b is not None else None)]]
    paras = [ln for ln in body if ln.strip()]
    author = lines[spec["author_line"]].strip() if spec.get("author_line") is not None else None
    return {"title": title, "paragraphs": paras, "author": author, "raw_lines": body}


ROBOTS = {
    "thoxuan": "User-agent: *\nDisallow: /portal/pages/print.aspx\nDisallow: /web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh/tai-lieu-noi-bo.html\n",
    "ngoclac": "User-agent: *\nDisallow: /portal/pages/print.aspx\n",
    "baothanhhoa": "User-agent: *\nDisallow: /print/\n",
    "dangcongsan": "User-agent: *\nDisallow: /page/search\n",
    "huonghoa": "User-agent: *\nAllow: /\n",
}


def build(seeds_dir: Path = DEFAULT_SEEDS, out: Path = DEFAULT_OUT) -> dict:
    files: dict[str, dict[str, str]] = {s: {} for s in SITES}
    synthetic: dict[str, list[str]] = {s: [] for s in SITES}
    seeds_meta = {}
    parts = {}
    for prefix, spec in SEEDS.items():
        path = next(seeds_dir.glob(f"{prefix}_*.txt"))
        parts[prefix] = seed_parts(path, spec)
        seeds_meta[prefix] = {"file": path.name, "site": spec["site"], "path": spec["path"],
                              "title": parts[prefix]["title"], "author": parts[prefix]["author"],
                              "body_lines": list(spec["body"]), "published": spec["published"]}

    # -- Thọ Xuân (newer layout) --------------------------------------------------------
    p = parts["001"]
    files["thoxuan"][SEEDS["001"]["path"]] = portal_new_article(
        p["title"], SEEDS["001"]["published"], "Chiến lược - Định Hướng - Quy hoạch", p["paragraphs"], p["author"],
        "Quang cảnh hội nghị tổng kết (ảnh minh họa).")
    tx_base = "/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh"
    tx_dq = f"{tx_base}/tho-xuan-ra-quan-huan-luyen-dan-quan-tu-ve-nam-2022.html"
    files["thoxuan"][tx_dq] = portal_new_article(
        "Thọ Xuân ra quân huấn luyện dân quân tự vệ năm 2022", "23/11/2022", "Quốc phòng - An ninh",
        ["Sáng 23/11, Ban Chỉ huy Quân sự huyện Thọ Xuân tổ chức lễ ra quân huấn luyện dân quân tự vệ năm 2022.",
         "Tham gia huấn luyện có các trung đội dân quân cơ động của 30 xã, thị trấn trong huyện.",
         "Thời gian huấn luyện từ 23/11 đến 7/12/2022, tập trung vào nội dung chính trị, quân sự và điều lệnh."],
        "Ban CHQS huyện", "Lễ ra quân huấn luyện (ảnh minh họa).", ym="2022-11")
    tx_changed = f"{tx_base}/tho-xuan-dien-tap-khu-vuc-phong-thu-nam-2022.html"
    files["thoxuan"][tx_changed] = portal_new_article(
        "Thọ Xuân diễn tập khu vực phòng thủ năm 2022", "10/10/2022", "Quốc phòng - An ninh",
        ["Huyện Thọ Xuân tổ chức diễn tập khu vực phòng thủ năm 2022 (trang có bố cục đã đổi: không có thẻ h1).",
         "Nội dung diễn tập gồm chuyển trạng thái sẵn sàng chiến đấu và tác chiến phòng thủ."],
        None, "Diễn tập (ảnh minh họa).", ym="2022-10", changed=True)
    tx_irrelevant = f"{tx_base.rsplit('/', 1)[0]}/van-hoa/tho-xuan-khai-mac-hoi-thi-van-nghe-quan-chung.html"
    tx_robots = f"{tx_base}/tai-lieu-noi-bo.html"
    files["thoxuan"][tx_robots] = portal_error_page((TX_NAME, TX_SLOGAN))
    synthetic["thoxuan"] += [tx_dq, tx_changed, tx_robots]
    files["thoxuan"][f"{tx_base}.html"] = portal_list([
        (SEEDS["001"]["path"], p["title"], "18/12/2020", p["paragraphs"][0]),
        (tx_dq, "Thọ Xuân ra quân huấn luyện dân quân tự vệ năm 2022", "23/11/2022", "Ra quân huấn luyện."),
        (tx_changed, "Thọ Xuân diễn tập khu vực phòng thủ năm 2022", "10/10/2022", "Diễn tập khu vực phòng thủ."),
        (tx_irrelevant, "Thọ Xuân khai mạc hội thi văn nghệ quần chúng", "01/10/2022", "Hội thi văn nghệ."),
        (tx_robots, "Tài liệu nội bộ về công tác quân sự", "01/09/2022", "Không công khai."),
    ], [], site=(TX_NAME, TX_SLOGAN))

    # -- Ngọc Lặc (old SharePoint layout) -------------------------------------------------
    p = parts["002"]
    files["ngoclac"][SEEDS["002"]["path"]] = portal_old_article(
        p["title"], SEEDS["002"]["published"], "Tin tức - Sự kiện", p["paragraphs"][0], p["paragraphs"][1:],
        p["author"].removeprefix("Tác giả:").strip(), "Đại biểu dự hội nghị (ảnh minh họa).")
    nl_gq = "/portal/Pages/2023-2-14/Ngoc-Lac-giao-quan-nam-2023-a11b22.aspx"
    files["ngoclac"][nl_gq] = portal_old_article(
        "Ngọc Lặc giao quân năm 2023", "08:15:00 14/02/2023", "Tin tức - Sự kiện",
        "Sáng 14/2, huyện Ngọc Lặc tổ chức lễ giao nhận quân năm 2023.",
        ["Các tân binh lên đường nhập ngũ trong không khí phấn khởi.",
         "Lễ giao quân diễn ra nhanh gọn, an toàn, đúng quy định."],
        "Hà Linh", "Tân binh lên đường (ảnh minh họa).", ym="2023-02")
    nl_bao = "/portal/Pages/2023-9-7/Ngoc-Lac-chu-dong-phong-chong-bao-so-3-b22c33.aspx"
    files["ngoclac"][nl_bao] = portal_old_article(
        "Ngọc Lặc chủ động phòng, chống bão số 3", "09:00:00 07/09/2023", "Tin tức - Sự kiện",
        "Huyện Ngọc Lặc triển khai phương án phòng, chống bão số 3 và tìm kiếm cứu nạn.",
        ["Lực lượng dân quân được huy động sẵn sàng ứng cứu tại các xã vùng trũng."],
        "Hà Linh", "Kiểm tra công tác phòng chống bão (ảnh minh họa).", ym="2023-09")
    nl_bc = "/portal/Pages/2023-6-21/Ngoc-Lac-tap-huan-nghiep-vu-bao-chi-c33d44.aspx"
    nl_err = "/portal/Pages/2023-11-2/Ngoc-Lac-trien-khai-cong-tac-tuyen-quan-nam-2024-d44e55.aspx"
    files["ngoclac"][nl_err] = portal_error_page()
    synthetic["ngoclac"] += [nl_gq, nl_bao, nl_err]
    lst = "/portal/KenhTin/Tin-tuc-su-kien.aspx"
    files["ngoclac"][lst] = portal_list([
        (SEEDS["002"]["path"], p["title"], "20/12/2023", p["paragraphs"][0]),
        (nl_err, "Ngọc Lặc triển khai công tác tuyển quân năm 2024", "02/11/2023", "Triển khai tuyển quân."),
        (nl_bao, "Ngọc Lặc chủ động phòng, chống bão số 3", "07/09/2023", "Phòng chống bão, tìm kiếm cứu nạn."),
    ], [(2, f"{lst}?Page=2")])
    files["ngoclac"][f"{lst}?Page=2"] = portal_list([
        (nl_bc, "Ngọc Lặc tập huấn nghiệp vụ báo chí năm 2023", "21/06/2023", "Tập huấn cho phóng viên, biên tập viên."),
        (nl_gq, "Ngọc Lặc giao quân năm 2023", "14/02/2023", "Lễ giao nhận quân."),
    ], [(1, lst)])

    # -- Báo Thanh Hóa --------------------------------------------------------------------
    rss_items = []
    for prefix in ("000", "004"):
        spec, p = SEEDS[prefix], parts[prefix]
        paras = p["paragraphs"]
        files["baothanhhoa"][spec["path"]] = btt_article(
            p["title"], spec["published"], paras[0], paras, "Quang cảnh hội nghị (ảnh minh họa).",
            obfuscated=spec["obfuscated"])
        rss_items.append({"title": p["title"], "link": spec["path"], "published": spec["published"],
                          "description": e(paras[0])})
    btt_rss = "/bo-chqs-tinh-tong-ket-cong-tac-giao-duc-quoc-phong-va-an-ninh-175500.htm"
    rss_text = ["Chiều 12/1, Bộ Chỉ huy Quân sự tỉnh tổng kết công tác giáo dục quốc phòng và an ninh năm 2022.",
                "Năm 2022, toàn tỉnh mở các lớp bồi dưỡng kiến thức quốc phòng và an ninh cho các đối tượng theo kế hoạch.",
                "Hội nghị đề ra nhiệm vụ trọng tâm năm 2023."]
    files["baothanhhoa"][btt_rss] = btt_article(
        "Bộ CHQS tỉnh tổng kết công tác giáo dục quốc phòng và an ninh", "2023-01-12T17:00:00+07:00",
        rss_text[0], rss_text, "", obfuscated=True, blob="VGhpcyBpcyBub3QgdGhlIGFydGljbGUhIQ==*corrupt*")
    rss_items.append({"title": "Bộ CHQS tỉnh tổng kết công tác giáo dục quốc phòng và an ninh", "link": btt_rss,
                      "published": "2023-01-12T17:00:00+07:00",
                      "description": "".join(f"<p>{e(t)}</p>" for t in rss_text)})
    btt_bao = "/bao-thanh-hoa-ra-mat-an-pham-xuan-quy-mao-2023-173900.htm"
    rss_items.append({"title": "Báo Thanh Hóa ra mắt ấn phẩm Xuân Quý Mão 2023", "link": btt_bao,
                      "published": "2023-01-10T09:00:00+07:00", "description": "Ấn phẩm báo Xuân phục vụ bạn đọc."})
    synthetic["baothanhhoa"] += [btt_rss]
    rss_items.sort(key=lambda it: it["published"], reverse=True)
    files["baothanhhoa"]["/rss/thoi-su.xml"] = rss(rss_items)
    files["baothanhhoa"]["/thoi-su.htm"] = btt_list(
        [(it["link"], it["title"], it["published"], re.sub("<[^>]+>", " ", it["description"])[:160]) for it in rss_items[:2]],
        next_url="/thoi-su/trang-2.htm")
    files["baothanhhoa"]["/thoi-su/trang-2.htm"] = btt_list(
        [(it["link"], it["title"], it["published"], re.sub("<[^>]+>", " ", it["description"])[:160]) for it in rss_items[2:]])

    # the "Quốc phòng - An ninh" section: articles written for the sample, across the reform
    qpan_items = []
    for path, title, published, paras in REFORM_ARTICLES:
        files["baothanhhoa"][path] = btt_article(title, published, paras[0], paras, "Lễ giao nhận quân (ảnh minh họa).")
        qpan_items.append((path, title, published, paras[0][:160]))
    files["baothanhhoa"]["/quoc-phong-an-ninh.htm"] = btt_list(sorted(qpan_items, key=lambda it: it[2], reverse=True))

    # -- dangcongsan ----------------------------------------------------------------------
    p = parts["003"]
    paras = p["paragraphs"]
    files["dangcongsan"][SEEDS["003"]["path"]] = dcs_article(
        p["title"], SEEDS["003"]["published"], paras[0], paras, p["author"], "Quang cảnh buổi làm việc (ảnh minh họa).")
    dcs_bcv = "/xa-hoi/hoi-nghi-bao-cao-vien-trung-uong-thang-3-633001.html"
    files["dangcongsan"]["/xay-dung-dang"] = dcs_list([
        (SEEDS["003"]["path"], p["title"], "14/03/2023 15:55", paras[0][:150]),
        (dcs_bcv, "Hội nghị Báo cáo viên Trung ương tháng 3", "13/03/2023 09:00", "Thông tin thời sự cho báo cáo viên."),
    ], next_url="/xay-dung-dang/p/2")
    files["dangcongsan"]["/xay-dung-dang/p/2"] = dcs_list([
        ("/van-hoa/ngay-hoi-van-hoa-cac-dan-toc-632500.html", "Ngày hội văn hóa các dân tộc", "01/03/2023 08:00",
         "Ngày hội văn hóa."),
    ])

    # -- Hướng Hóa (generic) ----------------------------------------------------------------
    hh = "/-/view-article/huong-hoa-tong-ket-cong-tac-quoc-phong-an-ninh-nam-2022"
    files["huonghoa"][hh] = hh_article()
    files["huonghoa"]["/phong-su"] = hh_list()
    synthetic["huonghoa"].append(hh)

    for site, text in ROBOTS.items():
        files[site]["/robots.txt"] = text

    # -- write ------------------------------------------------------------------------------
    manifest = {"generated_by": "python -m scrapers.fixtures_build", "last_modified": LAST_MODIFIED,
                "sites": {}, "seeds": seeds_meta}
    for site, routes in files.items():
        site_dir = out / site
        site_dir.mkdir(parents=True, exist_ok=True)
        entries = {}
        for route, content in sorted(routes.items()):
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", route.strip("/")) or "index"
            if not re.search(r"\.(html?|aspx|xml|txt)$", name):
                name += ".html"
            if route in synthetic[site] and "<head>" in content:
                # Invented pages say so in the page itself, so they land flagged synthetic and
                # never reach the marts that `make run` shows.
                content = content.replace("<head>", '<head><meta name="qpan:synthetic" content="true">', 1)
            (site_dir / name).write_text(content, encoding="utf-8")
            entries[route] = {"file": f"{site}/{name}", "synthetic": route in synthetic[site]}
        manifest["sites"][site] = {"host": SITES[site], "routes": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    m = build(args.seeds, args.out)
    print(f"wrote {sum(len(s['routes']) for s in m['sites'].values())} routes for {len(m['sites'])} sites to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

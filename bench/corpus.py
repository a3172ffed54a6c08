"""Synthetic portal corpus for benchmarks: portal-template HTML pages with known facts.

    from bench.corpus import iter_corpus
    for page in iter_corpus(100_000, seed=7):   # a generator: constant memory at any size
        page.html, page.url, page.template, page.gold

    python -m bench.corpus --n 10 --show 1        # print one page

Each page is a QP-AN article about a district of Thanh Hóa (or a neighbouring province) and
a year (2019-2024), rendered in one of the sample portals' templates with the same chrome
as the sample fixtures (scrapers/fixtures_build.py): thanhhoa_portal new and old layouts,
baothanhhoa (clear and obfuscated body), dangcongsan. The body states 3-7 known facts in
varied phrasings (digits with thousands separators, "hơn"/"khoảng" comparators, numbers in
words), mixed with distractors the extractor must not read as facts: document numbers
("Quy định số 11-Qđi/TW"), named bodies ("Ban Chỉ đạo 138", "Sư đoàn 324"), dates, plans
for the next year, ranks, comparisons with the year before, and another district's figure
(a fact of that other unit).

Every page carries `<meta name="qpan:synthetic" content="true">` in its <head>, so the parsers
flag it synthetic=True and it lands with raw.articles.synthetic = true: it never reaches the
marts `make run` shows. Article k is generated from its own seeded RNG (seed, k): the corpus
is reproducible, any article can be regenerated alone, and the 10k corpus is the first 10k
articles of the 100k and 1M ones (so "+1% new articles" is articles n .. 1.01 n).
"""
from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scrapers import fixtures_build as fb  # noqa: E402

SYNTHETIC_META = '<meta name="qpan:synthetic" content="true">'
HOST = "http://bench.qpan.invalid"

# -- text -----------------------------------------------------------------------------------
FILLER = [
    "Năm {y}, tình hình thế giới, khu vực và trong nước có nhiều diễn biến phức tạp, tác động không nhỏ đến việc thực hiện nhiệm vụ phát triển kinh tế - xã hội, quốc phòng - an ninh của {u}.",
    "Được sự quan tâm lãnh đạo, chỉ đạo của Tỉnh ủy, UBND tỉnh, sự phối hợp chặt chẽ của các ban, ngành, đoàn thể, các cấp ủy, chính quyền đã triển khai đồng bộ các giải pháp.",
    "Dự hội nghị có đại diện lãnh đạo Bộ CHQS tỉnh, Công an tỉnh, Sư đoàn {sd}, Đoàn KT-QP 337 và lãnh đạo các phòng, ban, ngành, đoàn thể.",
    "Cấp ủy các cấp thực hiện nghiêm Quy định số 11-Qđi/TW ngày 21/5/2019 của Bộ Chính trị, Kết luận số 44-KL/TW và Chỉ thị số 09-CT/TW của Ban Bí thư.",
    "Ban Chỉ đạo 138 {u} duy trì giao ban định kỳ; kinh tế của {u} tăng trưởng khá, xếp thứ {rank} toàn tỉnh.",
    "Đại hội Đảng bộ các cấp nhiệm kỳ 2020-2025 thành công; các chương trình giai đoạn 2021 - 2025 được triển khai đúng tiến độ.",
    "Công tác tuyên truyền, giáo dục pháp luật được đẩy mạnh, nâng cao nhận thức của cán bộ, đảng viên và Nhân dân về nhiệm vụ bảo vệ Tổ quốc trong tình hình mới.",
    "Thực hiện Nghị quyết số 28-NQ/TW và Quyết định số 1275/QĐ-UBND ngày 12/4/{y} của UBND tỉnh, {u} đã ban hành kế hoạch triển khai.",
    "Hội nghị diễn ra từ 8 giờ 30 phút tại hội trường Trung tâm Chính trị {u}, Quốc lộ 47 đoạn qua km 12.",
]
PLANS = [
    "Năm {ny}, {u} phấn đấu giao {p1} thanh niên nhập ngũ, đạt 100% chỉ tiêu; sẽ tổ chức diễn tập khu vực phòng thủ.",
    "Phương hướng nhiệm vụ năm {ny}: phấn đấu kéo giảm {p2}% số vụ tai nạn giao thông, không để hình thành điểm nóng.",
    "Kế hoạch năm {ny} đề ra mục tiêu xây dựng {p1} mô hình tự quản về an ninh trật tự.",
]


def _fmt_int(v: int) -> str:
    """7173 -> '7.173' (Vietnamese thousands separator)."""
    return f"{v:,}".replace(",", ".")


_WORDS = {1: "một", 2: "hai", 3: "ba", 4: "bốn", 5: "năm", 6: "sáu", 7: "bảy", 8: "tám", 9: "chín"}


def _in_words(v: int) -> str:
    """2..99 in words: 'hai mươi lăm', 'mười hai'."""
    tens, ones = divmod(v, 10)
    if tens == 0:
        return _WORDS[ones]
    head = "mười" if tens == 1 else f"{_WORDS[tens]} mươi"
    if ones == 0:
        return head
    tail = "lăm" if ones == 5 else ("mốt" if ones == 1 and tens > 1 else _WORDS[ones])
    return f"{head} {tail}"


# (phrasings, facts: (indicator, value key | constant, comparator)); one phrasing is chosen
# per article. {A} etc. are the values formatted (thousands separators / words).
FACTS = [
    (["Huyện đã hoàn thành tốt nhiệm vụ giao quân với {a} thanh niên, đạt 100% chỉ tiêu giao.",
      "Công tác tuyển quân được thực hiện chặt chẽ, đã giao {a} thanh niên nhập ngũ, đạt 100% chỉ tiêu."],
     [("recruits_enlisted", "a", "="), ("recruitment_quota_pct", 100, "="), ("recruitment_quota_met", True, "=")]),
    (["{U} đã giao {a} tân binh cho các đơn vị, bảo đảm chất lượng.",
      "Trong lễ giao nhận quân, {u} đã bàn giao {a} tân binh cho các đơn vị nhận quân."],
     [("recruits_enlisted", "a", "=")]),
    (["Trên địa bàn xảy ra {b} vụ phạm tội về trật tự xã hội, giảm {c} vụ so với cùng kỳ.",
      "Tội phạm về trật tự xã hội xảy ra {b} vụ, giảm {c} vụ so với năm trước."],
     [("crime_cases", "b", "=")]),
    (["Lực lượng chức năng phát hiện, bắt giữ {c} vụ, {b} đối tượng phạm tội về ma túy."],
     [("drug_crime_cases", "c", "=")]),
    (["Về tai nạn giao thông, xảy ra {c} vụ, làm chết {d} người, bị thương {e} người."],
     [("traffic_accidents", "c", "="), ("traffic_deaths", "d", "=")]),
    (["Toàn {kind} xảy ra {e} vụ cháy, thiệt hại ước tính 1,2 tỷ đồng."],
     [("fires", "e", "=")]),
    (["An ninh chính trị, trật tự an toàn xã hội được giữ vững, không để xảy ra đột xuất, bất ngờ, hình thành điểm nóng."],
     [("security_hotspots", 0, "=")]),
    (["Lực lượng dân quân tự vệ được xây dựng vững mạnh, rộng khắp với {F} đồng chí.",
      "Lực lượng dân quân tự vệ được xây dựng vững mạnh, rộng khắp với {F} đồng chí, đạt tỷ lệ 1,4% dân số."],
     [("militia_members", "f", "=")]),
    (["Đăng ký, quản lý {G} quân nhân dự bị động viên, sắp xếp vào đơn vị đạt 98%."],
     [("reserve_members", "g", "=")]),
    (["Trong năm, đã kết nạp được {d} đảng viên mới (tăng {e} đảng viên so với năm trước)."],
     [("new_party_members", "d", "=")]),
    (["Hiện nay, {U} có hơn {F} mô hình phong trào toàn dân bảo vệ an ninh Tổ quốc."],
     [("security_movement_models", "f", ">")]),
]
AWARD = (["Dịp này, Chủ tịch UBND {u} tặng Giấy khen cho {h} tập thể và {i} cá nhân có thành tích xuất sắc trong công tác quốc phòng - an ninh năm {y}.",
          "Dịp này, Chủ tịch UBND {u} tặng Giấy khen cho {hw} tập thể và {i} cá nhân có thành tích xuất sắc trong công tác quốc phòng - an ninh năm {y}."],
         [("awarded_collectives", "h", "="), ("awarded_individuals", "i", "=")])
# Another district's figure, in a paragraph that opens on that district: a fact of that unit.
OTHER = ("Tại {o}, lực lượng dân quân tự vệ được xây dựng vững mạnh, rộng khắp với {F2} đồng chí.",
         [("militia_members", "f2", "=")])

TEMPLATES = [  # (template, layout, site, weight)
    ("thanhhoa_portal", "new", "district", 3),
    ("thanhhoa_portal", "old", "district", 3),
    ("baothanhhoa", "clear", "baothanhhoa", 2),
    ("baothanhhoa", "obfuscated", "baothanhhoa", 1),
    ("dangcongsan", "clear", "dangcongsan", 1),
]
_TEMPLATE_CHOICES = [t for t in TEMPLATES for _ in range(t[3])]


@dataclass
class Page:
    k: int
    url: str
    source: str
    template: str
    layout: str
    unit_id: str
    year: int
    html: str
    title: str
    gold: list[dict] = field(default_factory=list)

    @property
    def doc(self) -> str:
        return f"b{self.k}"


@lru_cache(maxsize=1)
def districts() -> tuple:
    """Districts (huyện, thị xã) of Thanh Hóa and four other provinces valid in 2019-2024."""
    from qpan.extract.gazetteer import default_gazetteer

    gaz = default_gazetteer()
    out = []
    for u in gaz.units:
        if u.level == "district" and u.type in ("huyện", "thị xã") and u.valid_to and u.valid_to.year == 2025 \
                and u.valid_from is None and u.unit_id.split(".")[0] in ("38", "40", "30", "37", "26"):
            out.append((u.unit_id, u.type, u.name))
    return tuple(sorted(out))


@lru_cache(maxsize=1)
def _by_province() -> dict:
    out: dict = {}
    for u in districts():
        out.setdefault(u[0].split(".")[0], []).append(u)
    return out


def _slug(s: str) -> str:
    from qpan.extract.normalize import strip_diacritics
    import re

    return re.sub(r"[^a-z0-9]+", "-", strip_diacritics(s).lower()).strip("-")


def make_page(k: int, seed: int = 7) -> Page:
    """Article k of the corpus with this seed (independent of every other article)."""
    rng = random.Random(seed * 1_000_003 + k)
    units = districts()
    unit_id, utype, uname = rng.choice(units)
    same_prov = _by_province()[unit_id.split(".")[0]]
    other = rng.choice(same_prov)
    other = None if other[0] == unit_id else other
    y = rng.randint(2019, 2024)
    name = f"{utype} {uname}"
    kind = "huyện" if utype == "huyện" else "thị xã"
    vals = {c: rng.randint(2, 60) for c in "bcde"} | {
        "a": rng.randint(80, 500), "f": rng.randint(500, 4000), "g": rng.randint(800, 5000),
        "h": rng.randint(2, 30), "i": rng.randint(5, 40), "f2": rng.randint(500, 4000)}
    fmt = dict(u=name, U=name[0].upper() + name[1:], y=y, ny=y + 1, sd=rng.choice([324, 341, 390]),
               rank=rng.randint(2, 20), kind=kind, p1=rng.randint(100, 400), p2=rng.randint(5, 15),
               F=_fmt_int(vals["f"]), G=_fmt_int(vals["g"]), F2=_fmt_int(vals["f2"]),
               hw=_in_words(vals["h"]), o=f"{other[1]} {other[2]}" if other else "", **vals)
    title = f"{uname} tổng kết công tác quốc phòng - an ninh năm {y}"
    month, day = rng.choice([(12, rng.randint(5, 28)), (1, rng.randint(3, 25))])
    pub_year = y if month == 12 else y + 1
    opening = (f"Sáng {day}/{month}, UBND {name} tổ chức hội nghị tổng kết công tác quốc phòng - an ninh "
               f"năm {y}, triển khai nhiệm vụ năm {y + 1}.")
    gold: list[dict] = []
    picked = rng.sample(FACTS, k=rng.randint(3, 6))
    chosen = [(rng.choice(ph), facts) for ph, facts in picked]
    body_parts = rng.sample(FILLER, k=4) + [t for t, _ in chosen] + [rng.choice(PLANS)]
    rng.shuffle(body_parts)
    award = (rng.choice(AWARD[0]), AWARD[1])
    body_parts.append(award[0])

    def add_gold(facts, uid):
        for ind, v, comp in facts:
            value = vals[v] if isinstance(v, str) else v
            # "Hiện nay" (now) dates a figure to the year the article is published in
            period = pub_year if ind == "security_movement_models" else y
            gold.append({"doc": f"b{k}", "indicator": ind, "value": value, "unit_id": uid,
                         "period": str(period), "comparator": comp})

    for _, facts in chosen + [award]:
        add_gold(facts, unit_id)
    paras = [opening]
    buf: list[str] = []
    for i, p in enumerate(body_parts):
        buf.append(p.format(**fmt))
        if i % 2 == 1:
            paras.append(" ".join(buf))
            buf = []
    if buf:
        paras.append(" ".join(buf))
    if other is not None and rng.random() < 0.3:
        paras.insert(rng.randint(2, len(paras)), OTHER[0].format(**fmt))
        add_gold(OTHER[1], other[0])
    paras.append(rng.choice(FILLER).format(**fmt) + " " + rng.choice(FILLER).format(**fmt))

    template, layout, site, _ = rng.choice(_TEMPLATE_CHOICES)
    hh, mm, ss = rng.randint(7, 17), rng.randint(0, 59), rng.randint(0, 59)
    slug = _slug(title)
    author = rng.choice(["Lê Hà", "Minh Hiếu", "Ban CHQS huyện", "Phòng Văn hóa - Thông tin"])
    caption = "Quang cảnh hội nghị (ảnh minh họa)."
    if template == "thanhhoa_portal":
        source = f"bench_portal_{unit_id}"
        if layout == "new":
            url = f"{HOST}/{unit_id}/web/trang-chu/tin-tuc-su-kien/quoc-phong-an-ninh/{slug}-{k}.html"
            html = fb.portal_new_article(title, f"{hh:02d}:{mm:02d}:{ss:02d} {day:02d}/{month:02d}/{pub_year}",
                                         "Quốc phòng - An ninh", paras, author, caption, ym=f"{pub_year}-{month:02d}")
        else:
            url = f"{HOST}/{unit_id}/portal/Pages/{pub_year}-{month}-{day}/{slug}-{k:x}.aspx"
            html = fb.portal_old_article(title, f"{hh:02d}:{mm:02d}:{ss:02d} {day:02d}/{month:02d}/{pub_year}",
                                         "Tin tức - Sự kiện", paras[0], paras[1:], author, caption,
                                         ym=f"{pub_year}-{month:02d}")
    elif template == "baothanhhoa":
        source = "bench_baothanhhoa"
        url = f"{HOST}/baothanhhoa/quoc-phong-an-ninh/{slug}/{k}.htm"
        published = f"{pub_year}-{month:02d}-{day:02d}T{hh:02d}:{mm:02d}:00+07:00"
        # paragraph 0 is the lead (sapo); the body repeats it on the obfuscated layout
        html = fb.btt_article(title, published, paras[0], paras, caption, obfuscated=(layout == "obfuscated"))
    else:
        source = "bench_dangcongsan"
        url = f"{HOST}/dangcongsan/quoc-phong-an-ninh/{slug}-{k}.html"
        wd = ["Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật"][rng.randint(0, 6)]
        html = fb.dcs_article(title, f"{wd}, {day:02d}/{month:02d}/{pub_year} {hh:02d}:{mm:02d}",
                              paras[0], paras, author, caption)
    html = html.replace("<head>", "<head>" + SYNTHETIC_META, 1)
    return Page(k, url, source, template, layout, unit_id if template == "thanhhoa_portal" else None,
                y, html, title, gold)


def iter_corpus(n: int, seed: int = 7, start: int = 0) -> Iterator[Page]:
    """Articles start .. start+n-1 of the corpus, one at a time (nothing is kept)."""
    for k in range(start, start + n):
        yield make_page(k, seed)


def parse_page(page: Page):
    """The page through its template parser (as the crawler would)."""
    from scrapers.templates import parse_article

    return parse_article(page.template, page.html, page.url, source=page.source, unit_id=page.unit_id)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show", type=int, default=None, help="print the HTML of article k")
    args = ap.parse_args(argv)
    if args.show is not None:
        p = make_page(args.show, args.seed)
        print(p.url, p.template, p.layout, p.unit_id, p.year)
        print(p.html)
        for g in p.gold:
            print(g)
        return 0
    for p in iter_corpus(args.n, args.seed):
        print(p.k, p.template, p.layout, p.url, len(p.html), len(p.gold))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

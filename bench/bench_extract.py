"""Throughput benchmark of the extraction engine on synthetic articles.

    python bench/bench_extract.py --n 10000 [--seed 7]

Generates N articles in the domain's style (seeded: same N and seed, same corpus):
year-end reviews, recruitment hand-overs and police reports for districts of Thanh
Hóa and other provinces, with plans, document numbers, named bodies and ranks as
distractors. Each template knows its own facts, so the run also reports F1 on the
synthetic corpus (a sanity check, not a quality claim: the real test is real articles).

Prints a markdown table: the engine, a floor (normalisation + sentence split only:
the least any extractor must do), and a naive baseline that scans every gazetteer
alias with `str.find` per article (what the token index avoids), single process.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qpan.extract import extract_article  # noqa: E402
from qpan.extract.evaluate import score  # noqa: E402
from qpan.extract.gazetteer import default_gazetteer  # noqa: E402
from qpan.extract.normalize import normalize, split_sentences  # noqa: E402

FILLER = [
    "Năm {y}, tình hình thế giới, khu vực và trong nước có nhiều diễn biến phức tạp, tác động không nhỏ đến việc thực hiện nhiệm vụ phát triển kinh tế - xã hội, quốc phòng - an ninh của {u}.",
    "Được sự quan tâm lãnh đạo, chỉ đạo của Tỉnh ủy, UBND tỉnh, sự phối hợp chặt chẽ của các ban, ngành, đoàn thể, các cấp ủy, chính quyền đã triển khai đồng bộ các giải pháp.",
    "Dự hội nghị có đại diện lãnh đạo Bộ CHQS tỉnh, Công an tỉnh, Sư đoàn {sd}, Đoàn KT-QP 337 và lãnh đạo các phòng, ban, ngành, đoàn thể.",
    "Cấp ủy các cấp thực hiện nghiêm Quy định số 11-Qđi/TW ngày 21/5/2019 của Bộ Chính trị, Kết luận số 44-KL/TW và Chỉ thị số 09-CT/TW của Ban Bí thư.",
    "Ban Chỉ đạo 138 {u} duy trì giao ban định kỳ; kinh tế của {u} tăng trưởng khá, xếp thứ {rank} toàn tỉnh.",
    "Đại hội Đảng bộ các cấp nhiệm kỳ 2020-2025 thành công; các chương trình giai đoạn 2021 - 2025 được triển khai đúng tiến độ.",
    "Công tác tuyên truyền, giáo dục pháp luật được đẩy mạnh, nâng cao nhận thức của cán bộ, đảng viên và Nhân dân về nhiệm vụ bảo vệ Tổ quốc trong tình hình mới.",
]
PLANS = [
    "Năm {ny}, {u} phấn đấu giao {p1} thanh niên nhập ngũ, đạt 100% chỉ tiêu; sẽ tổ chức diễn tập khu vực phòng thủ.",
    "Phương hướng nhiệm vụ năm {ny}: phấn đấu kéo giảm {p2}% số vụ tai nạn giao thông, không để hình thành điểm nóng.",
]
# (sentence template, facts it states: (indicator, value key, comparator))
FACTS = [
    ("Huyện đã hoàn thành tốt nhiệm vụ giao quân với {a} thanh niên, đạt 100% chỉ tiêu giao.",
     [("recruits_enlisted", "a", "="), ("recruitment_quota_pct", 100, "="), ("recruitment_quota_met", True, "=")]),
    ("{U} đã giao {a} tân binh cho các đơn vị, bảo đảm chất lượng.", [("recruits_enlisted", "a", "=")]),
    ("Trên địa bàn xảy ra {b} vụ phạm tội về trật tự xã hội, giảm {c} vụ so với cùng kỳ.", [("crime_cases", "b", "=")]),
    ("Lực lượng chức năng phát hiện, bắt giữ {c} vụ, {b} đối tượng phạm tội về ma túy.", [("drug_crime_cases", "c", "=")]),
    ("Về tai nạn giao thông, xảy ra {c} vụ, làm chết {d} người, bị thương {e} người.",
     [("traffic_accidents", "c", "="), ("traffic_deaths", "d", "=")]),
    ("Toàn {kind} xảy ra {e} vụ cháy, thiệt hại ước tính 1,2 tỷ đồng.", [("fires", "e", "=")]),
    ("An ninh chính trị, trật tự an toàn xã hội được giữ vững, không để xảy ra đột xuất, bất ngờ, hình thành điểm nóng.",
     [("security_hotspots", 0, "=")]),
    ("Lực lượng dân quân tự vệ được xây dựng vững mạnh, rộng khắp với {f} đồng chí.", [("militia_members", "f", "=")]),
    ("Đăng ký, quản lý {g} quân nhân dự bị động viên, sắp xếp vào đơn vị đạt 98%.", [("reserve_members", "g", "=")]),
    ("Trong năm, đã kết nạp được {d} đảng viên mới (tăng {e} đảng viên so với năm trước).", [("new_party_members", "d", "=")]),
    ("Hiện nay, {U} có hơn {f} mô hình phong trào toàn dân bảo vệ an ninh Tổ quốc.", [("security_movement_models", "f", ">")]),
]
AWARD = ("Dịp này, Chủ tịch UBND {u} tặng Giấy khen cho {h} tập thể và {i} cá nhân có thành tích xuất sắc trong công tác quốc phòng - an ninh năm {y}.",
         [("awarded_collectives", "h", "="), ("awarded_individuals", "i", "=")])


def _districts():
    gaz = default_gazetteer()
    out = []
    for u in gaz.units:
        if u.level == "district" and u.type in ("huyện", "thị xã") and u.valid_to and u.valid_to.year == 2025 \
                and u.valid_from is None and u.unit_id.split(".")[0] in ("38", "40", "30", "37", "26"):
            out.append(u)
    return out


def generate(n: int, seed: int = 7):
    """[(doc, title, body, gold facts)] with ~3 KB bodies."""
    rng = random.Random(seed)
    units = _districts()
    docs = []
    for k in range(n):
        u = rng.choice(units)
        y = rng.randint(2019, 2024)
        name = f"{u.type} {u.name}"
        kind = "huyện" if u.type == "huyện" else "thị xã"
        vals = {c: rng.randint(2, 60) for c in "bcdeh"} | {"a": rng.randint(80, 500), "f": rng.randint(500, 4000),
                                                          "g": rng.randint(800, 5000), "i": rng.randint(5, 40)}
        fmt = dict(u=name, U=name[0].upper() + name[1:], y=y, ny=y + 1, sd=rng.choice([324, 341, 390]),
                   rank=rng.randint(2, 20), kind=kind, p1=rng.randint(100, 400), p2=rng.randint(5, 15), **vals)
        title = f"{u.name} tổng kết công tác quốc phòng - an ninh năm {y}"
        lines = [f"Đăng lúc: 09:{rng.randint(10, 59)}:00 {rng.randint(10, 28)}/12/{y} (GMT+7)",
                 f"Sáng {rng.randint(5, 28)}/12, UBND {name} tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm {y}, triển khai nhiệm vụ năm {y + 1}."]
        gold = []
        picked = rng.sample(FACTS, k=rng.randint(3, 6))
        body_parts = rng.sample(FILLER, k=4) + [t for t, _ in picked] + [rng.choice(PLANS)]
        rng.shuffle(body_parts)
        body_parts.append(AWARD[0])
        for _text, facts in picked + [AWARD]:
            for ind, v, comp in facts:
                value = vals[v] if isinstance(v, str) else v
                gold.append({"doc": f"s{k}", "indicator": ind, "value": value, "unit_id": u.unit_id,
                             "period": str(y), "comparator": comp})
        para = []
        for i, p in enumerate(body_parts):
            para.append(p.format(**fmt))
            if i % 2 == 1:
                lines.append(" ".join(para))
                para = []
        if para:
            lines.append(" ".join(para))
        lines.append(rng.choice(FILLER).format(**fmt) + " " + rng.choice(FILLER).format(**fmt))
        docs.append((f"s{k}", title, "\n".join(lines), gold))
    return docs


def bench_engine(docs):
    preds = []
    t0 = time.perf_counter()
    for doc, title, body, _ in docs:
        for f in extract_article(title, body):
            preds.append(f.to_json(doc=doc))
    return time.perf_counter() - t0, preds


def bench_floor(docs):
    t0 = time.perf_counter()
    for _, title, body, _ in docs:
        split_sentences(normalize(title + "\n" + body).text)
    return time.perf_counter() - t0


def bench_naive_gazetteer(docs):
    """Baseline: look for every alias of every unit in every article with str.find."""
    gaz = default_gazetteer()
    aliases = sorted({f"{u.type} {u.name}".lower() for u in gaz.units} | {u.name.lower() for u in gaz.units})
    t0 = time.perf_counter()
    for _, title, body, _ in docs:
        low = normalize(title + "\n" + body).lower
        [a for a in aliases if a in low]
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--baseline-n", type=int, default=300, help="articles for the slow naive baseline")
    args = ap.parse_args(argv)

    default_gazetteer()  # index build is a one-off per process, not per article
    extract_article("warm up", "Năm 2023, huyện giao 100 tân binh.")
    docs = generate(args.n, args.seed)
    mb = sum(len(t) + len(b) + 1 for _, t, b, _ in docs) / 1e6
    avg_kb = mb * 1000 / len(docs)

    dt, preds = bench_engine(docs)
    gold = [g for *_, gs in docs for g in gs]
    s = score(preds, gold)
    floor = bench_floor(docs)
    nb = docs[: args.baseline_n]
    naive = bench_naive_gazetteer(nb)

    print(f"\n{len(docs)} synthetic articles, mean {avg_kb:.1f} KB, seed {args.seed}, "
          f"1 process (pid {os.getpid()}), Python {sys.version.split()[0]}\n")
    print("| run | articles | seconds | articles/s/core | facts/s | MB/s |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| engine (extract_article) | {len(docs)} | {dt:.2f} | {len(docs) / dt:,.0f} | {len(preds) / dt:,.0f} | {mb / dt:.2f} |")
    print(f"| floor: normalise + split only | {len(docs)} | {floor:.2f} | {len(docs) / floor:,.0f} | - | {mb / floor:.2f} |")
    nmb = sum(len(t) + len(b) + 1 for _, t, b, _ in nb) / 1e6
    print(f"| baseline: naive alias scan (str.find x {len(default_gazetteer().units):,} units) | {len(nb)} | {naive:.2f} | "
          f"{len(nb) / naive:,.0f} | - | {nmb / naive:.2f} |")
    print(f"\nsynthetic-corpus accuracy: P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f} "
          f"({len(preds)} facts predicted, {s.n_gold} gold)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

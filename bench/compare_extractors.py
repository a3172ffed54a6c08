"""This extractor against earlier revisions', in one process, on the same articles.

    python -m bench.compare_extractors --rev c7255a1 [--rev 1809a04 ...] [--n 3000] [--rounds 3] [--chunk 150]
        [--texts generated|shared] [--processes [K]]

`--texts shared` reads the real articles of ../shared/corpus (with their publication date and
URL) instead of generated ones; `--rounds 1` times the first pass only (no engine has seen the
texts: the warm passes after it flatter the per-text caches).

`--processes K` (K defaults to 11: about 40 s on a quiet machine with the shared texts, most of it
the earlier engines building their gazetteer index in each process)
repeats the first-pass measurement in K fresh processes: each one imports the engines, warms
them up on one unrelated sentence, then times one first pass over the texts (chunks alternating
as below), and the report gives each engine's median and range over the K processes, and the
median and range of the per-process ratios. One first pass over the 110 shared texts is about
70 ms of CPU: a single one moves by 10-15% from run to run, the median of 11 by a few percent.

The earlier `qpan/extract` is taken from git (`git archive`) into a temporary package, so both
engines run side by side: chunks of the benchmark's generated articles (parsed, with their
publication date and source unit, as `bench.run`'s extract stage reads them) alternate between
the two, and each engine's CPU time (process_time: per core) is summed. Alternating chunks
share out whatever else the machine is doing, so the ratio holds on a busy machine even when
the absolute rates do not. Also prints both engines' F1 on ../shared/corpus (the earlier one
with publication dates only: it has no URL prior)."""
from __future__ import annotations

import argparse
import importlib
import inspect
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROCESSES = 11
WARM_UP = ("warm up", "Năm 2023, huyện giao 100 tân binh.")


def unpack_revision(rev: str, into: Path, name: str) -> Path:
    """`qpan/extract` at `rev` unpacked as the package `name` under into/name (returned: the
    directory to put on sys.path)."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "qpan/extract"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into / name, filter="data")
    (into / name / "qpan" / "extract").rename(into / name / name)
    return into / name


def import_revision(path: Path, name: str):
    """The package `name` unpacked by unpack_revision (its absolute imports of `qpan.core.config`
    resolve to this checkout's, which only gives the repository root)."""
    # a revision before the package layout (issue 26) imports qpan's core modules by their flat names
    for flat in ("config", "settings", "db", "compiled_cache"):
        sys.modules.setdefault(f"qpan.{flat}", importlib.import_module(f"qpan.core.{flat}"))
    sys.path.insert(0, str(path))
    return importlib.import_module(name)


def load_revision(rev: str, into: Path, name: str = "baseline_extract"):
    """`qpan/extract` at `rev` as the package `name`."""
    return import_revision(unpack_revision(rev, into, name), name)


def shared_articles() -> list[tuple]:
    """(title, body, published, url) of the real articles of ../shared/corpus."""
    from qpan.core.config import SHARED_DIR
    from qpan.extract.evaluate import load_sources, read_article

    corpus = SHARED_DIR / "corpus"
    sources = load_sources(corpus / "sources.tsv")
    out = []
    for path in sorted((corpus / "texts").glob("*.txt")):
        title, body = read_article(path)
        out.append((title, body, sources[path.name].published, sources[path.name].url))
    return out


def generated_articles(n: int) -> list[tuple]:
    """(title, body, published, source unit) of the benchmark's first n generated articles."""
    from bench.corpus import iter_corpus, parse_page

    return [(x.title, x.body_text, x.published_at, x.source_unit_id)
            for x in (parse_page(p) for p in iter_corpus(n, seed=7, start=0))]


def corpus_f1(extract, with_url: bool) -> float:
    from qpan.core.config import SHARED_DIR
    from qpan.extract.evaluate import load_jsonl, load_sources, read_article, score

    corpus = SHARED_DIR / "corpus"
    sources = load_sources(corpus / "sources.tsv")
    preds = []
    for path in sorted((corpus / "texts").glob("*.txt")):
        title, body = read_article(path)
        src = sources[path.name]
        kw = {"url": src.url} if with_url else {}
        preds += [f.to_json(doc=path.name) for f in extract(title, body, src.published, None, **kw)]
    return score(preds, load_jsonl(corpus / "gold.jsonl")).f1


def engine_calls(texts: str, olds: dict) -> dict:
    """name -> f(title, body, published, url or source unit): "this" and each earlier revision,
    called as the texts need (rules-1.0 has no url parameter: it is given the date only)."""
    from qpan.extract import extract_article

    if texts == "shared":
        calls = {"this": lambda t, b, p, u: extract_article(t, b, p, None, url=u)}
        for rev, m in olds.items():
            with_url = "url" in inspect.signature(m.extract_article).parameters
            calls[rev] = (lambda f, w: (lambda t, b, p, u: f(t, b, p, None, url=u) if w else f(t, b, p, None)))(
                m.extract_article, with_url)
    else:
        calls = {"this": lambda t, b, p, u: extract_article(t, b, published_at=p, source_unit_id=u)}
        for rev, m in olds.items():
            calls[rev] = (lambda f: (lambda t, b, p, u: f(t, b, published_at=p, source_unit_id=u)))(m.extract_article)
    return calls


def timed_passes(calls: dict, arts: list[tuple], rounds: int, chunk: int) -> dict[str, float]:
    """Each engine's CPU seconds over `rounds` passes of the articles: chunks alternating between
    the engines, each engine first in turn."""
    for f in calls.values():
        f(*WARM_UP, None, None)
    cpu = dict.fromkeys(calls, 0.0)
    names = list(calls)
    for r in range(rounds):
        for i in range(0, len(arts), chunk):
            part = arts[i:i + chunk]
            shift = (i // chunk + r) % len(names)  # each engine goes first in turn
            for name in names[shift:] + names[:shift]:
                f = calls[name]
                c0 = time.process_time()
                for art in part:
                    f(*art)
                cpu[name] += time.process_time() - c0
    return cpu


def _worker(a) -> int:
    """One fresh process's first pass (--processes): prints each engine's CPU seconds as JSON."""
    sys.path.insert(0, str(ROOT))
    unpacked = json.loads(a.worker)  # rev -> [directory, package name]
    olds = {rev: import_revision(Path(d), name) for rev, (d, name) in unpacked.items()}
    arts = shared_articles() if a.texts == "shared" else generated_articles(a.n)
    cpu = timed_passes(engine_calls(a.texts, olds), arts, 1, a.chunk)
    out: dict = {"n": len(arts), "cpu": cpu}
    if a.f1:  # after the timed pass, with the engines this process has loaded anyway
        from qpan.extract import EXTRACTOR_VERSION, extract_article

        out["version"] = {"this": EXTRACTOR_VERSION, **{rev: m.EXTRACTOR_VERSION for rev, m in olds.items()}}
        out["f1"] = {"this": corpus_f1(extract_article, True), **{
            rev: corpus_f1(m.extract_article, "url" in inspect.signature(m.extract_article).parameters)
            for rev, m in olds.items()}}
    print(json.dumps(out))
    return 0


def _spread(xs: list[float], fmt: str) -> str:
    return f"**{format(statistics.median(xs), fmt)}** ({format(min(xs), fmt)}-{format(max(xs), fmt)})"


def fresh_processes(a, tmp: Path) -> None:
    """The first pass in K fresh processes, one after the other; median and range per engine."""
    unpacked = {rev: [str(unpack_revision(rev, tmp, f"baseline_extract_{i}")), f"baseline_extract_{i}"]
                for i, rev in enumerate(a.rev)}
    cmd = [sys.executable, "-m", "bench.compare_extractors", "--worker", json.dumps(unpacked),
           "--texts", a.texts, "--n", str(a.n), "--chunk", str(a.chunk)] + [x for r in a.rev for x in ("--rev", r)]
    runs, loads = [], []
    for k in range(a.processes):  # the first one also scores the engines on the corpus, after its timed pass
        out = subprocess.run(cmd + (["--f1"] if k == 0 else []), cwd=ROOT, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        loads.append(os.getloadavg()[0])
    n, version, f1 = runs[0]["n"], runs[0]["version"], runs[0]["f1"]
    rates = {name: [n / r["cpu"][name] for r in runs] for name in runs[0]["cpu"]}
    print(f"texts: {a.texts} ({n} articles), first pass in {a.processes} fresh processes, {a.chunk}-article chunks, "
          f"load {min(loads):.1f}-{max(loads):.1f}")
    print("| engine | articles/s/core, median (range) | F1 on ../shared/corpus |\n|---|---:|---:|")
    for name in rates:
        print(f"| {name} ({version[name]}) | {_spread(rates[name], ',.0f')} | {f1[name]:.3f} |")
    for rev in a.rev:
        ratios = [x / y for x, y in zip(rates["this"], rates[rev])]
        print(f"this / {rev}: {_spread(ratios, '.2f')}x the throughput (per-process ratios, median and range)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", required=True, action="append", help="an earlier revision (a commit, tag or branch); repeatable")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=150)
    ap.add_argument("--texts", choices=("generated", "shared"), default="generated")
    ap.add_argument("--processes", type=int, nargs="?", const=DEFAULT_PROCESSES, default=0, metavar="K",
                    help=f"the first pass in K fresh processes (K: {DEFAULT_PROCESSES} if not given); --rounds is ignored")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--f1", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        return _worker(a)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        if a.processes:
            fresh_processes(a, Path(tmp))
            return 0
        from qpan.extract import EXTRACTOR_VERSION, extract_article

        olds = {rev: load_revision(rev, Path(tmp), f"baseline_extract_{i}") for i, rev in enumerate(a.rev)}
        arts = shared_articles() if a.texts == "shared" else generated_articles(a.n)
        cpu = timed_passes(engine_calls(a.texts, olds), arts, a.rounds, a.chunk)
        n = a.rounds * len(arts)
        rate = {k: n / v for k, v in cpu.items()}
        print(f"texts: {a.texts} ({len(arts)} articles), rounds: {a.rounds}, load {os.getloadavg()[0]:.1f}")
        print("| engine | articles/s/core | F1 on ../shared/corpus |\n|---|---:|---:|")
        print(f"| this ({EXTRACTOR_VERSION}) | {rate['this']:,.0f} | {corpus_f1(extract_article, True):.3f} |")
        for rev, m in olds.items():
            with_url = "url" in inspect.signature(m.extract_article).parameters
            print(f"| {rev} ({m.EXTRACTOR_VERSION}) | {rate[rev]:,.0f} | {corpus_f1(m.extract_article, with_url):.3f} |")
        for rev in olds:
            print(f"this / {rev}: {rate['this'] / rate[rev]:.2f}x the throughput ({n:,} extractions each, "
                  f"{a.chunk}-article chunks, each engine first in turn)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

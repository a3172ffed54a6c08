"""This extractor against earlier revisions', in one process, on the same articles.

    python -m bench.compare_extractors --rev c7255a1 [--rev 1809a04 ...] [--n 3000] [--rounds 3] [--chunk 150]
        [--texts generated|shared]

`--texts shared` reads the real articles of ../shared/corpus (with their publication date and
URL) instead of generated ones; `--rounds 1` times the first pass only (no engine has seen the
texts: the warm passes after it flatter the per-text caches).

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
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_revision(rev: str, into: Path, name: str = "baseline_extract"):
    """`qpan/extract` at `rev` as the package `name` (its absolute imports of `qpan.core.config`
    resolve to this checkout's, which only gives the repository root)."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "qpan/extract"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into / name, filter="data")
    (into / name / "qpan" / "extract").rename(into / name / name)
    # a revision before the package layout (issue 26) imports qpan's core modules by their flat names
    for flat in ("config", "settings", "db", "compiled_cache"):
        sys.modules.setdefault(f"qpan.{flat}", importlib.import_module(f"qpan.core.{flat}"))
    sys.path.insert(0, str(into / name))
    return importlib.import_module(name)


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", required=True, action="append", help="an earlier revision (a commit, tag or branch); repeatable")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=150)
    ap.add_argument("--texts", choices=("generated", "shared"), default="generated")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.corpus import iter_corpus, parse_page
    from qpan.extract import EXTRACTOR_VERSION, extract_article

    with tempfile.TemporaryDirectory() as tmp:
        olds = {rev: load_revision(rev, Path(tmp), f"baseline_extract_{i}") for i, rev in enumerate(a.rev)}
        if a.texts == "shared":
            arts = shared_articles()
            calls = {"this": lambda t, b, p, u: extract_article(t, b, p, None, url=u)}
            for rev, m in olds.items():  # rules-1.0 has no url parameter: it is given the date only
                with_url = "url" in inspect.signature(m.extract_article).parameters
                calls[rev] = (lambda f, w: (lambda t, b, p, u: f(t, b, p, None, url=u) if w else f(t, b, p, None)))(
                    m.extract_article, with_url)
        else:
            arts = [(x.title, x.body_text, x.published_at, x.source_unit_id)
                    for x in (parse_page(p) for p in iter_corpus(a.n, seed=7, start=0))]
            calls = {"this": lambda t, b, p, u: extract_article(t, b, published_at=p, source_unit_id=u)}
            for rev, m in olds.items():
                calls[rev] = (lambda f: (lambda t, b, p, u: f(t, b, published_at=p, source_unit_id=u)))(m.extract_article)
        for f in calls.values():
            f("warm up", "Năm 2023, huyện giao 100 tân binh.", None, None)
        cpu = dict.fromkeys(calls, 0.0)
        names = list(calls)
        for r in range(a.rounds):
            for i in range(0, len(arts), a.chunk):
                chunk = arts[i:i + a.chunk]
                shift = (i // a.chunk + r) % len(names)  # each engine goes first in turn
                for name in names[shift:] + names[:shift]:
                    f = calls[name]
                    c0 = time.process_time()
                    for art in chunk:
                        f(*art)
                    cpu[name] += time.process_time() - c0
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

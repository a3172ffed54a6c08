"""This extractor against an earlier revision's, in one process, on the same articles.

    python -m bench.compare_extractors --rev c7255a1 [--n 3000] [--rounds 3] [--chunk 150]

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
import io
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_revision(rev: str, into: Path):
    """`qpan/extract` at `rev` as the package `baseline_extract` (its absolute imports of
    `qpan.config` resolve to this checkout's, which only gives the repository root)."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "qpan/extract"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    (into / "qpan" / "extract").rename(into / "baseline_extract")
    sys.path.insert(0, str(into))
    return importlib.import_module("baseline_extract")


def corpus_f1(extract, with_url: bool) -> float:
    from qpan.config import SHARED_DIR
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
    ap.add_argument("--rev", required=True, help="the earlier revision (a commit, tag or branch)")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=150)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from bench.corpus import iter_corpus, parse_page
    from qpan.extract import EXTRACTOR_VERSION, extract_article

    with tempfile.TemporaryDirectory() as tmp:
        old = load_revision(a.rev, Path(tmp))
        arts = [parse_page(p) for p in iter_corpus(a.n, seed=7, start=0)]
        engines = {"this": extract_article, a.rev: old.extract_article}
        for f in engines.values():
            f("warm up", "Năm 2023, huyện giao 100 tân binh.")
        cpu = dict.fromkeys(engines, 0.0)
        for r in range(a.rounds):
            for i in range(0, len(arts), a.chunk):
                chunk = arts[i:i + a.chunk]
                order = list(engines) if (i // a.chunk + r) % 2 == 0 else list(reversed(engines))
                for name in order:
                    f = engines[name]
                    c0 = time.process_time()
                    for art in chunk:
                        f(art.title, art.body_text, published_at=art.published_at, source_unit_id=art.source_unit_id)
                    cpu[name] += time.process_time() - c0
        n = a.rounds * len(arts)
        rate = {k: n / v for k, v in cpu.items()}
        f1_new, f1_old = corpus_f1(extract_article, True), corpus_f1(old.extract_article, False)
        print("| engine | articles/s/core | F1 on ../shared/corpus |\n|---|---:|---:|")
        print(f"| this ({EXTRACTOR_VERSION}) | {rate['this']:,.0f} | {f1_new:.3f} |")
        print(f"| {a.rev} ({old.EXTRACTOR_VERSION}) | {rate[a.rev]:,.0f} | {f1_old:.3f} |")
        print(f"\nthis / {a.rev}: {rate['this'] / rate[a.rev]:.2f}x the throughput ({n:,} extractions each, "
              f"{a.chunk}-article chunks alternating)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

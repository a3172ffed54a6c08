"""Parse throughput of each template parser vs trafilatura.extract on the same pages.

    python bench/bench_parse.py [--seconds 2]

Single thread (pages/s/core), on the committed sample pages (fixtures/portal). Prints a
markdown table; the goal is each template parser >= 10x trafilatura.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402

from scrapers.templates import parse_article  # noqa: E402

FIX = REPO / "fixtures" / "portal"
TEMPLATE = {"thoxuan": "thanhhoa_portal", "ngoclac": "thanhhoa_portal", "baothanhhoa": "baothanhhoa",
            "dangcongsan": "dangcongsan"}


def pages():
    m = json.loads((FIX / "manifest.json").read_text(encoding="utf-8"))
    out = {}
    for meta in m["seeds"].values():
        site = meta["site"]
        if site not in TEMPLATE:
            continue
        html = (FIX / m["sites"][site]["routes"][meta["path"]]["file"]).read_text(encoding="utf-8")
        label = TEMPLATE[site] + (" (old layout)" if "/portal/Pages/" in meta["path"] else
                                  " (new layout)" if site == "thoxuan" else
                                  " (obfuscated)" if "data-obf" in html else "")
        out[label] = (TEMPLATE[site], html, "http://sample" + meta["path"])
    return out


def rate(fn, seconds):
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        el = time.perf_counter() - t0
        if el >= seconds and n >= 3:
            return n / el


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args(argv)
    print("| page | template parser (pages/s/core) | trafilatura.extract (pages/s/core) | speed-up |")
    print("|---|---:|---:|---:|")
    for label, (tmpl, html, url) in sorted(pages().items()):
        ours = rate(lambda tmpl=tmpl, html=html, url=url: parse_article(tmpl, html, url, source="bench"), args.seconds)
        traf = rate(lambda html=html, url=url: trafilatura.extract(html, url=url, with_metadata=True), args.seconds)
        print(f"| {label} ({len(html) // 1024} KiB) | {ours:,.0f} | {traf:,.0f} | {ours / traf:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

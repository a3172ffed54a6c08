"""Crawl wall-time on the local portal server vs the politeness bound.

    python bench/bench_crawl.py [--delay 0.25] [--latency 0.05] [--postgres]

Crawls all sample sources (5 loopback hosts, one thread per host) with `delay` between
requests to a host and `latency` injected per response. The politeness bound is
max over hosts of (requests to the host - 1) x delay: a polite crawler cannot be faster, a
good one should be close to it (goal: within 10%). By default the store is in memory (the
crawl's own cost); --postgres lands into a fresh database on the embedded server.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scrapers.crawl import crawl  # noqa: E402
from scrapers.portal_server import PortalServer  # noqa: E402
from scrapers.registry import load_registry  # noqa: E402


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self):
        return self.rows


class MemoryStore:
    """The PostgresStore interface, in memory (benchmarks only)."""

    def __init__(self):
        self.pages, self.articles, self.quarantined, self.validators_ = {}, {}, {}, {}
        self.hwm = {}
        self.conn = self

    def execute(self, sql, params=()):
        url = params[0]
        if "from raw.pages" in sql:
            hit = [(b, h) for (u, _), (s, h, b) in self.pages.items() if u == url and s == 200]
            return _Rows(hit[-1:])
        if "from raw.articles" in sql:
            a = self.articles.get(url)
            return _Rows([(a.content_hash,)] if a else [])
        return _Rows([])

    def save_page(self, source, url, status, headers, body, fetched_at=None):
        d = hashlib.sha256(body).hexdigest()
        self.pages[(url, d)] = (status, headers, body)
        return d

    def save_article(self, art):
        new = art.url not in self.articles
        self.articles[art.url] = art
        return new

    def known_urls(self, source):
        return {u for u, a in self.articles.items() if a.source == source}

    def quarantine(self, stage, source, url, reason, detail=None, payload=None):
        self.quarantined[(stage, url, reason)] = detail

    def resolve_quarantine(self, stage, url):
        pass

    def validators(self, url):
        return self.validators_.get(url)

    def set_validators(self, url, etag, lm):
        if etag or lm:
            self.validators_[url] = (etag, lm)

    def high_water_mark(self, source):
        return self.hwm.get(source)

    def set_high_water_mark(self, source, mark, status="ok"):
        if mark and (source not in self.hwm or mark > self.hwm[source]):
            self.hwm[source] = mark

    def mark_removed(self, url, at=None):
        pass

    def close(self):
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delay", type=float, default=0.25)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--postgres", action="store_true")
    args = ap.parse_args(argv)
    with PortalServer(latency=args.latency) as srv:
        os.environ.update(srv.env())
        text = (REPO / "scrapers" / "sample_sources.yml").read_text(encoding="utf-8")
        text = text.replace("delay: 0.2,", f"delay: {args.delay},")
        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / "sources.yml"
            p.write_text(text, encoding="utf-8")
            registry = load_registry(p)
        if args.postgres:
            from qpan.core import config, db, pgserver
            from qpan.landing.store import PostgresStore

            os.environ.pop("QPAN_DATABASE_URL", None)
            pgserver.start()
            name = f"qpan_bench_{uuid.uuid4().hex[:6]}"
            os.environ["QPAN_DATABASE_URL"] = config.database_url(config.ADMIN_ROLE, dbname=name)
            db.migrate()
            store = PostgresStore()
        else:
            store = MemoryStore()
        for run in ("first run", "rerun (conditional GET)"):
            srv.reset_log()
            t0 = time.monotonic()
            res = crawl(registry, store)
            wall = time.monotonic() - t0
            per_host = {}
            for r in srv.requests:
                per_host[r["site"]] = per_host.get(r["site"], 0) + 1
            bound = max((n - 1) * args.delay for n in per_host.values()) + args.latency  # + the last response
            span = max(r["end"] for r in srv.requests) - min(r["start"] for r in srv.requests)
            print(f"\n### {run}: delay {args.delay}s, latency {args.latency}s, store {'postgres' if args.postgres else 'memory'}")
            print("| host | requests | host bound (s) |")
            print("|---|---:|---:|")
            for site, n in sorted(per_host.items()):
                print(f"| {site} | {n} | {(n - 1) * args.delay:.2f} |")
            print(f"\nbound = max over hosts of (requests - 1) x delay + latency = {bound:.2f}s")
            print(f"- wall (crawl() call, incl. HTTP client start-up) {wall:.2f}s -> {wall / bound:.2f}x ({(wall / bound - 1) * 100:+.0f}%)")
            print(f"- span (first request to last response) {span:.2f}s -> {span / bound:.2f}x ({(span / bound - 1) * 100:+.0f}%)")
            print(f"- articles new {sum(s.articles_new for s in res.values())}, 304s {sum(s.not_modified for s in res.values())}")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

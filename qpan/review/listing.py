"""`qpan review list`: what to review, lowest confidence and conflicts first, with everything a
reviewer needs to decide (value, sentence, title, URL, date) and the live review status; and
the orphaned decisions (their fact no longer exists), which are kept and shown, never dropped."""
from __future__ import annotations

import psycopg

from qpan.review.store import CURRENT_DECISIONS, CURRENT_MENTIONS

STATUS_SQL = """case d.decision when 'reject' then 'rejected-hidden' when 'correct' then 'corrected'
    when 'add' then 'added' when 'confirm' then
        case when exists (select 1 from review.decisions x where x.review_key = d.review_key and x.decision = 'add')
             then 'added' else 'confirmed' end
    else 'unreviewed' end"""

# The published facts (fct_indicator_mentions: lineage, conflicts) with the decisions recorded
# since (live, before the next transform applies them), the rejected ones, hidden from marts, and
# the added ones no transform has built yet. `pending`: the live status is not yet the published one.
LIST_SQL = f"""
with d as ({CURRENT_DECISIONS}),
published as (
    select m.review_key as fact_id, m.indicator_code as indicator, m.value, m.comparator, m.unit_id, m.period,
           m.period_start_year, m.period_end_year, m.confidence, coalesce(f.has_conflict, false) as has_conflict,
           m.evidence, m.evidence_paragraph as sentence, m.article_title as title, m.article_url as url,
           m.published_date, m.original_value, m.review_status as published_status
    from marts.fct_indicator_mentions m
    left join marts.fct_indicator_facts f on f.fact_id = m.fact_id
),
rejected as (
    select d.review_key as fact_id, d.indicator, d.old_value as value, '=' as comparator, d.old_unit_id as unit_id,
           d.old_period as period, split_part(d.old_period, '/', 1)::int as period_start_year,
           coalesce(nullif(split_part(d.old_period, '/', 2), ''), d.old_period)::int as period_end_year,
           null::real as confidence, false as has_conflict, d.evidence, d.evidence as sentence,
           a.title, d.article_url as url, (a.published_at at time zone 'Asia/Ho_Chi_Minh')::date as published_date,
           null::numeric as original_value, 'rejected-hidden' as published_status
    from d left join raw.articles a on a.url = d.article_url
    where d.decision = 'reject' and d.old_period is not null
      and d.review_key not in (select published.fact_id from published)
),
added_pending as (
    select d.review_key as fact_id, d.new_indicator as indicator, d.new_value as value, '=' as comparator,
           d.new_unit_id as unit_id, d.new_period as period, split_part(d.new_period, '/', 1)::int as period_start_year,
           coalesce(nullif(split_part(d.new_period, '/', 2), ''), d.new_period)::int as period_end_year,
           null::real as confidence, false as has_conflict, d.evidence, d.evidence as sentence,
           a.title, d.article_url as url, (a.published_at at time zone 'Asia/Ho_Chi_Minh')::date as published_date,
           null::numeric as original_value, null::text as published_status
    from d left join raw.articles a on a.url = d.article_url
    where d.decision <> 'reject' and d.new_period is not null
      and exists (select 1 from review.decisions x where x.review_key = d.review_key and x.decision = 'add')
      and d.review_key not in (select published.fact_id from published)
)
select p.*, {STATUS_SQL} as review_status, p.published_status is distinct from {STATUS_SQL} as pending,
       d.note, d.decided_by, d.decided_at
from (select * from published union all select * from rejected union all select * from added_pending) p
left join d on d.review_key = p.fact_id
where (%(indicator)s::text is null or p.indicator = %(indicator)s)
  and (%(unit)s::text is null or p.unit_id = %(unit)s)
  and (%(year)s::int is null or %(year)s between p.period_start_year and p.period_end_year)
  and (not %(conflicts)s or p.has_conflict)
  and (%(below)s::real is null or p.confidence < %(below)s)
  and (%(status)s::text is null or {STATUS_SQL} = %(status)s)
order by p.has_conflict desc, p.confidence asc nulls last, p.published_date desc nulls last, p.fact_id
limit %(limit)s
"""

ORPHANS_SQL = f"""
with d as ({CURRENT_DECISIONS}),
current_keys as ({CURRENT_MENTIONS})
select d.review_key as fact_id, d.decision, {STATUS_SQL} as review_status, d.article_url as url, d.indicator,
       d.evidence, d.span_start, d.span_end, d.note, d.decided_by, d.decided_at,
       case when a.url is null then 'article not in the warehouse'
            else 'no mention at this span in the current extraction' end as orphan_reason
from d
left join raw.articles a on a.url = d.article_url and not a.synthetic
where a.url is null
   or (not exists (select 1 from review.decisions x where x.review_key = d.review_key and x.decision = 'add')
       and not exists (select 1 from current_keys c where c.review_key = d.review_key))
order by d.decided_at, d.review_key
"""


def list_facts(conn: psycopg.Connection, *, indicator=None, unit=None, year=None, status=None, conflicts=False,
               below=None, limit=50) -> list[dict]:
    exists = conn.execute("select to_regclass('marts.fct_indicator_mentions') is not null as ok").fetchone()
    if not exists["ok"]:
        raise RuntimeError("no published marts yet: run `qpan run` (or the qpan_transform DAG) first")
    return conn.execute(LIST_SQL, {"indicator": indicator, "unit": unit, "year": year, "status": status,
                                   "conflicts": conflicts, "below": below, "limit": limit}).fetchall()


def orphans(conn: psycopg.Connection) -> list[dict]:
    return conn.execute(ORPHANS_SQL).fetchall()

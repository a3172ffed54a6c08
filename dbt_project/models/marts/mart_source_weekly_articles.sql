{#
    Grain: one row per (source, week_start) with at least one article: how many (non-synthetic,
    not removed) articles the source published that week (local time, weeks start on Monday).
    The report's "Sources" panel draws each source's trend from it: a source going silent shows
    as weeks without a row.
#}
select
    source || '@' || date_trunc('week', published_date)::date::text as source_week_key,
    source,
    date_trunc('week', published_date)::date as week_start,
    count(*) as articles
from {{ ref('stg_raw__articles') }}
where
    not is_synthetic
    and removed_at is null
    and published_date is not null
group by source, date_trunc('week', published_date)::date

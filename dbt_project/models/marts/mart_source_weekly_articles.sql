{#
    Grain: one row per (source, week_start) from the source's first week with an article to the
    last week any source published in: how many (non-synthetic, not removed) articles the source
    published that week (local time, weeks start on Monday). A week without articles is a row
    with 0 (a date spine), so the report's "Sources" panel draws a quiet week as a zero, not as a
    line from the week before to the week after, and a source going silent shows as its zeros.
#}
with articles as (
    select
        source,
        date_trunc('week', published_date)::date as week_start
    from {{ ref('stg_raw__articles') }}
    where
        not is_synthetic
        and removed_at is null
        and published_date is not null
),

weekly as (
    select
        source,
        week_start,
        count(*) as articles
    from articles
    group by source, week_start
),

bounds as (
    select
        source,
        min(week_start) as first_week,
        (select max(all_articles.week_start) from articles as all_articles) as last_week
    from articles
    group by source
),

spine as (
    select
        bounds.source,
        weeks.week_start::date as week_start
    from bounds
    cross join
        lateral generate_series(bounds.first_week, bounds.last_week, interval '1 week') as weeks (week_start)
)

select
    spine.source || '@' || spine.week_start::text as source_week_key,
    spine.source,
    spine.week_start,
    coalesce(weekly.articles, 0) as articles
from spine
left join weekly
    on spine.source = weekly.source and spine.week_start = weekly.week_start

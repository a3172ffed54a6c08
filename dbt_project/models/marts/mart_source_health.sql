{#
    Grain: one row per (source, run_date): the source's last crawl of that day (UTC, as every run
    time of qpan; the articles' publication dates are local, Asia/Ho_Chi_Minh), as
    judged by qpan.health when it ran (audit.crawl_runs): what it fetched, what failed and why, and
    its status. A nightly schedule crawls once a day; a day with several crawls (a retry, a
    manual run) keeps the last one, which is the state the day ended in.
#}
with runs as (
    select
        *,
        row_number() over (
            partition by source, run_date order by started_at desc, crawl_id desc
        ) as nth_of_day,
        count(*) over (partition by source, run_date) as crawls_that_day
    from {{ ref('stg_audit__crawl_runs') }}
)

select
    source || '@' || run_date::text as source_day_key,
    source,
    run_date,
    crawl_id,
    run_id,
    started_at,
    crawls_that_day,
    list_pages,
    article_pages,
    articles_landed,
    articles_updated,
    parse_failures,
    parse_failures_by_reason,
    failing_selectors,
    quarantined,
    parse_attempts + http_errors as pages_handled,
    quarantine_rate,
    http_errors,
    http_errors_by_class,
    coalesce((http_errors_by_class ->> '4xx')::integer, 0) as http_4xx,
    coalesce((http_errors_by_class ->> '403')::integer, 0)
    + coalesce((http_errors_by_class ->> '429')::integer, 0) as http_403_429,
    coalesce((http_errors_by_class ->> '5xx')::integer, 0) as http_5xx,
    coalesce((http_errors_by_class ->> 'timeout')::integer, 0)
    + coalesce((http_errors_by_class ->> 'network')::integer, 0) as network_errors,
    robots_refusals,
    median_response_ms,
    newest_article_at,
    (newest_article_at at time zone '{{ var("local_timezone") }}')::date as newest_article_date,
    days_since_new_article,
    usual_gap_days,
    silent_after_days,
    status,
    status_reason,
    status in ('failing', 'drift') as needs_attention
from runs
where nth_of_day = 1

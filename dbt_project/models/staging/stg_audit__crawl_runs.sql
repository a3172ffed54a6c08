with source as (
    select * from {{ source('audit', 'crawl_runs') }}
)

select
    crawl_id,
    run_id,
    source,
    started_at,
    finished_at,
    -- run times are UTC (the header of the report, the logs, Airflow); publication dates are local
    (started_at at time zone 'UTC')::date as run_date,
    list_pages,
    article_pages,
    articles_landed,
    articles_updated,
    parse_attempts,
    parse_failures,
    parse_failures_by_reason,
    failing_selectors,
    quarantined,
    quarantine_rate,
    requests,
    http_errors,
    http_errors_by_class,
    robots_refusals,
    median_response_ms,
    newest_article_at,
    last_new_article_at,
    days_since_new_article,
    usual_gap_days,
    silent_after_days,
    status,
    status_reason
from source

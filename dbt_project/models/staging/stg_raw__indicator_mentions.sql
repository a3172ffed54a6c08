with source as (
    select * from {{ source('raw', 'indicator_mentions') }}
)

select
    mention_id,
    article_id,
    extractor_version,
    indicator as indicator_code,
    value,
    value_type,
    comparator,
    unit_id,
    period,
    -- 'YYYY' or 'YYYY/YYYY': raw.indicator_mentions refuses anything else (check constraint)
    case
        when period ~ '^[0-9]{4}(/[0-9]{4})?$'
            then split_part(period, '/', 1)::integer
    end as period_start_year,
    case
        when period ~ '^[0-9]{4}(/[0-9]{4})?$'
            then coalesce(nullif(split_part(period, '/', 2), ''), split_part(period, '/', 1))::integer
    end as period_end_year,
    qualifiers,
    -- jsonb's text form is canonical (keys sorted, whitespace normalised): a stable grouping key
    qualifiers::text as qualifiers_key,
    evidence,
    span_start,
    span_end,
    confidence,
    extracted_at,
    -- stored at landing (raw.set_mention_review_key): the key review decisions match on
    review_key
from source

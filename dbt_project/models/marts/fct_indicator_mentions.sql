{#
    Grain: one row per mention that counts (latest extractor version of each non-synthetic
    article): the lineage of every fact back to its article URL, title and evidence text.
#}
with mentions as (
    select * from {{ ref('int_indicator_mentions__enriched') }}
)

select
    mention_id,
    fact_id,
    article_id,
    extractor_version,
    indicator_code,
    value,
    value_type,
    comparator,
    unit_id,
    unit_version_key,
    unit_match,
    period,
    period_start_year,
    period_end_year,
    qualifiers,
    evidence,
    span_start,
    span_end,
    confidence,
    extracted_at,
    source,
    article_url,
    article_title,
    published_at,
    published_date,
    source_unit_id,
    article_removed_at,
    article_removed_at is not null as is_article_removed
from mentions

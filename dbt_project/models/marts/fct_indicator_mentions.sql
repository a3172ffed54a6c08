{#
    Grain: one row per mention that counts (latest extractor version of each non-synthetic
    article): the lineage of every fact back to its article URL, title and evidence text.

    Incremental, by article, because it is the largest mart: the articles in the change log
    (int_articles__changed) after this table's newest processed_at lose their rows in a
    pre-hook and get back their current ones from the enriched model (none for a deleted,
    synthetic or quarantined article). That holds whatever version of the table it starts from: the
    publish step swaps the validated candidate into `marts` and hands the previous marts back
    as the next candidate, which catches up here. `--full-refresh` gives the same rows.
    delete+insert by mention_id, not append: after the pre-hook the newest processed_at left
    may be older, and the wider delta selected then overlaps rows still here.
#}
-- depends_on: {{ ref('int_articles__changed') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        unique_key='mention_id',
        indexes=[
            {'columns': ['mention_id'], 'unique': True},
            {'columns': ['article_id']},
            {'columns': ['fact_id']},
            {'columns': ['processed_at']},
            {'columns': ['review_key']},
        ],
        pre_hook=["{{ delete_changed_articles() }}"],
        post_hook=["{{ analyze_after_full_refresh() }}"],
    )
}}

with mentions as (
    select * from {{ ref('int_indicator_mentions__enriched') }}
    {% if is_incremental() %}
        where processed_at > (select coalesce(max(previous.processed_at), '-infinity') from {{ this }} as previous)
    {% endif %}
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
    evidence_paragraph,
    evidence_paragraph_offset,
    span_start,
    span_end,
    confidence,
    extracted_at,
    review_key,
    review_status,
    review_decision_id,
    original_indicator_code,
    original_value,
    original_unit_id,
    original_period,
    source,
    article_url,
    article_title,
    published_at,
    published_date,
    source_unit_id,
    article_removed_at,
    article_removed_at is not null as is_article_removed,
    processed_at
from mentions

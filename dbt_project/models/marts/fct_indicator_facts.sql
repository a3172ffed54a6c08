{#
    Grain: one row per consolidated fact = (indicator_code, unit_id, period, qualifiers).
    fact_id = md5 of that key. Synthetic articles never contribute.

    Incremental (delete+insert by fact_id): the facts the consolidation recomputed after this
    table's newest consolidated_at come in; a post-hook deletes the facts that no longer
    exist. Like fct_indicator_mentions, it catches up from whichever marts version the publish
    swap handed back. A change of the indicator or unit seeds makes qpan rebuild it in full
    (qpan.transform.warehouse.build), since every row joins them. Its columns are a contract
    (_marts__models.yml): a table found with other columns stops the build (on_schema_change).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        unique_key='fact_id',
        indexes=[
            {'columns': ['fact_id'], 'unique': True},
            {'columns': ['consolidated_at']},
        ],
        post_hook=[
            "{{ analyze_after_full_refresh() }}",
            "delete from {{ this }} as t where not exists (
                select 1 from {{ ref('int_indicator_facts__consolidated') }} as f
                where f.fact_id = t.fact_id
            )"
        ],
    )
}}

with facts as (
    select * from {{ ref('int_indicator_facts__consolidated') }}
    {% if is_incremental() %}
        where consolidated_at
            > (select coalesce(max(previous.consolidated_at), '-infinity') from {{ this }} as previous)
    {% endif %}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

units as (
    select * from {{ ref('dim_admin_unit') }}
)

select
    facts.fact_id,
    facts.indicator_code,
    indicators.name_vi as indicator_name_vi,
    indicators.name_en as indicator_name_en,
    indicators.measure_unit,
    indicators.is_additive,
    facts.unit_id,
    facts.unit_version_key,
    facts.unit_match,
    units.level as unit_level,
    units.unit_full_name,
    units.province_id,
    units.current_province_id,
    facts.period,
    facts.period_start_year,
    facts.period_end_year,
    facts.period_start_year = facts.period_end_year as is_single_year,
    facts.period_start_date,
    facts.period_end_date,
    facts.qualifiers,
    facts.qualifiers_key,
    facts.qualifiers = '{}'::jsonb as is_headline,
    -- the award statement's qualifiers as columns, so that a BI tool groups awards by body without SQL
    facts.qualifiers ->> 'awarded_by' as awarded_by,
    facts.qualifiers ->> 'field' as award_field,
    facts.value_type,
    facts.value,
    case when facts.value_type = 'boolean' then facts.value = 1 end as value_boolean,
    facts.comparator,
    facts.value_rule,
    facts.value_mention_id,
    -- the calibrated probability that the value's mention is right (1 once a person confirmed,
    -- corrected or added it): the BI tool and the report can hide or flag the uncertain facts
    facts.value_confidence as confidence,
    facts.value_article_url,
    facts.review_status,
    facts.value_original,
    facts.value_original_indicator_code,
    facts.value_original_unit_id,
    facts.value_original_period,
    facts.n_reviewed_mentions,
    round(facts.n_reviewed_mentions::numeric / nullif(facts.n_mentions, 0), 4) as reviewed_share,
    -- the sentence that gives value, beside its URL (a BI table shows the evidence without unpacking JSON)
    (
        select item ->> 'evidence'
        from jsonb_array_elements(facts.evidence) as item
        where item ->> 'mention_id' = facts.value_mention_id::text
    ) as value_evidence,
    facts.has_conflict,
    facts.distinct_values,
    facts.n_distinct_values,
    facts.min_value,
    facts.max_value,
    facts.n_mentions,
    facts.n_articles,
    facts.n_sources,
    facts.sources,
    facts.first_reported_at,
    facts.last_reported_at,
    facts.first_reported_date,
    facts.last_reported_date,
    facts.evidence,
    facts.consolidated_at
from facts
left join indicators on facts.indicator_code = indicators.indicator_code
left join units on facts.unit_version_key = units.unit_version_key

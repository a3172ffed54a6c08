{#
    One row per fact: the same indicator, unit, period and qualifiers reported by one or more
    mentions (articles, sources). Values are never averaged:
      value rule: the value of the most recently published mention (ties: higher confidence,
      then the later article and mention); all distinct values are kept in `distinct_values`
      and `has_conflict` is true when they differ.

    Incremental (delete+insert by fact_id): facts touched by mentions processed since the
    last build, or that lost a mention, are recomputed from all their mentions; a post-hook
    deletes facts that have no mention left. `--full-refresh` gives the same rows.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='fact_id',
        indexes=[{'columns': ['fact_id'], 'unique': True}],
        post_hook=[
            "delete from {{ this }} as t where not exists (
                select 1 from {{ ref('int_indicator_mentions__enriched') }} as m
                where m.fact_id = t.fact_id
            )"
        ],
    )
}}

with mentions as (
    select * from {{ ref('int_indicator_mentions__enriched') }}
),

{% if is_incremental() %}
    affected_facts as (
        select mentions.fact_id
        from mentions
        where mentions.processed_at > (select max(facts.last_processed_at) from {{ this }} as facts)
        union
        select facts.fact_id
        from {{ this }} as facts
        cross join lateral unnest(facts.mention_ids) as facts_mention (mention_id)
        where not exists (
                select 1 from mentions
                where mentions.mention_id = facts_mention.mention_id
            )
    ),
{% endif %}

scoped as (
    select
        mentions.*,
        row_number() over (
            partition by mentions.fact_id
            order by
                mentions.published_at desc nulls last,
                mentions.confidence desc,
                mentions.article_id desc,
                mentions.mention_id desc
        ) as recency_rank
    from mentions
    {% if is_incremental() %}
        where mentions.fact_id in (select affected_facts.fact_id from affected_facts)
    {% endif %}
),

aggregated as (
    select
        fact_id,
        count(*) as n_mentions,
        count(distinct article_id) as n_articles,
        count(distinct source) as n_sources,
        array_agg(distinct source order by source) as sources,
        array_agg(distinct value order by value) as distinct_values,
        count(distinct value) as n_distinct_values,
        min(value) as min_value,
        max(value) as max_value,
        min(published_at) as first_reported_at,
        max(published_at) as last_reported_at,
        min(published_date) as first_reported_date,
        max(published_date) as last_reported_date,
        array_agg(mention_id order by mention_id) as mention_ids,
        jsonb_agg(
            jsonb_build_object(
                'mention_id', mention_id,
                'article_id', article_id,
                'source', source,
                'url', article_url,
                'published_date', published_date,
                'value', value,
                'comparator', comparator,
                'evidence', evidence
            )
            order by published_at desc nulls last, mention_id asc
        ) as evidence,
        max(processed_at) as last_processed_at
    from scoped
    group by fact_id
),

chosen as (
    select * from scoped
    where recency_rank = 1
)

select
    chosen.fact_id,
    chosen.indicator_code,
    chosen.unit_id,
    chosen.unit_version_key,
    chosen.unit_match,
    chosen.period,
    chosen.period_start_year,
    chosen.period_end_year,
    chosen.period_start_date,
    chosen.period_end_date,
    chosen.qualifiers,
    chosen.qualifiers_key,
    chosen.value_type,
    chosen.value,
    chosen.comparator,
    chosen.mention_id as value_mention_id,
    chosen.article_url as value_article_url,
    'most_recently_reported' as value_rule,
    aggregated.n_distinct_values > 1 as has_conflict,
    aggregated.distinct_values,
    aggregated.n_distinct_values,
    aggregated.min_value,
    aggregated.max_value,
    aggregated.n_mentions,
    aggregated.n_articles,
    aggregated.n_sources,
    aggregated.sources,
    aggregated.first_reported_at,
    aggregated.last_reported_at,
    aggregated.first_reported_date,
    aggregated.last_reported_date,
    aggregated.evidence,
    aggregated.mention_ids,
    aggregated.last_processed_at
from chosen
inner join aggregated on chosen.fact_id = aggregated.fact_id

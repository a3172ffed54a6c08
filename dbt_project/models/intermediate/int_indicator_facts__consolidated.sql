{#
    One row per fact: the same indicator, unit, period and qualifiers reported by one or more
    mentions (articles, sources). Values are never averaged:
      value rule: the value of the most recently published mention (ties: higher confidence,
      then the later article and mention); all distinct values are kept in `distinct_values`
      and `has_conflict` is true when they differ. A mention a person reviewed (confirmed,
      corrected or added: review_status) ranks above every unreviewed one, so when sources
      disagree the reviewed value wins. `evidence` lists the var
      fact_evidence_limit most recent mentions (all of them are in fct_indicator_mentions).

    Incremental (delete+insert by fact_id), in work proportional to what changed, because a
    fact can have thousands of mentions:
      - a fact that only gained mentions since the last build (its mention count is its old
        count plus the new ones) is merged: old aggregates combined with the new mentions'
        (counts add up: a new mention's article was not in the fact before, otherwise its old
        mention would have been replaced, i.e. removed);
      - a new fact, or one that lost a mention (re-extraction, quarantine, deletion), is
        recomputed from all its mentions;
      - a post-hook deletes facts that have no mention left.
    `--full-refresh` gives the same rows (consolidated_at aside).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='fact_id',
        indexes=[{'columns': ['fact_id'], 'unique': True}, {'columns': ['consolidated_at']}],
        post_hook=[
            "{{ analyze_after_full_refresh() }}",
            "delete from {{ this }} as t where not exists (
                select 1 from {{ ref('int_indicator_mentions__enriched') }} as m
                where m.fact_id = t.fact_id
            )"
        ],
    )
}}

{%- set evidence_limit = var('fact_evidence_limit', 20) | int %}

-- not materialized: an incremental build reads only the changed facts' mentions, by index
with mentions as not materialized (
    select * from {{ ref('int_indicator_mentions__enriched') }}
),

{% if is_incremental() %}
    previous_build as (
        select coalesce(max(facts.last_processed_at), '-infinity'::timestamptz) as watermark
        from {{ this }} as facts
    ),

    new_mentions as not materialized (
        select mentions.*
        from mentions
        where mentions.processed_at > (select previous_build.watermark from previous_build)
    ),

    current_counts as (
        select
            mentions.fact_id,
            count(*) as n_mentions
        from mentions
        group by mentions.fact_id
    ),

    new_counts as (
        select
            new_mentions.fact_id,
            count(*) as n_mentions
        from new_mentions
        group by new_mentions.fact_id
    ),

    -- current = old + new - removed: a fact is recomputed in full when it is new or lost a mention
    recomputed_facts as (
        select new_counts.fact_id
        from new_counts
        left join {{ this }} as facts on new_counts.fact_id = facts.fact_id
        where facts.fact_id is null
        union
        select facts.fact_id
        from {{ this }} as facts
        left join new_counts on facts.fact_id = new_counts.fact_id
        left join current_counts on facts.fact_id = current_counts.fact_id
        where
            current_counts.fact_id is not null
            and facts.n_mentions + coalesce(new_counts.n_mentions, 0) <> current_counts.n_mentions
    ),

    scope as (
        select
            mentions.*,
            true as is_full
        from mentions
        where mentions.fact_id in (select recomputed_facts.fact_id from recomputed_facts)
        union all
        select
            new_mentions.*,
            false as is_full
        from new_mentions
        where new_mentions.fact_id not in (select recomputed_facts.fact_id from recomputed_facts)
    ),
{% else %}
    scope as (
        select
            mentions.*,
            true as is_full
        from mentions
    ),
{% endif %}

ranked as (
    select
        scope.*,
        row_number() over (
            partition by scope.fact_id
            order by
                scope.review_status <> 'unreviewed' desc,
                scope.published_at desc nulls last,
                scope.confidence desc,
                scope.article_id desc,
                scope.mention_id desc
        ) as recency_rank,
        row_number() over (
            partition by scope.fact_id
            order by scope.published_at desc nulls last, scope.mention_id asc
        ) as evidence_rank
    from scope
),

-- aggregates over the scope: all mentions of a recomputed fact, or the new ones of a merged fact
aggregated as (
    select
        fact_id,
        bool_and(is_full) as is_full,
        count(*) as n_mentions,
        count(*) filter (where review_status <> 'unreviewed') as n_reviewed_mentions,
        count(distinct article_id) as n_articles,
        array_agg(distinct source order by source) as sources,
        array_agg(distinct value order by value) as distinct_values,
        min(value) as min_value,
        max(value) as max_value,
        min(published_at) as first_reported_at,
        max(published_at) as last_reported_at,
        min(published_date) as first_reported_date,
        max(published_date) as last_reported_date,
        jsonb_agg(
            jsonb_build_object(
                'mention_id', mention_id,
                'article_id', article_id,
                'source', source,
                'url', article_url,
                'published_at', published_at,
                'published_date', published_date,
                'value', value,
                'comparator', comparator,
                'evidence', evidence
            )
            order by published_at desc nulls last, mention_id asc
        ) filter (where evidence_rank <= {{ evidence_limit }}) as evidence,
        max(processed_at) as last_processed_at
    from ranked
    group by fact_id
),

-- the mention that gives the fact its value, with what ranks it
chosen as (
    select
        fact_id,
        indicator_code,
        unit_id,
        unit_version_key,
        unit_match,
        period,
        period_start_year,
        period_end_year,
        period_start_date,
        period_end_date,
        qualifiers,
        qualifiers_key,
        value_type,
        value,
        comparator,
        mention_id as value_mention_id,
        article_url as value_article_url,
        published_at as value_published_at,
        confidence as value_confidence,
        article_id as value_article_id,
        review_status as value_review_status,
        original_value as value_original,
        original_indicator_code as value_original_indicator_code,
        original_unit_id as value_original_unit_id,
        original_period as value_original_period
    from ranked
    where recency_rank = 1
),

{% if is_incremental() %}
    -- merged facts: the old row's aggregates combined with the new mentions'
    merged_aggregates as (
        select
            new_part.fact_id,
            false as is_full,
            old.n_mentions + new_part.n_mentions as n_mentions,
            old.n_reviewed_mentions + new_part.n_reviewed_mentions as n_reviewed_mentions,
            old.n_articles + new_part.n_articles as n_articles,
            array(
                select distinct both_sources.source
                from unnest(old.sources || new_part.sources) as both_sources (source)
                order by both_sources.source
            ) as sources,
            array(
                select distinct both_values.value
                from unnest(old.distinct_values || new_part.distinct_values) as both_values (value)
                order by both_values.value
            ) as distinct_values,
            least(old.min_value, new_part.min_value) as min_value,
            greatest(old.max_value, new_part.max_value) as max_value,
            least(old.first_reported_at, new_part.first_reported_at) as first_reported_at,
            greatest(old.last_reported_at, new_part.last_reported_at) as last_reported_at,
            least(old.first_reported_date, new_part.first_reported_date) as first_reported_date,
            greatest(old.last_reported_date, new_part.last_reported_date) as last_reported_date,
            (
                select
                    jsonb_agg(
                        top.item
                        order by
                            (top.item ->> 'published_at')::timestamptz desc nulls last,
                            (top.item ->> 'mention_id')::bigint asc
                    )
                from (
                    select both_items.item
                    from jsonb_array_elements(old.evidence || new_part.evidence) as both_items (item)
                    order by
                        (both_items.item ->> 'published_at')::timestamptz desc nulls last,
                        (both_items.item ->> 'mention_id')::bigint asc
                    limit {{ evidence_limit }}
                ) as top
            ) as evidence,
            greatest(old.last_processed_at, new_part.last_processed_at) as last_processed_at
        from aggregated as new_part
        inner join {{ this }} as old on new_part.fact_id = old.fact_id
        where not new_part.is_full
    ),

    merged_chosen as (
        select distinct on (candidates.fact_id) candidates.*
        from (
            select
                fact_id,
                indicator_code,
                unit_id,
                unit_version_key,
                unit_match,
                period,
                period_start_year,
                period_end_year,
                period_start_date,
                period_end_date,
                qualifiers,
                qualifiers_key,
                value_type,
                value,
                comparator,
                value_mention_id,
                value_article_url,
                value_published_at,
                value_confidence,
                value_article_id,
                review_status as value_review_status,
                value_original,
                value_original_indicator_code,
                value_original_unit_id,
                value_original_period
            from {{ this }}
            where fact_id in (select merged_aggregates.fact_id from merged_aggregates)
            union all
            select chosen.*
            from chosen
            where chosen.fact_id in (select merged_aggregates.fact_id from merged_aggregates)
        ) as candidates
        order by
            candidates.fact_id asc,
            candidates.value_review_status <> 'unreviewed' desc,
            candidates.value_published_at desc nulls last,
            candidates.value_confidence desc,
            candidates.value_article_id desc,
            candidates.value_mention_id desc
    ),
{% endif %}

facts as (
    select
        chosen.*,
        aggregated.n_mentions,
        aggregated.n_reviewed_mentions,
        aggregated.n_articles,
        aggregated.sources,
        aggregated.distinct_values,
        aggregated.min_value,
        aggregated.max_value,
        aggregated.first_reported_at,
        aggregated.last_reported_at,
        aggregated.first_reported_date,
        aggregated.last_reported_date,
        aggregated.evidence,
        aggregated.last_processed_at
    from chosen
    inner join aggregated on chosen.fact_id = aggregated.fact_id
    where aggregated.is_full
    {% if is_incremental() %}
        union all
        select
            merged_chosen.*,
            merged_aggregates.n_mentions,
            merged_aggregates.n_reviewed_mentions,
            merged_aggregates.n_articles,
            merged_aggregates.sources,
            merged_aggregates.distinct_values,
            merged_aggregates.min_value,
            merged_aggregates.max_value,
            merged_aggregates.first_reported_at,
            merged_aggregates.last_reported_at,
            merged_aggregates.first_reported_date,
            merged_aggregates.last_reported_date,
            merged_aggregates.evidence,
            merged_aggregates.last_processed_at
        from merged_chosen
        inner join merged_aggregates on merged_chosen.fact_id = merged_aggregates.fact_id
    {% endif %}
)

select
    fact_id,
    indicator_code,
    unit_id,
    unit_version_key,
    unit_match,
    period,
    period_start_year,
    period_end_year,
    period_start_date,
    period_end_date,
    qualifiers,
    qualifiers_key,
    value_type,
    value,
    comparator,
    value_mention_id,
    value_article_url,
    value_published_at,
    value_confidence,
    value_article_id,
    value_review_status as review_status,
    value_original,
    value_original_indicator_code,
    value_original_unit_id,
    value_original_period,
    'most_recently_reported' as value_rule,
    cardinality(distinct_values) > 1 as has_conflict,
    distinct_values,
    cardinality(distinct_values) as n_distinct_values,
    min_value,
    max_value,
    n_mentions,
    n_reviewed_mentions,
    n_articles,
    cardinality(sources) as n_sources,
    sources,
    first_reported_at,
    last_reported_at,
    first_reported_date,
    last_reported_date,
    evidence,
    last_processed_at,
    current_timestamp as consolidated_at
from facts

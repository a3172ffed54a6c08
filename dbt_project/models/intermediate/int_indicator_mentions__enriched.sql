{#
    One row per mention that counts: latest extractor version of each non-synthetic article,
    with the article's URL, title, source and date, and the gazetteer version of its unit.

    Incremental, by article, in work proportional to what changed: an article in the change log
    (int_articles__changed: (re)loaded, (re)extracted, deleted, quarantined or released) after
    this table's newest processed_at loses its rows in a pre-hook and gets its current ones
    back, so a new extractor version, or a re-extraction that found nothing, replaces the old
    rows, and a deleted, synthetic or quarantined article or mention is gone.
    `--full-refresh` rebuilds from raw and gives the same rows (processed_at aside).
#}
-- depends_on: {{ ref('int_articles__changed') }}
-- depends_on: {{ source('raw', 'articles') }}, {{ source('raw', 'indicator_mentions') }}
-- depends_on: {{ source('raw', 'article_extractions') }}
{%- set counts_synthetic = var('include_synthetic') | string | lower in ['true', '1'] %}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        pre_hook=["{{ delete_changed_articles() }}"],
        post_hook=["{{ analyze_after_full_refresh() }}"],
        indexes=[
            {'columns': ['article_id']},
            {'columns': ['mention_id'], 'unique': True},
            {'columns': ['fact_id']},
            {'columns': ['processed_at']},
            {'columns': ['review_key']},
        ],
    )
}}

with
{% if is_incremental() %}
    -- the pre-hook removed these articles' rows; an emptier table only means a wider (still exact) set
    changed_articles as materialized (
        {{ articles_changed_since_this() }}
    ),
{% endif %}

-- not materialized: an incremental build reaches only the changed articles' rows, by index
articles as not materialized (
    select article.*
    from {{ ref('stg_raw__articles') }} as article
    where
        ({{ counts_synthetic }} or not article.is_synthetic)
        -- not exists, not `not in (subquery)`: an anti join, which no null in the subquery can empty
        and not exists (
            select 1 from {{ ref('int_quarantined_rows') }} as quarantined
            where quarantined.row_kind = 'article' and quarantined.row_id = article.article_id
        )
        {% if is_incremental() %}
            and article.article_id = any(array(select changed.article_id from changed_articles as changed))
        {% endif %}
),

-- the extractor's mentions with people's review decisions applied (rejected ones left out): a
-- table with statistics and an (article_id, extractor_version) index, so the joins below are
-- planned on real counts (over the former stack of views the planner saw 1 row: issue 31)
mentions as not materialized (
    select reviewed.*
    from {{ ref('int_indicator_mentions__reviewed') }} as reviewed
    where
        not exists (
            select 1 from {{ ref('int_quarantined_rows') }} as quarantined
            where quarantined.row_kind = 'mention' and quarantined.row_id = reviewed.mention_id
        )
        {% if is_incremental() %}
            and reviewed.article_id = any(array(select changed.article_id from changed_articles as changed))
        {% endif %}
),

-- only the latest extractor version of an article counts (the loader already deletes older ones)
latest_version as (
    select distinct on (article_id)
        article_id,
        extractor_version
    from mentions
    where extractor_version <> 'review'
    order by article_id asc, extracted_at desc, extractor_version desc
),

-- facts people added (extractor_version 'review') count whatever version the extractor is at
current_mentions as (
    select mentions.*
    from mentions
    inner join latest_version
        on
            mentions.article_id = latest_version.article_id
            and mentions.extractor_version = latest_version.extractor_version
    union all
    select mentions.*
    from mentions
    where mentions.extractor_version = 'review'
),

joined as (
    select
        current_mentions.*,
        articles.source,
        articles.url as article_url,
        articles.title as article_title,
        articles.published_at,
        articles.published_date,
        articles.source_unit_id,
        articles.removed_at as article_removed_at,
        articles.loaded_at as article_loaded_at,
        -- the evidence's paragraph (spans index title || newline || body): the text from the last
        -- line break before the span, and from the span to the next one, each at most 600
        -- characters away, so the stored text shows the sentence in context after the page is gone
        substring(
            substr(
                articles.title || E'\n' || articles.body_text,
                greatest(1, current_mentions.span_start - 599),
                least(current_mentions.span_start, 600)
            ) from '[^\n]*$'
        ) as paragraph_head,
        substring(
            substr(
                articles.title || E'\n' || articles.body_text,
                current_mentions.span_start + 1,
                current_mentions.span_end - current_mentions.span_start + 600
            ) from '^[^\n]*'
        ) as paragraph_tail,
        make_date(current_mentions.period_start_year, 1, 1) as period_start_date,
        make_date(current_mentions.period_end_year, 12, 31) as period_end_date,
        -- the day the figure describes: end of its period, or the publication day if earlier
        least(
            make_date(current_mentions.period_end_year, 12, 31),
            coalesce(articles.published_date, make_date(current_mentions.period_end_year, 12, 31))
        ) as reference_date
    from current_mentions
    inner join articles on current_mentions.article_id = articles.article_id
),

-- a paragraph cut at the 600-character window is cut at a word boundary and marked "…"
paragraphs as (
    select
        joined.*,
        case
            when char_length(joined.paragraph_head) = 600
                then '…' || regexp_replace(joined.paragraph_head, '^\S*\s+', '')
            else coalesce(joined.paragraph_head, '')
        end as evidence_head,
        case
            when
                char_length(joined.paragraph_tail) = joined.span_end - joined.span_start + 600
                and char_length(regexp_replace(joined.paragraph_tail, '\s+\S*$', ''))
                >= joined.span_end - joined.span_start
                then regexp_replace(joined.paragraph_tail, '\s+\S*$', '') || '…'
            else coalesce(joined.paragraph_tail, '')
        end as evidence_tail
    from joined
),

units as (
    select * from {{ ref('stg_seeds__admin_units') }}
)

select
    joined.mention_id,
    joined.article_id,
    joined.extractor_version,
    md5(
        joined.indicator_code || '|' || coalesce(joined.unit_id, '') || '|' || joined.period
        || '|' || joined.qualifiers_key
    ) as fact_id,
    joined.indicator_code,
    joined.value,
    joined.value_type,
    joined.comparator,
    joined.unit_id,
    unit_version.unit_version_key,
    case
        when joined.unit_id is null then 'no_unit'
        when unit_version.unit_version_key is null then 'unknown_unit'
        when unit_version.is_valid_at_reference then 'valid_at_reference_date'
        else 'nearest_version'
    end as unit_match,
    joined.period,
    joined.period_start_year,
    joined.period_end_year,
    joined.period_start_date,
    joined.period_end_date,
    joined.reference_date,
    joined.qualifiers,
    joined.qualifiers_key,
    joined.evidence,
    joined.evidence_head || joined.evidence_tail as evidence_paragraph,
    char_length(joined.evidence_head) as evidence_paragraph_offset,
    joined.span_start,
    joined.span_end,
    joined.confidence,
    joined.extracted_at,
    joined.review_key,
    joined.review_status,
    joined.review_decision_id,
    joined.original_indicator_code,
    joined.original_value,
    joined.original_unit_id,
    joined.original_period,
    joined.source,
    joined.article_url,
    joined.article_title,
    joined.published_at,
    joined.published_date,
    joined.source_unit_id,
    joined.article_removed_at,
    joined.article_loaded_at,
    current_timestamp as processed_at
from paragraphs as joined
left join lateral (
    -- the version valid at the reference date, else the version nearest to it
    select
        units.unit_version_key,
        (
            joined.reference_date >= coalesce(units.valid_from, '-infinity'::date)
            and joined.reference_date <= coalesce(units.valid_to, 'infinity'::date)
        ) as is_valid_at_reference
    from units
    where units.unit_id = joined.unit_id
    order by
        is_valid_at_reference desc,
        greatest(
            coalesce(units.valid_from - joined.reference_date, 0),
            coalesce(joined.reference_date - units.valid_to, 0)
        ) asc,
        units.valid_from desc nulls last
    limit 1
) as unit_version on true

{#
    The extractor's mentions with people's decisions applied:
      - a rejected mention is left out, so it leaves every mart;
      - a corrected mention takes the reviewer's indicator, value, unit and period; the
        extractor's are kept in original_* for lineage;
      - a fact a person added (`qpan review add`) comes in as a mention of its article, with its
        evidence, mention_id = -decision_id (raw mention ids are positive), unless the extractor
        now finds the same span itself (then that mention carries the decision).
    Decisions match by review_key (article URL, the extractor's indicator, evidence span),
    which survives re-extraction and rebuilds; it is stored with each raw mention when it lands
    (raw.set_mention_review_key, the same key as qpan/review/catalog.py), not recomputed here.

    A table, incremental by article like int_indicator_mentions__enriched, not a view (issue 31):
    over a stack of views (the decisions' ranking, the right join filtered on the decision, the
    anti join of added facts) the planner estimated 1 row where there were 80,089 and joined
    them to themselves in a nested loop. As a table with statistics (analyzed after every build
    that writes many rows) and indexes, the enriched model's joins are planned on real counts.
    An article in the change log (a decision recorded on it included) after this table's newest
    processed_at loses its rows in a pre-hook and gets its current ones back.
#}
-- depends_on: {{ ref('int_articles__changed') }}
-- depends_on: {{ ref('stg_review__decisions') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        pre_hook=["{{ delete_changed_articles() }}"],
        post_hook=["{{ analyze_after_full_refresh() }}"],
        indexes=[
            {'columns': ['article_id', 'extractor_version']},
            {'columns': ['mention_id'], 'unique': True},
            {'columns': ['review_key']},
            {'columns': ['processed_at']},
        ],
    )
}}

with
{% if is_incremental() %}
    changed_articles as materialized (
        {{ articles_changed_since_this() }}
    ),
{% endif %}

articles as not materialized (
    select
        article_id,
        url
    from {{ ref('stg_raw__articles') }}
    {% if is_incremental() %}
        where article_id = any(array(select changed.article_id from changed_articles as changed))
    {% endif %}
),

decisions as not materialized (
    select * from {{ ref('stg_review__decisions') }}
),

keyed as not materialized (
    select mentions.*
    from {{ ref('stg_raw__indicator_mentions') }} as mentions
    {% if is_incremental() %}
        where mentions.article_id = any(array(select changed.article_id from changed_articles as changed))
    {% endif %}
),

extracted as (
    select
        keyed.mention_id,
        keyed.article_id,
        keyed.extractor_version,
        case when decisions.decision = 'correct' then decisions.new_indicator else keyed.indicator_code end
            as indicator_code,
        case when decisions.decision = 'correct' then decisions.new_value else keyed.value end as value,
        case when decisions.decision = 'correct' then decisions.new_value_type else keyed.value_type end
            as value_type,
        keyed.comparator,
        case when decisions.decision = 'correct' then decisions.new_unit_id else keyed.unit_id end as unit_id,
        case when decisions.decision = 'correct' then decisions.new_period else keyed.period end as period,
        keyed.qualifiers,
        keyed.evidence,
        keyed.span_start,
        keyed.span_end,
        -- a fact a person confirmed or corrected is no longer a guess
        case when decisions.decision in ('confirm', 'correct') then 1.0::real else keyed.confidence end
            as confidence,
        keyed.extracted_at,
        keyed.review_key,
        coalesce(decisions.review_status, 'unreviewed') as review_status,
        decisions.decision_id as review_decision_id,
        case when decisions.decision = 'correct' then keyed.indicator_code end as original_indicator_code,
        case when decisions.decision = 'correct' then keyed.value end as original_value,
        case when decisions.decision = 'correct' then keyed.unit_id end as original_unit_id,
        case when decisions.decision = 'correct' then keyed.period end as original_period
    from keyed
    left join decisions on keyed.review_key = decisions.review_key
    where decisions.decision is distinct from 'reject'
),

added as (
    select
        -decisions.decision_id as mention_id,
        articles.article_id,
        'review' as extractor_version,
        decisions.new_indicator as indicator_code,
        decisions.new_value as value,
        decisions.new_value_type as value_type,
        '=' as comparator,
        decisions.new_unit_id as unit_id,
        decisions.new_period as period,
        '{}'::jsonb as qualifiers,
        decisions.evidence,
        decisions.span_start,
        decisions.span_end,
        1.0::real as confidence,
        decisions.decided_at as extracted_at,
        decisions.review_key,
        decisions.review_status,
        decisions.decision_id as review_decision_id,
        null::text as original_indicator_code,
        null::numeric as original_value,
        null::text as original_unit_id,
        null::text as original_period
    from decisions
    inner join articles on decisions.article_url = articles.url
    where
        decisions.is_added_fact
        and decisions.decision <> 'reject'
        -- by article first: the raw mentions' index, not an md5 of every mention
        and not exists (
            select 1 from keyed
            where
                keyed.article_id = articles.article_id
                and keyed.review_key = decisions.review_key
        )
),

unioned as (
    select * from extracted
    union all
    select * from added
)

select
    mention_id,
    article_id,
    extractor_version,
    indicator_code,
    value,
    value_type,
    comparator,
    unit_id,
    period,
    split_part(period, '/', 1)::integer as period_start_year,
    coalesce(nullif(split_part(period, '/', 2), ''), split_part(period, '/', 1))::integer as period_end_year,
    qualifiers,
    qualifiers::text as qualifiers_key,
    evidence,
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
    current_timestamp as processed_at
from unioned

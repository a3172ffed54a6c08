{#
    Grain: one row per reviewed fact (review_key): its current decision, how many decisions it
    has had (review.decisions keeps them all), and whether the decision still applies.

    A decision is orphaned when its fact no longer exists: the article is gone from raw, or
    (for a confirm / correct / reject) the article's current extraction has no mention of that
    indicator at that evidence span. It is kept and shown here (and by `qpan review list
    --orphans`, the report and the candidate__review_orphans expectation), never dropped: a
    later extractor version may find the span again, or a person re-decides it.
#}
with decisions as (
    select * from {{ ref('stg_review__decisions') }}
),

articles as (
    select
        article_id,
        url,
        title,
        published_date,
        is_synthetic
    from {{ ref('stg_raw__articles') }}
),

mentions as (
    select * from {{ ref('stg_raw__indicator_mentions') }}
),

matched as (
    select
        decisions.*,
        articles.article_id,
        articles.title as article_title,
        articles.published_date,
        exists(
            select 1
            from mentions
            where
                mentions.article_id = articles.article_id
                and mentions.indicator_code = decisions.indicator_code
                and mentions.span_start = decisions.span_start
                and mentions.span_end = decisions.span_end
                -- the article's current extraction only (as in int_indicator_mentions__enriched)
                and mentions.extractor_version = (
                    select latest.extractor_version
                    from mentions as latest
                    where latest.article_id = articles.article_id
                    order by latest.extracted_at desc, latest.extractor_version desc
                    limit 1
                )
        ) as has_extracted_mention
    from decisions
    left join articles on decisions.article_url = articles.url and not articles.is_synthetic
)

select
    review_key,
    decision_id,
    decision,
    review_status,
    is_added_fact,
    article_url,
    article_id,
    article_title,
    published_date,
    indicator_code,
    span_start,
    span_end,
    evidence,
    old_indicator,
    old_value,
    old_unit_id,
    old_period,
    new_indicator,
    new_value,
    new_unit_id,
    new_period,
    note,
    decided_by,
    db_role,
    decided_at,
    n_decisions,
    case
        when article_id is null then true
        when is_added_fact then false
        else not has_extracted_mention
    end as is_orphaned,
    case
        when article_id is null then 'article not in the warehouse'
        when not is_added_fact and not has_extracted_mention then 'no mention at this span in the current extraction'
    end as orphan_reason
from matched

{#
    One row per review_key: the current decision (the latest recorded_at, then decision_id) with
    how many decisions the key has had, and whether a person added the fact (an `add` anywhere
    in its history: a later confirm or correct of an added fact keeps it added).
#}
with source as (
    select * from {{ source('review', 'decisions') }}
),

history as (
    select
        source.*,
        row_number() over (
            partition by source.review_key order by source.recorded_at desc, source.decision_id desc
        ) as recency_rank,
        count(*) over (partition by source.review_key) as n_decisions,
        bool_or(source.decision = 'add') over (partition by source.review_key) as is_added_fact
    from source
)

select
    decision_id,
    review_key,
    article_url,
    content_hash,
    indicator as indicator_code,
    span_start,
    span_end,
    evidence,
    decision,
    case
        when decision = 'reject' then 'rejected-hidden'
        when decision = 'correct' then 'corrected'
        when is_added_fact or decision = 'add' then 'added'
        else 'confirmed'
    end as review_status,
    is_added_fact,
    old_indicator,
    old_value,
    old_unit_id,
    old_period,
    new_indicator,
    new_value,
    new_value_type,
    new_unit_id,
    new_period,
    note,
    decided_by,
    db_role,
    decided_at,
    recorded_at,
    n_decisions
from history
where recency_rank = 1

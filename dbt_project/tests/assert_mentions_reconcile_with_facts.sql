-- Every mention is counted in exactly one fact, and no synthetic article reaches the marts.
with mention_total as (
    select count(*) as n_mentions
    from {{ ref('fct_indicator_mentions') }}
),

fact_total as (
    select coalesce(sum(facts.n_mentions), 0) as n_mentions
    from {{ ref('fct_indicator_facts') }} as facts
),

synthetic as (
    select count(*) as n_mentions
    from {{ ref('fct_indicator_mentions') }} as mentions
    inner join {{ ref('stg_raw__articles') }} as articles on mentions.article_id = articles.article_id
    where articles.is_synthetic and not ({{ var('include_synthetic') | string | lower in ['true', '1'] }})
)

select
    'mention count differs' as problem,
    mention_total.n_mentions
from mention_total
cross join fact_total
where mention_total.n_mentions != fact_total.n_mentions

union all

select
    'synthetic article in marts' as problem,
    synthetic.n_mentions
from synthetic
where synthetic.n_mentions > 0

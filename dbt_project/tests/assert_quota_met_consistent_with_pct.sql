-- Business rule: a unit-year whose recruitment quota fulfilment is at least 100 % is not
-- reported as having missed its quota (pct >= 100 implies recruitment_quota_met is not false).
{{ config(severity=var('business_rule_severity', 'warn')) }}

with pct as (
    select
        unit_id,
        period,
        value as pct
    from {{ ref('fct_indicator_facts') }}
    where indicator_code = 'recruitment_quota_pct' and is_headline
),

met as (
    select
        unit_id,
        period,
        value_boolean as met
    from {{ ref('fct_indicator_facts') }}
    where indicator_code = 'recruitment_quota_met' and is_headline
)

select
    pct.unit_id,
    pct.period,
    pct.pct,
    met.met
from pct
inner join met on pct.unit_id = met.unit_id and pct.period = met.period
where pct.pct >= 100 and met.met = false

-- Business rule: a percentage (measure_unit 'percent') is between 0 and 200, for every
-- value reported, not only the chosen one.
{{ config(severity=var('business_rule_severity', 'warn')) }}

select
    fact_id,
    indicator_code,
    unit_id,
    period,
    min_value,
    max_value
from {{ ref('fct_indicator_facts') }}
where
    measure_unit = 'percent'
    and (min_value < 0 or max_value > 200)

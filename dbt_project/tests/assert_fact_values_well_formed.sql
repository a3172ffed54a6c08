-- Business rule: counts and amounts are never negative, booleans are 0 or 1, and a fact's
-- value is one of the values its sources reported (never an average).
{{ config(severity=var('business_rule_severity', 'warn')) }}

select
    fact_id,
    indicator_code,
    value_type,
    value,
    distinct_values
from {{ ref('fct_indicator_facts') }}
where
    min_value < 0
    or (value_type = 'boolean' and (min_value < 0 or max_value > 1 or value not in (0, 1)))
    or not (value = any(distinct_values))
    or has_conflict != (n_distinct_values > 1)

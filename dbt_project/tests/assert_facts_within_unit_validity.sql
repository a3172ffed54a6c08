-- Business rule: a fact's period overlaps the validity window of the unit version it is
-- attached to, and its unit_id exists in the gazetteer (no figure for a unit that did not
-- exist then, e.g. TX Nghi Sơn in 2019 or a district after 2025-06-30).
{{ config(severity=var('business_rule_severity', 'warn')) }}

select
    facts.fact_id,
    facts.indicator_code,
    facts.unit_id,
    facts.period,
    facts.unit_match,
    units.valid_from,
    units.valid_to
from {{ ref('fct_indicator_facts') }} as facts
left join {{ ref('dim_admin_unit') }} as units
    on facts.unit_version_key = units.unit_version_key
where
    facts.unit_match = 'unknown_unit'
    or (
        units.unit_version_key is not null
        and (
            facts.period_end_date < coalesce(units.valid_from, '-infinity'::date)
            or facts.period_start_date > coalesce(units.valid_to, 'infinity'::date)
        )
    )

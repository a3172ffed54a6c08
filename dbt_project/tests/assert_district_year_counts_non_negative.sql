-- Business rule: no indicator column of mart_district_year is negative (one query for all
-- columns rather than one test per column).
{{ config(severity=var('business_rule_severity', 'warn')) }}

{%- set checks = [] %}
{%- for code in var('district_year_indicators') if code not in var('boolean_indicators') %}
    {%- do checks.append(code ~ ' < 0') %}
{%- endfor %}

select
    unit_id,
    year
from {{ ref('mart_district_year') }}
where {{ checks | join(' or ') or 'false' }}

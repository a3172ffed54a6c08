-- Rows that break a business rule (the quality gate expects none): a unit-year whose recruitment
-- quota fulfilment is at least 100 % is never reported as having missed its quota (pct >= 100
-- implies recruitment_quota_met is not false), neither in the headline facts nor in a cell of
-- mart_district_year.
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
    'fct_indicator_facts' as checked_in,
    pct.unit_id,
    pct.period,
    pct.pct as recruitment_quota_pct,
    met.met as recruitment_quota_met
from pct
inner join met on pct.unit_id = met.unit_id and pct.period = met.period
where pct.pct >= 100 and met.met = false

union all

select
    'mart_district_year' as checked_in,
    unit_id,
    year::text as period,
    recruitment_quota_pct,
    recruitment_quota_met
from {{ ref('mart_district_year') }}
where recruitment_quota_pct >= 100 and recruitment_quota_met is false

-- Rows that break a business rule (the quality gate expects none): a province's value is never
-- a partial sum. value_basis = 'district_sum' only when every district-level unit of today's
-- province in that year has a value for the indicator, and 'reported' only when every (former)
-- province that makes up today's province reported it: recounted from dim_admin_unit and the
-- single-year facts, and read from the mart's own counts (a value without a basis, or whose
-- n_districts_reporting / n_provinces_reporting says some are missing).

with province_rows as (
    select
        province_id,
        year,
        indicator_code,
        value_basis
    from {{ ref('mart_province_year') }}
    where value is not null
),

members as (
    select
        province_rows.province_id,
        province_rows.year,
        province_rows.indicator_code,
        province_rows.value_basis,
        units.unit_id,
        units.level
    from province_rows
    inner join {{ ref('dim_admin_unit') }} as units
        on
            province_rows.province_id = units.current_province_id
            and units.level = case province_rows.value_basis when 'reported' then 'province' else 'district' end
            and coalesce(units.valid_from, '-infinity'::date) <= make_date(province_rows.year, 12, 31)
            and coalesce(units.valid_to, 'infinity'::date) >= make_date(province_rows.year, 1, 1)
)

select distinct
    members.province_id,
    members.year,
    members.indicator_code,
    members.value_basis,
    members.unit_id as missing_unit_id
from members
where
    members.value_basis not in ('reported', 'district_sum')
    or not exists (
        select 1
        from {{ ref('fct_indicator_facts') }} as facts
        where
            facts.unit_id = members.unit_id
            and facts.is_single_year
            and facts.period_start_year = members.year
            and facts.indicator_code = members.indicator_code
    )

union all

select
    province_id,
    year,
    indicator_code,
    value_basis,
    null as missing_unit_id
from {{ ref('mart_province_year') }}
where
    value is not null
    and (
        value_basis is null
        or (value_basis = 'district_sum' and n_districts_reporting < n_districts)
        or (value_basis = 'reported' and n_provinces_reporting < n_provinces)
    )

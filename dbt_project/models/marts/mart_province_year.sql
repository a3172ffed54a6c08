{#
    Grain: one row per today's province (current_province_id) x year x indicator_code.
    District-level unit-year values roll up to today's province through the successor chain
    (dim_admin_unit.current_province_id): summed when the indicator is additive
    (dim_indicator.is_additive), never for ratios and flags. Values reported directly for a
    province (or for a former province now merged into it) are shown beside the roll-up.
    `value` is the reported value when there is one, else the district sum.
#}
with values_ as (
    select * from {{ ref('int_unit_year_indicator_values') }}
),

units as (
    select * from {{ ref('dim_admin_unit') }}
),

indicators as (
    select * from {{ ref('dim_indicator') }}
),

located as (
    select
        values_.*,
        units.level as unit_level,
        units.current_province_id,
        indicators.is_additive
    from values_
    inner join units on values_.unit_version_key = units.unit_version_key
    inner join indicators on values_.indicator_code = indicators.indicator_code
    where units.level in ('province', 'district') and units.current_province_id is not null
),

district_rollup as (
    select
        current_province_id,
        year,
        indicator_code,
        case when bool_and(is_additive) then sum(value) end as district_sum,
        count(*) as n_districts_reporting,
        array_agg(unit_id order by unit_id) as districts_reporting
    from located
    where unit_level = 'district'
    group by current_province_id, year, indicator_code
),

province_reported as (
    select
        current_province_id,
        year,
        indicator_code,
        case
            when count(*) = 1 then max(value)
            when bool_and(is_additive) then sum(value)
        end as province_reported_value,
        count(*) as n_provinces_reporting,
        array_agg(unit_id order by unit_id) as provinces_reporting,
        bool_or(has_conflict) as has_conflict
    from located
    where unit_level = 'province'
    group by current_province_id, year, indicator_code
),

keys as (
    select
        current_province_id,
        year,
        indicator_code
    from district_rollup
    union
    select
        current_province_id,
        year,
        indicator_code
    from province_reported
)

select
    keys.current_province_id as province_id,
    provinces.unit_name as province_name,
    keys.year,
    keys.indicator_code,
    indicators.name_vi as indicator_name_vi,
    indicators.name_en as indicator_name_en,
    indicators.measure_unit,
    indicators.is_additive,
    coalesce(province_reported.province_reported_value, district_rollup.district_sum) as value,
    case
        when province_reported.province_reported_value is not null then 'reported'
        when district_rollup.district_sum is not null then 'district_sum'
    end as value_basis,
    province_reported.province_reported_value,
    coalesce(province_reported.n_provinces_reporting, 0) as n_provinces_reporting,
    province_reported.provinces_reporting,
    coalesce(province_reported.has_conflict, false) as has_conflict,
    district_rollup.district_sum,
    coalesce(district_rollup.n_districts_reporting, 0) as n_districts_reporting,
    district_rollup.districts_reporting
from keys
left join district_rollup
    on
        keys.current_province_id = district_rollup.current_province_id
        and keys.year = district_rollup.year
        and keys.indicator_code = district_rollup.indicator_code
left join province_reported
    on
        keys.current_province_id = province_reported.current_province_id
        and keys.year = province_reported.year
        and keys.indicator_code = province_reported.indicator_code
left join indicators on keys.indicator_code = indicators.indicator_code
left join units as provinces
    on keys.current_province_id = provinces.unit_id and provinces.level = 'province' and provinces.is_current

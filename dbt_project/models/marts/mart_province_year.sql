{#
    Grain: one row per today's province (current_province_id) x year x indicator_code.
    District-level unit-year values roll up to today's province through the successor chain
    (dim_admin_unit.current_province_id): summed when the indicator is additive
    (dim_indicator.is_additive), never for ratios and flags. Values reported directly for a
    province (or for a former province now merged into it) are shown beside the roll-up.

    `value` is the province's figure and nothing less:
      - the reported value, when every province that makes up today's province in that year
        reported it (value_basis = 'reported'; Hải Dương's 2023 figure alone is not today's
        Hải Phòng's);
      - else the district sum, when every district of the province in that year reported
        (value_basis = 'district_sum');
      - else null: a partial sum is never the province's figure. It stays in district_sum with
        the districts it covers (n_districts_reporting of n_districts, districts_reporting).
    `comparator` goes with `value` (a sum over a bound is a bound), as do
    province_reported_comparator and district_sum_comparator with theirs.
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
        case when bool_and(is_additive) then {{ combine_comparators('comparator') }} end as district_sum_comparator,
        count(distinct unit_id) as n_districts_reporting,
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
        case
            when count(*) = 1 then max(comparator)
            when bool_and(is_additive) then {{ combine_comparators('comparator') }}
        end as province_reported_comparator,
        count(distinct unit_id) as n_provinces_reporting,
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
),

province_years as (
    select distinct
        current_province_id,
        year
    from keys
),

-- the units that make up today's province in a year: every district-level unit and every
-- (former) province that existed in that year and whose successor chain ends in it
expected as (
    select
        province_years.current_province_id,
        province_years.year,
        count(distinct units.unit_id) filter (where units.level = 'district') as n_districts,
        count(distinct units.unit_id) filter (where units.level = 'province') as n_provinces
    from province_years
    inner join units
        on
            province_years.current_province_id = units.current_province_id
            and units.level in ('province', 'district')
            and coalesce(units.valid_from, '-infinity'::date) <= make_date(province_years.year, 12, 31)
            and coalesce(units.valid_to, 'infinity'::date) >= make_date(province_years.year, 1, 1)
    group by province_years.current_province_id, province_years.year
),

combined as (
    select
        keys.current_province_id,
        keys.year,
        keys.indicator_code,
        province_reported.province_reported_value,
        province_reported.province_reported_comparator,
        coalesce(province_reported.n_provinces_reporting, 0) as n_provinces_reporting,
        coalesce(expected.n_provinces, 0) as n_provinces,
        province_reported.provinces_reporting,
        coalesce(province_reported.has_conflict, false) as has_conflict,
        district_rollup.district_sum,
        district_rollup.district_sum_comparator,
        coalesce(district_rollup.n_districts_reporting, 0) as n_districts_reporting,
        coalesce(expected.n_districts, 0) as n_districts,
        district_rollup.districts_reporting,
        province_reported.province_reported_value is not null
        and coalesce(province_reported.n_provinces_reporting, 0) >= coalesce(expected.n_provinces, 0)
            as is_province_reported_complete,
        district_rollup.district_sum is not null
        and coalesce(district_rollup.n_districts_reporting, 0) >= coalesce(expected.n_districts, 0)
            as is_district_sum_complete
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
    left join expected
        on
            keys.current_province_id = expected.current_province_id
            and keys.year = expected.year
)

select
    combined.current_province_id as province_id,
    provinces.unit_name as province_name,
    combined.year,
    combined.indicator_code,
    indicators.name_vi as indicator_name_vi,
    indicators.name_en as indicator_name_en,
    indicators.measure_unit,
    indicators.is_additive,
    case
        when combined.is_province_reported_complete then combined.province_reported_value
        when combined.is_district_sum_complete then combined.district_sum
    end as value,
    case
        when combined.is_province_reported_complete then combined.province_reported_comparator
        when combined.is_district_sum_complete then combined.district_sum_comparator
    end as comparator,
    case
        when combined.is_province_reported_complete then 'reported'
        when combined.is_district_sum_complete then 'district_sum'
    end as value_basis,
    combined.province_reported_value,
    combined.province_reported_comparator,
    combined.n_provinces_reporting,
    combined.n_provinces,
    combined.provinces_reporting,
    combined.has_conflict,
    combined.district_sum,
    combined.district_sum_comparator,
    combined.n_districts_reporting,
    combined.n_districts,
    combined.districts_reporting,
    combined.is_province_reported_complete,
    combined.is_district_sum_complete
from combined
left join indicators on combined.indicator_code = indicators.indicator_code
left join units as provinces
    on combined.current_province_id = provinces.unit_id and provinces.level = 'province' and provinces.is_current

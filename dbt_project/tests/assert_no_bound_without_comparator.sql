-- No bound without its comparator: every value of a wide mart has its comparator, and a value
-- built from a fact that is a bound ("hơn 1.000": '>') or approximate is never shown as exact
-- ('='): an aggregate over a bound is itself a bound.
{{ config(severity=var('business_rule_severity', 'warn')) }}

with district_cells as (
    select
        district_year.unit_id,
        district_year.year,
        cells.indicator_code,
        cells.value,
        cells.comparator
    from {{ ref('mart_district_year') }} as district_year
    cross join lateral (
        values
        {%- for code in var('district_year_indicators') %}
            ('{{ code }}', district_year.{{ code }}::text, district_year.{{ code }}_comparator),
        {%- endfor %}
        ('', null::text, null::text)
    ) as cells (indicator_code, value, comparator)
),

bounded_facts as (
    select distinct
        unit_id,
        period_start_year as year,
        indicator_code,
        current_province_id
    from {{ ref('fct_indicator_facts') }}
    where is_single_year and comparator <> '='
)

select
    'mart_district_year' as mart,
    district_cells.unit_id as unit_or_province_id,
    district_cells.year,
    district_cells.indicator_code,
    district_cells.value,
    district_cells.comparator
from district_cells
where
    (district_cells.value is not null) <> (district_cells.comparator is not null)
    or (
        district_cells.comparator = '='
        and exists (
            select 1 from bounded_facts
            where
                bounded_facts.unit_id = district_cells.unit_id
                and bounded_facts.year = district_cells.year
                and bounded_facts.indicator_code = district_cells.indicator_code
        )
    )

union all

select
    'mart_province_year' as mart,
    province_year.province_id as unit_or_province_id,
    province_year.year,
    province_year.indicator_code,
    province_year.value::text,
    province_year.comparator
from {{ ref('mart_province_year') }} as province_year
where
    (province_year.value is not null) <> (province_year.comparator is not null)
    or (province_year.district_sum is not null) <> (province_year.district_sum_comparator is not null)
    or (
        province_year.value_basis = 'district_sum'
        and province_year.comparator = '='
        and exists (
            select 1
            from bounded_facts
            inner join {{ ref('dim_admin_unit') }} as units
                on bounded_facts.unit_id = units.unit_id and units.level = 'district'
            where
                bounded_facts.current_province_id = province_year.province_id
                and bounded_facts.year = province_year.year
                and bounded_facts.indicator_code = province_year.indicator_code
        )
    )

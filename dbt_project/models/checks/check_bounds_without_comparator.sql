-- Rows that break a business rule (the quality gate expects none): no bound without its
-- comparator. Every value of a wide mart (mart_district_year, mart_unit_year, mart_province_year)
-- has its comparator, and a value built from a fact that is a bound ("hơn 1.000": '>') or
-- approximate is never shown as exact ('='): an aggregate over a bound is itself a bound.
with unit_year_cells as (
    {%- for mart in ['mart_district_year', 'mart_unit_year'] %}
        {{ 'union all' if not loop.first }}
        select
            '{{ mart }}' as mart,
            unit_year.unit_id,
            unit_year.year,
            cells.indicator_code,
            cells.value,
            cells.comparator
        from {{ ref(mart) }} as unit_year
        cross join lateral (
            values
            {%- for code in var('district_year_indicators') %}
                ('{{ code }}', unit_year.{{ code }}::text, unit_year.{{ code }}_comparator),
            {%- endfor %}
            ('', null::text, null::text)
        ) as cells (indicator_code, value, comparator)
    {%- endfor %}
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
    unit_year_cells.mart,
    unit_year_cells.unit_id as unit_or_province_id,
    unit_year_cells.year,
    unit_year_cells.indicator_code,
    unit_year_cells.value,
    unit_year_cells.comparator
from unit_year_cells
where
    (unit_year_cells.value is not null) <> (unit_year_cells.comparator is not null)
    or (
        unit_year_cells.comparator = '='
        and exists (
            select 1 from bounded_facts
            where
                bounded_facts.unit_id = unit_year_cells.unit_id
                and bounded_facts.year = unit_year_cells.year
                and bounded_facts.indicator_code = unit_year_cells.indicator_code
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
    or (province_year.province_reported_value is not null and province_year.province_reported_comparator is null)
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

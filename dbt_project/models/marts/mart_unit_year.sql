{#
    Grain: one row per unit version x year, at every level (province, district, commune; the
    communes of 1 July 2025 included), for every unit that has a single-year fact or a
    reporting-coverage row. The version is the one valid in the year (for a code GSO reused,
    "15" is Yên Bái until 2025 and Lào Cai after, the one the facts were attributed to).
    The indicator columns, their comparators and the review and coverage columns are those of
    mart_district_year (same value rule: int_unit_year_indicator_values); null means not
    reported, 0 a reported zero. To put a post-reform commune beside the unit it descends
    from, see dim_admin_unit_lineage and mart_former_district_year.
#}
with values_ as (
    select * from {{ ref('int_unit_year_indicator_values') }}
),

units as (
    select * from {{ ref('dim_admin_unit') }}
),

coverage as (
    select * from {{ ref('mart_reporting_coverage') }}
),

rows_ as (
    select
        unit_id,
        year
    from values_
    union
    select
        unit_id,
        year
    from coverage
),

pivoted as (
    select
        unit_id,
        year,
        -- the version most of the row's figures were attributed to
        mode() within group (order by unit_version_key) as fact_unit_version_key,
        {{ unit_year_pivot_columns() }}
    from values_
    group by unit_id, year
)

select
    rows_.unit_id,
    rows_.year,
    unit_version.unit_version_key,
    unit_version.level,
    unit_version.unit_full_name,
    unit_version.unit_name,
    unit_version.parent_id,
    unit_version.valid_from,
    unit_version.valid_to,
    unit_version.province_id,
    unit_version.current_province_id,
    unit_version.current_unit_id,
    {{ unit_year_output_columns() }}
from rows_
left join pivoted on rows_.unit_id = pivoted.unit_id and rows_.year = pivoted.year
left join coverage on rows_.unit_id = coverage.unit_id and rows_.year = coverage.year
left join lateral (
    select units.*
    from units
    where units.unit_id = rows_.unit_id
    order by
        (units.unit_version_key = pivoted.fact_unit_version_key) desc nulls last,
        (
            coalesce(units.valid_from, '-infinity'::date) <= make_date(rows_.year, 12, 31)
            and coalesce(units.valid_to, 'infinity'::date) >= make_date(rows_.year, 1, 1)
        ) desc,
        units.valid_from desc nulls last
    limit 1
) as unit_version on true

{#
    Grain: one row per district-level unit (unit_id) x year that has a single-year fact or a
    reporting-coverage row. One column per indicator of var('district_year_indicators'), with
    the unit-year value rule of int_unit_year_indicator_values (awards summed across award
    statements). Null means "not reported" (see n_articles / has_year_end_review to tell
    "no data" from "not mentioned"); 0 is a reported zero.

    Every indicator column has its comparator next to it (`<indicator>_comparator`:
    '=' exact, '>' a lower bound such as "hơn 1.000", '<' an upper bound, '~' approximate):
    a value is never shown as exact when the article gave a bound, and a sum over a bound is a
    bound. `bounded_indicators` lists the indicators of the row whose value is not exact.
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

district_values as (
    select values_.*
    from values_
    inner join units on values_.unit_version_key = units.unit_version_key
    where units.level = 'district'
),

rows_ as (
    select
        unit_id,
        year
    from district_values
    union
    select
        unit_id,
        year
    from coverage
    where unit_level = 'district'
),

pivoted as (
    select
        unit_id,
        year,
        {{ unit_year_pivot_columns() }}
    from district_values
    group by unit_id, year
)

select
    rows_.unit_id,
    rows_.year,
    unit_version.unit_version_key,
    unit_version.unit_full_name,
    unit_version.unit_name,
    unit_version.province_id,
    unit_version.current_province_id,
    unit_version.current_unit_id,
    {%- for code in var('district_year_indicators') %}
        pivoted.{{ code }},
        pivoted.{{ code }}_comparator,
    {%- endfor %}
    coalesce(pivoted.n_indicators_reported, 0) as n_indicators_reported,
    coalesce(pivoted.conflicting_indicators, '{}') as conflicting_indicators,
    coalesce(pivoted.bounded_indicators, '{}') as bounded_indicators,
    coalesce(pivoted.review_status, 'unreviewed') as review_status,
    coalesce(pivoted.n_indicators_reviewed, 0) as n_indicators_reviewed,
    round(pivoted.n_indicators_reviewed::numeric / nullif(pivoted.n_indicators_reported, 0), 4) as reviewed_share,
    coalesce(pivoted.reviewed_indicators, '{}') as reviewed_indicators,
    coalesce(pivoted.corrected_indicators, '{}') as corrected_indicators,
    coalesce(pivoted.added_indicators, '{}') as added_indicators,
    coalesce(coverage.n_articles, 0) as n_articles,
    coalesce(coverage.has_year_end_review, false) as has_year_end_review,
    coalesce(coverage.coverage_status, 'no_articles') as coverage_status
from rows_
left join pivoted on rows_.unit_id = pivoted.unit_id and rows_.year = pivoted.year
left join coverage on rows_.unit_id = coverage.unit_id and rows_.year = coverage.year
left join lateral (
    select units.*
    from units
    where units.unit_id = rows_.unit_id and units.level = 'district'
    order by
        (
            coalesce(units.valid_from, '-infinity'::date) <= make_date(rows_.year, 12, 31)
            and coalesce(units.valid_to, 'infinity'::date) >= make_date(rows_.year, 1, 1)
        ) desc,
        units.valid_from desc nulls last
    limit 1
) as unit_version on true

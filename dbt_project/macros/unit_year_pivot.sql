{#
    The pivot of the unit-year marts: one column per indicator of var('district_year_indicators')
    (booleans as true/false) with its comparator, and the row's review summary, from rows of
    int_unit_year_indicator_values grouped by `group_by`.
#}
{% macro unit_year_pivot_columns() %}
    {%- for code in var('district_year_indicators') %}
        {{ 'bool_or(value = 1)' if code in var('boolean_indicators') else 'max(value)' }}
        filter (where indicator_code = '{{ code }}') as {{ code }},
        max(comparator) filter (where indicator_code = '{{ code }}') as {{ code }}_comparator,
    {%- endfor %}
    count(*) as n_indicators_reported,
    coalesce(array_agg(indicator_code order by indicator_code) filter (where has_conflict), '{}')
        as conflicting_indicators,
    coalesce(array_agg(indicator_code order by indicator_code) filter (where comparator <> '='), '{}')
        as bounded_indicators,
    count(*) filter (where review_status <> 'unreviewed') as n_indicators_reviewed,
    coalesce(array_agg(indicator_code order by indicator_code) filter (where review_status <> 'unreviewed'), '{}')
        as reviewed_indicators,
    coalesce(array_agg(indicator_code order by indicator_code) filter (where review_status = 'corrected'), '{}')
        as corrected_indicators,
    coalesce(array_agg(indicator_code order by indicator_code) filter (where review_status = 'added'), '{}')
        as added_indicators,
    case
        when bool_or(review_status = 'corrected') then 'corrected'
        when bool_or(review_status = 'added') then 'added'
        when bool_or(review_status = 'confirmed') then 'confirmed'
        else 'unreviewed'
    end as review_status
{%- endmacro %}


{#
    The indicator, review and coverage columns of a unit-year mart's final select, from the
    `pivoted` (unit_year_pivot_columns) and `coverage` (mart_reporting_coverage) relations.
#}
{% macro unit_year_output_columns(pivoted='pivoted', coverage='coverage') %}
    {%- for code in var('district_year_indicators') %}
        {{ pivoted }}.{{ code }},
        {{ pivoted }}.{{ code }}_comparator,
    {%- endfor %}
    coalesce({{ pivoted }}.n_indicators_reported, 0) as n_indicators_reported,
    coalesce({{ pivoted }}.conflicting_indicators, '{}') as conflicting_indicators,
    coalesce({{ pivoted }}.bounded_indicators, '{}') as bounded_indicators,
    coalesce({{ pivoted }}.review_status, 'unreviewed') as review_status,
    coalesce({{ pivoted }}.n_indicators_reviewed, 0) as n_indicators_reviewed,
    round({{ pivoted }}.n_indicators_reviewed::numeric / nullif({{ pivoted }}.n_indicators_reported, 0), 4)
        as reviewed_share,
    coalesce({{ pivoted }}.reviewed_indicators, '{}') as reviewed_indicators,
    coalesce({{ pivoted }}.corrected_indicators, '{}') as corrected_indicators,
    coalesce({{ pivoted }}.added_indicators, '{}') as added_indicators,
    coalesce({{ coverage }}.n_articles, 0) as n_articles,
    coalesce({{ coverage }}.has_year_end_review, false) as has_year_end_review,
    coalesce({{ coverage }}.coverage_status, 'no_articles') as coverage_status
{%- endmacro %}

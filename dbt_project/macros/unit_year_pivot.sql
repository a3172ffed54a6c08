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

{#
    Generic test: no two rows share the same values of `columns` (nulls compare equal).
    Replaces dbt_utils.unique_combination_of_columns (no hub packages here).
#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}

{#
    The comparator of an aggregate (a sum, a roll-up) over values with comparators: an
    aggregate over a bound is itself a bound. All '=': '='; '=' and '>' (lower bounds): '>';
    '=' and '<' (upper bounds): '<'; anything with '~', or lower and upper bounds mixed: '~'
    (not exact, no bound). Nulls are ignored; null when there is no comparator at all.
#}
{% macro combine_comparators(column, filter=none) %}
    {%- set where = ' filter (where ' ~ filter ~ ')' if filter else '' -%}
    case
        when count({{ column }}){{ where }} = 0 then null
        when bool_and({{ column }} = '='){{ where }} then '='
        when bool_and({{ column }} in ('=', '>')){{ where }} then '>'
        when bool_and({{ column }} in ('=', '<')){{ where }} then '<'
        else '~'
    end
{%- endmacro %}

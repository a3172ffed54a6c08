{#
    Fixed schemas, no target prefix:
      staging -> staging, intermediate -> intermediate, seeds -> seeds,
      marts -> var('marts_schema') (marts_candidate by default; the gate swaps it into marts).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts' -%}
        {{ var('marts_schema') | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}

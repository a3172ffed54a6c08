{# Generic test: the column is never negative (nulls pass). #}
{% test non_negative(model, column_name) %}
{{ config(severity=var('business_rule_severity', 'warn')) }}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < 0

{% endtest %}


{# Generic test: min_value <= column <= max_value (nulls pass). #}
{% test within_range(model, column_name, min_value, max_value) %}
{{ config(severity=var('business_rule_severity', 'warn')) }}

select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}

{% endtest %}


{# Generic test: the model has no row (the models/checks views list the rows breaking a rule). #}
{% test is_empty(model) %}
{{ config(severity=var('business_rule_severity', 'warn')) }}

select *
from {{ model }}

{% endtest %}

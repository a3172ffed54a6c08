{#
    `expr` in Unicode NFC, so that the Vietnamese patterns match however the text was composed.
    The scrapers already store NFC, and `is nfc normalized` is a quick check that is ~4x cheaper
    than normalize(): over 1M article bodies that is minutes of a full build.
#}
{% macro nfc(expr) -%}
    case when {{ expr }} is nfc normalized then {{ expr }} else normalize({{ expr }}) end
{%- endmacro %}

with indicators as (
    select * from {{ ref('stg_seeds__indicators') }}
)

select
    indicator_code,
    domain,
    measure_unit,
    value_type,
    is_additive,
    name_vi,
    name_en,
    cues,
    notes,
    indicator_code in (
        {%- for code in var('district_year_indicators') %}
            '{{ code }}'{{ ',' if not loop.last }}
        {%- endfor %}
    ) as is_in_district_year_mart
from indicators

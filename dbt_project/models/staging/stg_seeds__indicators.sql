with source as (
    select * from {{ ref('indicators') }}
)

select
    code as indicator_code,
    domain,
    unit as measure_unit,
    value_type,
    additive as is_additive,
    name_vi,
    name_en,
    cues,
    notes
from source

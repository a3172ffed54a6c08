with source as (
    select * from {{ ref('sources') }}
)

select
    source,
    template,
    nullif(unit_id, '') as unit_id,
    kind as source_kind,
    nullif(base_url, '') as base_url,
    is_sample
from source

with source as (
    select * from {{ ref('admin_units') }}
)

select
    -- a version of a unit: (unit_id, valid_from); valid_from null = already in the first list
    unit_id || '@' || coalesce(valid_from::text, 'origin') as unit_version_key,
    unit_id,
    level,
    type as unit_type,
    name as unit_name,
    aliases,
    nullif(parent_id, '') as parent_id,
    valid_from,
    valid_to,
    nullif(successor_id, '') as successor_id,
    split_part(unit_id, '.', 1) as province_code
from source

with source as (
    select * from {{ source('raw', 'quarantine') }}
)

select
    quarantine_id,
    stage,
    source,
    url,
    reason,
    detail,
    -- row-level quarantine of the landing gate names the row it keeps out of the marts
    payload ->> 'kind' as row_kind,
    (payload ->> 'id')::bigint as row_id,
    first_seen_at,
    last_seen_at,
    resolved_at,
    resolved_at is null as is_active
from source

{#
    Rows the landing gate quarantined (an impossible date, an unknown unit): kept in raw with
    their reason, excluded from every mart. One row per (row_kind, row_id) still quarantined.
#}
select distinct
    row_kind,
    row_id
from {{ ref('stg_raw__quarantine') }}
where
    stage = 'landing'
    and is_active
    and row_kind in ('article', 'mention')
    and row_id is not null

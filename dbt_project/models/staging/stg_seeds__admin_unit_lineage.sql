{#
    Commune lineage across the 1 July 2025 reform (seed admin_unit_lineage, built by
    `qpan gazetteer build` from the package's conversion table), with the version keys of
    stg_seeds__admin_units.
#}
with source as (
    select * from {{ ref('admin_unit_lineage') }}
)

select
    old_unit_id || '@' || coalesce(old_valid_from::text, 'origin') as old_unit_version_key,
    old_unit_id,
    new_unit_id || '@' || coalesce(new_valid_from::text, 'origin') as new_unit_version_key,
    new_unit_id,
    is_partial
from source

{#
    Grain: one row per (old unit version, new unit version) across the 1 July 2025 reform, at
    every level (int_admin_unit_lineage), with both versions' names. Read it both ways: from a
    former district to the new communes that took its communes, from a new commune to the
    units it was made of. is_partial: the new unit took only part of the old one;
    is_new_within_old: the new unit lies wholly inside the old one (its figures may be added up
    towards the old unit's; a new unit only partly inside must not be).
#}
with lineage as (
    select * from {{ ref('int_admin_unit_lineage') }}
),

units as (
    select * from {{ ref('stg_seeds__admin_units') }}
)

select
    lineage.old_unit_version_key,
    old_units.unit_id as old_unit_id,
    old_units.level as old_level,
    old_units.unit_type || ' ' || old_units.unit_name as old_unit_full_name,
    old_units.valid_to as old_valid_to,
    lineage.new_unit_version_key,
    new_units.unit_id as new_unit_id,
    new_units.level as new_level,
    new_units.unit_type || ' ' || new_units.unit_name as new_unit_full_name,
    new_units.valid_from as new_valid_from,
    lineage.is_partial,
    case when lineage.is_partial then 'partial' else 'whole' end as relation,
    lineage.is_new_within_old,
    lineage.n_commune_links
from lineage
inner join units as old_units on lineage.old_unit_version_key = old_units.unit_version_key
inner join units as new_units on lineage.new_unit_version_key = new_units.unit_version_key

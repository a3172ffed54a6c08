{#
    Grain: one row per (old unit version, new unit version) across the 1 July 2025 reform, at
    every level: communes from the conversion table (seed admin_unit_lineage); a district to
    every new commune that took any of its former communes; an old province to every new
    province that took any of its communes (an untouched province keeps its one version and
    has no row).

    is_partial: the new unit took only part of the old one (an old commune divided between
    new communes, a district spread over several). is_new_within_old: the new unit lies wholly
    inside the old one (all its former communes belong to it), so its figure may be counted
    towards the old unit's; a new unit that is only partly inside must never be.
#}
with units as (
    select * from {{ ref('stg_seeds__admin_units') }}
),

communes as (
    select
        lineage.old_unit_version_key,
        lineage.new_unit_version_key,
        lineage.is_partial,
        old_units.parent_id as old_parent_id,
        old_units.province_code as old_province_code,
        old_units.valid_to as old_valid_to,
        new_units.province_code as new_province_code,
        new_units.valid_from as new_valid_from,
        count(*) over (partition by lineage.new_unit_version_key) as n_parts_of_new
    from {{ ref('stg_seeds__admin_unit_lineage') }} as lineage
    inner join units as old_units on lineage.old_unit_version_key = old_units.unit_version_key
    inner join units as new_units on lineage.new_unit_version_key = new_units.unit_version_key
),

-- the version of an old commune's district, and of the provinces, valid on the day a commune
-- version ended / began
communes_with_parents as (
    select
        communes.*,
        districts.unit_version_key as old_district_version_key,
        old_provinces.unit_version_key as old_province_version_key,
        new_provinces.unit_version_key as new_province_version_key
    from communes
    left join units as districts
        on
            districts.level = 'district'
            and communes.old_parent_id = districts.unit_id
            and communes.old_valid_to between coalesce(districts.valid_from, '-infinity'::date)
            and coalesce(districts.valid_to, 'infinity'::date)
    left join units as old_provinces
        on
            old_provinces.level = 'province'
            and communes.old_province_code = old_provinces.unit_id
            and communes.old_valid_to between coalesce(old_provinces.valid_from, '-infinity'::date)
            and coalesce(old_provinces.valid_to, 'infinity'::date)
    left join units as new_provinces
        on
            new_provinces.level = 'province'
            and communes.new_province_code = new_provinces.unit_id
            and communes.new_valid_from between coalesce(new_provinces.valid_from, '-infinity'::date)
            and coalesce(new_provinces.valid_to, 'infinity'::date)
),

commune_rows as (
    select
        old_unit_version_key,
        new_unit_version_key,
        is_partial,
        n_parts_of_new = 1 as is_new_within_old,
        1 as n_commune_links
    from communes
),

district_rows as (
    {{ lineage_rollup('communes_with_parents', 'old_district_version_key', 'new_unit_version_key') }}
),

province_rows as (
    {{ lineage_rollup('communes_with_parents', 'old_province_version_key', 'new_province_version_key') }}
)

select * from commune_rows
union all
select * from district_rows
union all
select * from province_rows

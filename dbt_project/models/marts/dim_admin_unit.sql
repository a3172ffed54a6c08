{#
    Every version of every administrative unit, with its province and the successor chain:
    current_unit_id / current_province_id follow successor_id (the unit it was merged into,
    taken at the day after this version ended) until a version with no successor, so a 2023
    district fact rolls up to today's province (Hà Giang's districts -> Tuyên Quang "08").

    successor_id is kept only where the unit has one whole successor: across the 2025 reform
    it comes from the lineage (int_admin_unit_lineage), and a unit divided between new units
    or spread over several (a district, a divided commune) has none here: see
    dim_admin_unit_lineage for all of them.
#}
with recursive lineage_successors as (
    select
        lineage.old_unit_version_key,
        count(*) as n_successors,
        bool_or(lineage.is_partial) as any_partial,
        min(new_units.unit_id) as new_unit_id
    from {{ ref('int_admin_unit_lineage') }} as lineage
    inner join {{ ref('stg_seeds__admin_units') }} as new_units
        on lineage.new_unit_version_key = new_units.unit_version_key
    group by lineage.old_unit_version_key
),

units as (
    select
        seed_units.unit_version_key,
        seed_units.unit_id,
        seed_units.level,
        seed_units.unit_type,
        seed_units.unit_name,
        seed_units.aliases,
        seed_units.parent_id,
        seed_units.valid_from,
        seed_units.valid_to,
        case
            when lineage_successors.old_unit_version_key is null then seed_units.successor_id
            when lineage_successors.n_successors = 1 and not lineage_successors.any_partial
                then lineage_successors.new_unit_id
        end as successor_id,
        seed_units.province_code
    from {{ ref('stg_seeds__admin_units') }} as seed_units
    left join lineage_successors on seed_units.unit_version_key = lineage_successors.old_unit_version_key
),

-- walk successor_id: from a version to the successor's version valid the day after it ended
successor_chain as (
    select
        units.unit_version_key as start_key,
        units.unit_version_key as current_key,
        units.successor_id,
        units.valid_to,
        0 as depth
    from units

    union all

    select
        successor_chain.start_key,
        next_version.unit_version_key as current_key,
        next_version.successor_id,
        next_version.valid_to,
        successor_chain.depth + 1 as depth
    from successor_chain
    inner join units as next_version
        on
            successor_chain.successor_id = next_version.unit_id
            and successor_chain.valid_to + 1 >= coalesce(next_version.valid_from, '-infinity'::date)
            and successor_chain.valid_to + 1 <= coalesce(next_version.valid_to, 'infinity'::date)
    where
        successor_chain.successor_id is not null
        and successor_chain.valid_to is not null
        and successor_chain.depth < 10
),

chain_end as (
    select distinct on (start_key)
        start_key,
        current_key,
        depth
    from successor_chain
    order by start_key asc, depth desc
),

-- the province version a unit version belongs to: same province code, valid on the
-- unit's last valid day (or today for a current unit)
unit_province as (
    select distinct on (units.unit_version_key)
        units.unit_version_key,
        provinces.unit_version_key as province_version_key
    from units
    inner join units as provinces
        on
            provinces.level = 'province'
            and units.province_code = provinces.unit_id
            and coalesce(units.valid_to, current_date) >= coalesce(provinces.valid_from, '-infinity'::date)
            and coalesce(units.valid_to, current_date) <= coalesce(provinces.valid_to, 'infinity'::date)
    order by units.unit_version_key asc, provinces.valid_from desc nulls last
)

select
    units.unit_version_key,
    units.unit_id,
    units.level,
    units.unit_type,
    units.unit_name,
    units.unit_type || ' ' || units.unit_name as unit_full_name,
    units.aliases,
    units.parent_id,
    units.valid_from,
    units.valid_to,
    units.valid_to is null as is_current,
    units.successor_id,
    units.province_code as province_id,
    provinces.unit_version_key as province_version_key,
    provinces.unit_name as province_name,
    current_units.unit_id as current_unit_id,
    current_units.unit_version_key as current_unit_version_key,
    current_units.unit_name as current_unit_name,
    unit_chain.depth as successor_chain_length,
    current_provinces.unit_id as current_province_id,
    current_provinces.unit_version_key as current_province_version_key,
    current_provinces.unit_name as current_province_name
from units
left join chain_end as unit_chain on units.unit_version_key = unit_chain.start_key
left join units as current_units on unit_chain.current_key = current_units.unit_version_key
left join unit_province on units.unit_version_key = unit_province.unit_version_key
left join units as provinces on unit_province.province_version_key = provinces.unit_version_key
left join chain_end as province_chain on unit_province.province_version_key = province_chain.start_key
left join units as current_provinces on province_chain.current_key = current_provinces.unit_version_key

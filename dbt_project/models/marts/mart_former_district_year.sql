{#
    Grain: one row per former district version x year x additive indicator, for the years its
    new communes report: the figure of the district's territory rebuilt from the communes of
    1 July 2025, to set beside the district's own figure of earlier years (mart_district_year).

    value is the sum over the new communes that lie wholly inside the former district
    (dim_admin_unit_lineage.is_new_within_old) and reported the indicator; a commune only partly
    inside is never added (its figure covers land outside the district), so is_complete is
    false when any new commune is only partly inside, or when a commune wholly inside did not
    report the indicator that year. Only additive indicators (the catalogue's `additive`) are
    summed; the comparator of the sum follows the rule of a sum over bounds.
#}
with links as (
    select * from {{ ref('dim_admin_unit_lineage') }}
    where old_level = 'district' and new_level = 'commune'
),

values_ as (
    select * from {{ ref('int_unit_year_indicator_values') }}
),

additive as (
    select indicator_code from {{ ref('stg_seeds__indicators') }}
    where is_additive
),

district_totals as (
    select
        old_unit_version_key,
        count(*) filter (where is_new_within_old) as n_communes_within,
        count(*) filter (where not is_new_within_old) as n_communes_partly_inside,
        coalesce(array_agg(new_unit_id order by new_unit_id) filter (where not is_new_within_old), '{}')
            as communes_partly_inside
    from links
    group by old_unit_version_key
),

reported as (
    -- every (district, year, indicator) for which a linked commune reported
    select
        links.old_unit_version_key,
        links.old_unit_id,
        links.old_unit_full_name,
        values_.year,
        values_.indicator_code,
        links.new_unit_id,
        links.is_new_within_old,
        values_.value,
        values_.comparator
    from links
    inner join values_ on links.new_unit_id = values_.unit_id
    inner join additive on values_.indicator_code = additive.indicator_code
    where values_.year >= extract(year from links.new_valid_from)
)

select
    reported.old_unit_version_key as district_version_key,
    reported.old_unit_id as district_unit_id,
    reported.old_unit_full_name as district_full_name,
    reported.year,
    reported.indicator_code,
    sum(reported.value) filter (where reported.is_new_within_old) as value,
    {{ combine_comparators('reported.comparator', 'reported.is_new_within_old') }} as comparator,
    count(*) filter (where reported.is_new_within_old) as n_communes_reporting,
    max(district_totals.n_communes_within) as n_communes_within,
    max(district_totals.n_communes_partly_inside) as n_communes_partly_inside,
    coalesce(
        array_agg(reported.new_unit_id order by reported.new_unit_id) filter (where reported.is_new_within_old), '{}'
    ) as communes_summed,
    max(district_totals.communes_partly_inside) as communes_partly_inside,
    max(district_totals.n_communes_partly_inside) = 0
    and count(*) filter (where reported.is_new_within_old) = max(district_totals.n_communes_within) as is_complete
from reported
inner join district_totals on reported.old_unit_version_key = district_totals.old_unit_version_key
group by
    reported.old_unit_version_key, reported.old_unit_id, reported.old_unit_full_name,
    reported.year, reported.indicator_code

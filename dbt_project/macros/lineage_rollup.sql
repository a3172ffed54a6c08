{#
    Commune links rolled up to an old unit and a new unit (int_admin_unit_lineage): one row per
    (old_key, new_key). The old unit was taken whole only when all its links go to this new
    unit: a divided commune has one link per new commune, so a part that went elsewhere shows as
    a link to another new unit (a commune divided between two new communes of one new province
    does not make its old province partial); the new unit lies within the old one when all its
    links come from the old unit.
#}
{% macro lineage_rollup(links, old_key, new_key) %}
    select
        {{ old_key }} as old_unit_version_key,
        {{ new_key }} as new_unit_version_key,
        count(*) < max(n_links_of_old) as is_partial,
        count(*) = max(n_links_of_new) as is_new_within_old,
        count(*) as n_commune_links
    from (
        select
            *,
            count(*) over (partition by {{ old_key }}) as n_links_of_old,
            count(*) over (partition by {{ new_key }}) as n_links_of_new
        from {{ links }}
    ) as links
    where {{ old_key }} is not null and {{ old_key }} is distinct from {{ new_key }}
    group by {{ old_key }}, {{ new_key }}
{% endmacro %}

-- Rows that break a business rule (the quality gate expects none): an old unit divided between
-- several new units is never said to have gone whole into one of them (issue 29).
select
    old_unit_version_key,
    count(*) as n_new_units
from {{ ref('dim_admin_unit_lineage') }}
group by old_unit_version_key
having count(*) > 1 and bool_or(not is_partial)

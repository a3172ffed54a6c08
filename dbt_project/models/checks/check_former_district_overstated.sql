-- Rows that break a business rule (the quality gate expects none): a former district's sum across
-- the 2025 reform (issue 29) never says complete though a commune is only partly inside or did
-- not report, and never adds a commune only partly inside.
select
    district_version_key,
    district_unit_id,
    year,
    indicator_code,
    value,
    comparator,
    is_complete,
    n_communes_within,
    n_communes_reporting,
    n_communes_partly_inside,
    communes_summed,
    communes_partly_inside
from {{ ref('mart_former_district_year') }}
where
    (is_complete and (n_communes_partly_inside > 0 or n_communes_reporting < n_communes_within))
    or communes_summed && communes_partly_inside
    or n_communes_reporting > n_communes_within

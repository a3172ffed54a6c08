"""What the quality gate validates: one GX query asset per check, and the checkpoints that
group them (qpan.gate.validate runs them). A "… must be none" check is a query that selects the
offending rows, validated by a suite that expects 0 rows (expectations/define_suites.py).
"""
from __future__ import annotations

# Rows of raw the landing gate quarantined (still unresolved): excluded from what is validated.
EXCLUDED_ARTICLES = """(select (q.payload->>'id')::bigint from raw.quarantine q
    where q.stage = 'landing' and q.resolved_at is null and q.payload->>'kind' = 'article')"""
EXCLUDED_MENTIONS = """(select (q.payload->>'id')::bigint from raw.quarantine q
    where q.stage = 'landing' and q.resolved_at is null and q.payload->>'kind' = 'mention')"""


# Cells of the wide marts whose value has no comparator next to it, or whose comparator says
# exact ('=') though a fact behind the value is a bound or approximate. mart_district_year's
# cells are read through to_jsonb, one per indicator column the catalogue puts in the mart, so
# a new indicator column without its comparator column is caught too.
BOUNDS_WITHOUT_COMPARATOR = """
select 'mart_district_year' as mart, d.unit_id, d.year, i.indicator_code
from {c}.mart_district_year d
cross join {c}.dim_indicator i
where i.is_in_district_year_mart
  and coalesce(to_jsonb(d) -> i.indicator_code, 'null'::jsonb) <> 'null'::jsonb
  and coalesce(to_jsonb(d) -> (i.indicator_code || '_comparator'), 'null'::jsonb) = 'null'::jsonb
union all
select 'mart_district_year', d.unit_id, d.year, f.indicator_code
from {c}.mart_district_year d
join {c}.fct_indicator_facts f
  on f.unit_id = d.unit_id and f.period_start_year = d.year and f.is_single_year and f.comparator <> '='
where to_jsonb(d) ->> (f.indicator_code || '_comparator') = '='
union all
select 'mart_province_year', p.province_id, p.year, p.indicator_code
from {c}.mart_province_year p
where (p.value is not null and p.comparator is null)
   or (p.district_sum is not null and p.district_sum_comparator is null)
   or (p.province_reported_value is not null and p.province_reported_comparator is null)
"""


# The marts across the 2025 reform (issue 29). mart_unit_year's cells without their comparator
# (or shown exact over a bound), as for mart_district_year above; a divided commune shown as a
# whole successor; a former district's sum that says complete though a commune is only partly
# inside or did not report, or that adds a commune only partly inside.
UNIT_YEAR_BOUNDS_WITHOUT_COMPARATOR = """
select u.unit_id, u.year, i.indicator_code
from {c}.mart_unit_year u
cross join {c}.dim_indicator i
where i.is_in_district_year_mart
  and coalesce(to_jsonb(u) -> i.indicator_code, 'null'::jsonb) <> 'null'::jsonb
  and coalesce(to_jsonb(u) -> (i.indicator_code || '_comparator'), 'null'::jsonb) = 'null'::jsonb
union all
select u.unit_id, u.year, f.indicator_code
from {c}.mart_unit_year u
join {c}.fct_indicator_facts f
  on f.unit_id = u.unit_id and f.period_start_year = u.year and f.is_single_year and f.comparator <> '='
where to_jsonb(u) ->> (f.indicator_code || '_comparator') = '='
"""
LINEAGE_DIVIDED_AS_WHOLE = """
select old_unit_version_key, count(*) as n_new_units
from {c}.dim_admin_unit_lineage
group by old_unit_version_key
having count(*) > 1 and bool_or(not is_partial)
"""
FORMER_DISTRICT_OVERSTATED = """
select * from {c}.mart_former_district_year
where (is_complete and (n_communes_partly_inside > 0 or n_communes_reporting < n_communes_within))
   or communes_summed && communes_partly_inside
   or n_communes_reporting > n_communes_within
"""


def assets(candidate_schema: str) -> dict[str, tuple[str, str]]:
    """asset name → (query, suite name)."""
    c = candidate_schema
    return {
        "landing_articles": (
            f"select * from raw.articles where not synthetic and article_id not in {EXCLUDED_ARTICLES}",
            "landing__articles"),
        "landing_indicator_mentions": (
            f"select m.* from raw.indicator_mentions m join raw.articles a using (article_id) "
            f"where not a.synthetic and m.mention_id not in {EXCLUDED_MENTIONS} "
            f"and m.article_id not in {EXCLUDED_ARTICLES}",
            "landing__indicator_mentions"),
        "candidate_fct_indicator_facts": (f"select * from {c}.fct_indicator_facts", "candidate__fct_indicator_facts"),
        "candidate_mart_district_year": (f"select * from {c}.mart_district_year", "candidate__mart_district_year"),
        "candidate_flag_vs_percentage": (
            f"select * from {c}.mart_district_year where recruitment_quota_pct >= 100 "
            f"and recruitment_quota_met is false", "candidate__flag_vs_percentage"),
        "candidate_coverage_without_articles": (
            f"select * from {c}.mart_reporting_coverage where ((n_facts > 0 or has_year_end_review) "
            f"and n_articles = 0) or n_articles < n_articles_with_facts", "candidate__coverage_without_articles"),
        "candidate_province_partial_value": (
            f"select * from {c}.mart_province_year where value is not null and (value_basis is null "
            f"or (value_basis = 'district_sum' and n_districts_reporting < n_districts) "
            f"or (value_basis = 'reported' and n_provinces_reporting < n_provinces))",
            "candidate__province_partial_value"),
        "candidate_bounds_without_comparator": (BOUNDS_WITHOUT_COMPARATOR.format(c=c),
                                                "candidate__bounds_without_comparator"),
        "landing_unknown_units": (
            f"select m.* from raw.indicator_mentions m join raw.articles a using (article_id) "
            f"left join audit.gazetteer_unit_ids g on g.unit_id = m.unit_id "
            f"where g.unit_id is null and not a.synthetic and m.mention_id not in {EXCLUDED_MENTIONS}",
            "landing__unknown_units"),
        # the same title and body landed under two URLs of one source (e.g. the sample portal
        # served on two ports, or a tracking parameter in links): one article counted twice
        "landing_duplicate_articles": (
            f"select source, title, md5(body_text) as body_md5, count(*) as urls, min(url) as first_url, "
            f"max(url) as last_url from raw.articles where not synthetic and removed_at is null "
            f"and article_id not in {EXCLUDED_ARTICLES} group by source, title, md5(body_text) "
            f"having count(*) > 1",
            "landing__duplicate_articles"),
        # review decisions whose fact no longer exists (kept, reported): at most a threshold
        "candidate_review_orphans": (f"select * from {c}.mart_review_decisions where is_orphaned",
                                     "candidate__review_orphans"),
        "candidate_mart_unit_year": (f"select * from {c}.mart_unit_year", "candidate__mart_unit_year"),
        "candidate_unit_year_bounds_without_comparator": (UNIT_YEAR_BOUNDS_WITHOUT_COMPARATOR.format(c=c),
                                                          "candidate__bounds_without_comparator"),
        "candidate_dim_admin_unit_lineage": (f"select * from {c}.dim_admin_unit_lineage",
                                             "candidate__dim_admin_unit_lineage"),
        "candidate_lineage_divided_as_whole": (LINEAGE_DIVIDED_AS_WHOLE.format(c=c),
                                               "candidate__lineage_divided_as_whole"),
        "candidate_mart_former_district_year": (f"select * from {c}.mart_former_district_year",
                                                "candidate__mart_former_district_year"),
        "candidate_former_district_overstated": (FORMER_DISTRICT_OVERSTATED.format(c=c),
                                                 "candidate__former_district_overstated"),
        "published_publish_log": ("select at from audit.publish_log where published", "published__freshness"),
    }


CHECKPOINTS = {
    "landing": ["landing_articles", "landing_indicator_mentions", "landing_unknown_units",
                "landing_duplicate_articles"],
    "candidate": ["candidate_fct_indicator_facts", "candidate_mart_district_year", "candidate_flag_vs_percentage",
                  "candidate_coverage_without_articles", "candidate_province_partial_value",
                  "candidate_bounds_without_comparator", "candidate_review_orphans",
                  "candidate_mart_unit_year", "candidate_unit_year_bounds_without_comparator",
                  "candidate_dim_admin_unit_lineage", "candidate_lineage_divided_as_whole",
                  "candidate_mart_former_district_year", "candidate_former_district_overstated"],
    "published": ["published_publish_log"],
}

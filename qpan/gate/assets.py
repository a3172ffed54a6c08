"""What the quality gate validates: one query per GX asset, with its suite, and the checkpoints
that group them (qpan.gate.validate runs them through qpan.gate.gx).

A business rule of the candidate marts is not written here: dbt owns it, as a view listing the
rows that break it (dbt_project/models/checks/check_<rule>.sql, built beside the marts), and
the gate reads that view of the candidate schema with a suite that expects no row. The landing
checks run before dbt, on raw: their queries are here.
"""
from __future__ import annotations

# Rows of raw the landing gate quarantined (still unresolved): excluded from what is validated.
EXCLUDED_ARTICLES = """(select (q.payload->>'id')::bigint from raw.quarantine q
    where q.stage = 'landing' and q.resolved_at is null and q.payload->>'kind' = 'article')"""
EXCLUDED_MENTIONS = """(select (q.payload->>'id')::bigint from raw.quarantine q
    where q.stage = 'landing' and q.resolved_at is null and q.payload->>'kind' = 'mention')"""

# The business rules' views (dbt models in dbt_project/models/checks): suite candidate__<rule>
# expects check_<rule> to be empty.
RULES = ("flag_vs_percentage", "coverage_without_articles", "province_partial_value", "bounds_without_comparator",
         "lineage_divided_as_whole", "former_district_overstated")


def assets(candidate_schema: str) -> dict[str, tuple[str, str]]:
    """asset name → (query, suite name)."""
    c = candidate_schema
    rules = {f"candidate_{rule}": (f"select * from {c}.check_{rule}", f"candidate__{rule}") for rule in RULES}
    return {
        "landing_articles": (
            f"select * from raw.articles where not synthetic and article_id not in {EXCLUDED_ARTICLES}",
            "landing__articles"),
        "landing_indicator_mentions": (
            f"select m.* from raw.indicator_mentions m join raw.articles a using (article_id) "
            f"where not a.synthetic and m.mention_id not in {EXCLUDED_MENTIONS} "
            f"and m.article_id not in {EXCLUDED_ARTICLES}",
            "landing__indicator_mentions"),
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
        "candidate_fct_indicator_facts": (f"select * from {c}.fct_indicator_facts", "candidate__fct_indicator_facts"),
        "candidate_mart_district_year": (f"select * from {c}.mart_district_year", "candidate__mart_district_year"),
        "candidate_mart_unit_year": (f"select * from {c}.mart_unit_year", "candidate__mart_unit_year"),
        "candidate_dim_admin_unit_lineage": (f"select * from {c}.dim_admin_unit_lineage",
                                             "candidate__dim_admin_unit_lineage"),
        "candidate_mart_former_district_year": (f"select * from {c}.mart_former_district_year",
                                                "candidate__mart_former_district_year"),
        # review decisions whose fact no longer exists (kept, reported): at most a threshold
        "candidate_review_orphans": (f"select * from {c}.mart_review_decisions where is_orphaned",
                                     "candidate__review_orphans"),
        **rules,
        "published_publish_log": ("select at from audit.publish_log where published", "published__freshness"),
    }


CHECKPOINTS = {
    "landing": ["landing_articles", "landing_indicator_mentions", "landing_unknown_units",
                "landing_duplicate_articles"],
    "candidate": ["candidate_fct_indicator_facts", "candidate_mart_district_year", "candidate_flag_vs_percentage",
                  "candidate_coverage_without_articles", "candidate_province_partial_value",
                  "candidate_bounds_without_comparator", "candidate_review_orphans",
                  "candidate_mart_unit_year", "candidate_dim_admin_unit_lineage", "candidate_lineage_divided_as_whole",
                  "candidate_mart_former_district_year", "candidate_former_district_overstated"],
    "published": ["published_publish_log"],
}

"""The quality gate's expectation suites, as code: the reviewed definition (qpan.gate_gx builds
them into a context at each run; nothing is written back).

Values known only at run time (now, the catalogue's codes, the published row counts) are suite
parameters (`{"$PARAMETER": ...}`) that qpan.gate fills in. A "… must be none" suite expects
0 rows of a dbt view of the rows breaking a rule (dbt_project/models/checks, qpan.gate_assets).
"""
from __future__ import annotations

VIETNAMESE_LETTERS = "[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]"


def p(name: str) -> dict:
    """A suite parameter, filled in at run time (qpan.gate's parameters)."""
    return {"$PARAMETER": name}


def suites() -> dict[str, list]:
    """suite name → its expectations (new objects at each call: a suite takes ownership)."""
    import great_expectations.expectations as gxe

    return {
        # 1. Landing: what the crawler and extractor wrote (rows already quarantined are excluded).
        "landing__articles": [
            gxe.ExpectColumnValuesToNotBeNull(column="url"),
            gxe.ExpectColumnValuesToBeUnique(column="url"),
            gxe.ExpectColumnValuesToNotBeNull(column="title"),
            gxe.ExpectColumnValuesToNotBeNull(column="body_text"),
            gxe.ExpectColumnValuesToNotBeNull(column="published_at", mostly=0.95),
            gxe.ExpectColumnValuesToBeBetween(column="published_at", min_value=p("earliest_published"),
                                              max_value=p("now")),
            gxe.ExpectColumnValueLengthsToBeBetween(column="body_text", min_value=80, mostly=0.9),
            gxe.ExpectColumnValuesToMatchRegex(column="body_text", regex=VIETNAMESE_LETTERS, mostly=0.95),
        ],
        "landing__indicator_mentions": [
            gxe.ExpectColumnValuesToBeInSet(column="indicator", value_set=p("indicator_codes")),
            gxe.ExpectColumnValuesToNotBeNull(column="evidence"),
            gxe.ExpectColumnValuesToBeInSet(column="comparator", value_set=["=", ">", "<", "~"]),
            gxe.ExpectColumnValuesToMatchRegex(column="period", regex=r"^\d{4}(/\d{4})?$"),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="span_end", column_B="span_start"),
            gxe.ExpectColumnValuesToBeBetween(column="confidence", min_value=0, max_value=1),
        ],
        # facts whose unit_id is not in the gazetteer (after quarantine): there must be none
        "landing__unknown_units": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        # groups of one source's articles with the same title and body under different URLs
        # (the sample served on two ports, a tracking parameter): there must be none
        "landing__duplicate_articles": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        # 2. Candidate marts: what dbt just built into marts_candidate, before anyone sees it.
        "candidate__fct_indicator_facts": [
            gxe.ExpectColumnValuesToNotBeNull(column="fact_id"),
            gxe.ExpectColumnValuesToBeUnique(column="fact_id"),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["indicator_code", "unit_id", "period", "qualifiers_key"]),
            gxe.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=p("indicator_codes")),
            gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0),
            gxe.ExpectTableRowCountToBeBetween(min_value=p("min_rows_fct_indicator_facts")),
            gxe.ExpectColumnValuesToBeBetween(column="confidence", min_value=0, max_value=1),
        ],
        "candidate__mart_district_year": [
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["unit_id", "year"]),
            gxe.ExpectColumnValuesToBeBetween(column="recruitment_quota_pct", min_value=0, max_value=200),
            gxe.ExpectColumnValuesToBeBetween(column="recruits_enlisted", min_value=0),
            gxe.ExpectTableRowCountToBeBetween(min_value=p("min_rows_mart_district_year")),
        ],
        # the rules' views (dbt_project/models/checks/check_<rule>.sql): each must be empty
        # a quota reported missed though its percentage is at least 100
        "candidate__flag_vs_percentage": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        # coverage rows with facts (or a year-end review) but no article
        "candidate__coverage_without_articles": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        # province values that are a partial sum (not every district, or not every former province, reported)
        "candidate__province_partial_value": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        # wide-mart values without their comparator, or shown as exact though a fact is a bound
        "candidate__bounds_without_comparator": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        # review decisions whose fact no longer exists: kept and reported, at most a threshold
        # (QPAN_GATE_MAX_ORPHANED_REVIEWS)
        "candidate__review_orphans": [
            gxe.ExpectTableRowCountToBeBetween(min_value=0, max_value=p("max_orphaned_reviews")),
        ],
        # the marts across the 2025 reform (issue 29)
        "candidate__mart_unit_year": [
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["unit_id", "year"]),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["unit_version_key", "year"]),
            gxe.ExpectColumnValuesToNotBeNull(column="unit_version_key"),
            gxe.ExpectColumnValuesToBeInSet(column="level", value_set=["province", "district", "commune"]),
            gxe.ExpectColumnValuesToBeBetween(column="recruitment_quota_pct", min_value=0, max_value=200),
            gxe.ExpectColumnValuesToBeBetween(column="recruits_enlisted", min_value=0),
            gxe.ExpectTableRowCountToBeBetween(min_value=p("min_rows_mart_unit_year")),
        ],
        "candidate__dim_admin_unit_lineage": [
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["old_unit_version_key", "new_unit_version_key"]),
            gxe.ExpectColumnValuesToBeInSet(column="relation", value_set=["whole", "partial"]),
            gxe.ExpectColumnValuesToBeInSet(column="new_level", value_set=["province", "commune"]),
            gxe.ExpectTableRowCountToBeBetween(min_value=p("min_rows_dim_admin_unit_lineage")),
        ],
        # an old unit with several new units where one of them is said to have taken it whole
        "candidate__lineage_divided_as_whole": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        "candidate__mart_former_district_year": [
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["district_version_key", "year", "indicator_code"]),
            gxe.ExpectColumnValuesToBeInSet(column="indicator_code", value_set=p("indicator_codes")),
            gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0),
            gxe.ExpectColumnValuesToNotBeNull(column="is_complete"),
        ],
        # former-district sums said complete though not, or adding a commune only partly inside
        "candidate__former_district_overstated": [
            gxe.ExpectTableRowCountToEqual(value=0),
        ],
        # 3. Published marts: the last successful publish is recent enough.
        "published__freshness": [
            gxe.ExpectColumnMaxToBeBetween(column="at", min_value=p("fresh_after")),
        ],
    }

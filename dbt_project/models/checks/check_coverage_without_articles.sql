-- Rows that break a business rule (the quality gate expects none): coverage never says "facts,
-- but no article": a unit-year with facts or a year-end review has at least the articles they
-- come from (n_articles >= n_articles_with_facts, and > 0 when a review was found). Guards the
-- defects where a review published by a provincial source, or in the following January, left
-- its unit-year with facts and 0 articles.
select
    unit_id,
    year,
    n_articles,
    n_articles_with_facts,
    n_facts,
    has_year_end_review
from {{ ref('mart_reporting_coverage') }}
where
    ((n_facts > 0 or has_year_end_review) and n_articles = 0)
    or n_articles < n_articles_with_facts

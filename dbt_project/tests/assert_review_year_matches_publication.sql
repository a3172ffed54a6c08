-- The publication date checks the reviewed year: a (year-end) review reports on the year it was
-- published in (a December meeting) or the year before (a January one). A review dated to any
-- other year is worth a look (a retrospective, or a misread title).
{{ config(severity='warn') }}

select
    article_id,
    url,
    published_date,
    reviewed_year,
    report_year
from {{ ref('int_articles__classified') }}
where
    report_year_basis = 'reviewed_year'
    and report_year not between published_year - 1 and published_year

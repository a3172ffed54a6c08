{#
    Grain: one row per (unit_id, year) for every unit a source speaks for (seed `sources`,
    raw.articles.source_unit_id) in every year from the first to the last year seen, while the
    unit exists, plus every (unit, year) that has a single-year fact. It tells "no data"
    (no article, no review) from "zero" (a fact with value 0).

    An article counts for the unit it is about (the extractor's subject unit, else the unit its
    source speaks for) and the year it reports on: a year-end QP-AN review for the year it
    reviews (the extractor's reviewed year: "tổng kết ... năm 2020, triển khai nhiệm vụ năm
    2021" is 2020, whether published in December 2020 or January 2021), any other article for
    its publication year. An article that reports a single-year figure for a unit also counts
    for that unit and year, so a row with facts always has articles (n_articles >=
    n_articles_with_facts).
#}
with dated as (
    -- the per-article classification is done once, incrementally, in int_articles__classified;
    -- the unit is resolved here because the sources seed can change without any article reloading
    select
        articles.*,
        coalesce(articles.subject_unit_id, articles.source_unit_id, sources.unit_id) as unit_id
    from {{ ref('int_articles__classified') }} as articles
    left join {{ ref('stg_seeds__sources') }} as sources on articles.source = sources.source
),

facts as (
    select * from {{ ref('int_indicator_facts__consolidated') }}
    where period_start_year = period_end_year and unit_id is not null
),

fact_article_unit_years as (
    -- one row per (article, unit, year) for which the article reports a single-year figure
    select
        article_id,
        unit_id,
        year
    from {{ ref('int_articles__fact_unit_years') }}
),

fact_articles as (
    -- one row per (article, unit, year) there: counting rows counts distinct articles
    select
        unit_id,
        year,
        count(*) as n_articles_with_facts
    from fact_article_unit_years
    group by unit_id, year
),

units as (
    select * from {{ ref('dim_admin_unit') }}
),

years as (
    select generate_series(min(year), max(year)) as year
    from (
        select report_year as year from dated
        union all
        select published_year as year from dated
        union all
        select period_start_year as year from facts
    ) as seen
),

units_of_interest as (
    select unit_id from {{ ref('stg_seeds__sources') }}
    where unit_id is not null
    union
    select unit_id from dated
    where unit_id is not null
),

spine as (
    select distinct
        units_of_interest.unit_id,
        years.year
    from units_of_interest
    cross join years
    inner join units
        on
            units_of_interest.unit_id = units.unit_id
            and coalesce(units.valid_from, '-infinity'::date) <= make_date(years.year, 12, 31)
            and coalesce(units.valid_to, 'infinity'::date) >= make_date(years.year, 1, 1)
    union
    select
        unit_id,
        period_start_year as year
    from facts
),

article_counts as (
    -- an article about the unit, in the year it reports on, or with a figure for the unit-year
    select
        unit_id,
        year,
        count(distinct article_id) as n_articles
    from (
        select
            article_id,
            unit_id,
            report_year as year
        from dated
        where unit_id is not null and report_year is not null
        union
        select
            article_id,
            unit_id,
            year
        from fact_article_unit_years
    ) as article_unit_years
    group by unit_id, year
),

review_counts as (
    select
        unit_id,
        report_year as year,
        count(*) as n_year_end_reviews,
        array_agg(url order by published_at) as year_end_review_urls
    from dated
    where is_year_end_review and unit_id is not null and report_year is not null
    group by unit_id, report_year
),

fact_counts as (
    select
        unit_id,
        period_start_year as year,
        count(*) as n_facts,
        count(distinct indicator_code) as n_indicators_reported,
        count(*) filter (where has_conflict) as n_conflicting_facts
    from facts
    group by unit_id, period_start_year
)

select
    spine.unit_id,
    spine.year,
    unit_version.unit_version_key,
    unit_version.level as unit_level,
    unit_version.unit_full_name,
    unit_version.current_province_id,
    coalesce(article_counts.n_articles, 0) as n_articles,
    coalesce(review_counts.n_year_end_reviews, 0) as n_year_end_reviews,
    coalesce(review_counts.n_year_end_reviews, 0) > 0 as has_year_end_review,
    review_counts.year_end_review_urls,
    coalesce(fact_counts.n_facts, 0) as n_facts,
    coalesce(fact_counts.n_indicators_reported, 0) as n_indicators_reported,
    coalesce(fact_counts.n_conflicting_facts, 0) as n_conflicting_facts,
    coalesce(fact_articles.n_articles_with_facts, 0) as n_articles_with_facts,
    case
        when coalesce(fact_counts.n_facts, 0) > 0 then 'facts_extracted'
        when coalesce(review_counts.n_year_end_reviews, 0) > 0 then 'review_without_facts'
        when coalesce(article_counts.n_articles, 0) > 0 then 'articles_without_facts'
        else 'no_articles'
    end as coverage_status,
    -- the same status as an ordered level, for a heat map: 0 (no article) is "no report", never a zero figure
    case
        when coalesce(fact_counts.n_facts, 0) > 0 then 3
        when coalesce(review_counts.n_year_end_reviews, 0) > 0 then 2
        when coalesce(article_counts.n_articles, 0) > 0 then 1
        else 0
    end as coverage_level
from spine
left join article_counts on spine.unit_id = article_counts.unit_id and spine.year = article_counts.year
left join review_counts on spine.unit_id = review_counts.unit_id and spine.year = review_counts.year
left join fact_counts on spine.unit_id = fact_counts.unit_id and spine.year = fact_counts.year
left join fact_articles on spine.unit_id = fact_articles.unit_id and spine.year = fact_articles.year
left join lateral (
    select units.*
    from units
    where
        units.unit_id = spine.unit_id
    order by
        (
            coalesce(units.valid_from, '-infinity'::date) <= make_date(spine.year, 12, 31)
            and coalesce(units.valid_to, 'infinity'::date) >= make_date(spine.year, 1, 1)
        ) desc,
        units.valid_from desc nulls last
    limit 1
) as unit_version on true

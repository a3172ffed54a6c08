{#
    One row per article that counts (non-synthetic unless var include_synthetic, not
    quarantined), classified once: is it a year-end QP-AN review, which year does it report on,
    and which unit is it about.

    The year and the unit are the extractor's (qpan.extract.engine.describe_article, stored by
    the extraction step in raw.article_extractions): a review's year is the year it reviews
    ("tổng kết công tác QP-AN năm 2020, triển khai nhiệm vụ năm 2021" is 2020, published in
    December 2020 or January 2021), from the same period logic that dates the review's figures,
    checked against the publication date (any review, QP-AN or not, reports on the year it
    reviews); other articles report on their publication year.
    There is deliberately no second year regex here. An article not yet profiled falls back to
    its publication year (report_year_basis says which).

    The unit an article counts for is the extractor's subject unit (the unit the article is
    about, not its publisher); mart_reporting_coverage falls back to the publisher's unit (the
    `sources` seed, which can change without any article being reloaded) when there is none.
    Whether it is a year-end QP-AN review reads the title and the first 3,000 characters of the
    body, which only change with the content hash, i.e. when loaded_at moves.

    Incremental (delete+insert by article_id), in work proportional to what changed: the
    articles in the change log (int_articles__changed: (re)loaded, and the loader moves
    loaded_at whenever the text, source, date, unit or synthetic flag changes; deleted;
    quarantined or released) after this table's newest processed_at lose their row in a
    pre-hook and are reclassified if they still count. `--full-refresh` rebuilds from raw and
    gives the same rows (processed_at aside).
#}
-- depends_on: {{ ref('int_articles__changed') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        indexes=[
            {'columns': ['article_id'], 'unique': True},
            {'columns': ['processed_at']},
        ],
        pre_hook=["{{ delete_changed_articles() }}"],
        post_hook=["{{ analyze_after_full_refresh() }}"],
    )
}}

with
{% if is_incremental() %}
    changed_articles as materialized (
        {{ articles_changed_since_this() }}
    ),
{% endif %}

articles as (
    select
        articles.article_id,
        articles.source,
        articles.source_unit_id,
        articles.template,
        articles.url,
        articles.published_at,
        articles.published_date,
        articles.loaded_at,
        extractions.subject_unit_id,
        extractions.reviewed_year,
        coalesce(extractions.is_profiled, false) as is_profiled,
        lower({{ nfc('articles.title') }}) as title_lc,
        lower({{ nfc('left(articles.body_text, 3000)') }}) as body_lc
    from {{ ref('stg_raw__articles') }} as articles
    left join {{ ref('stg_raw__article_extractions') }} as extractions
        on articles.article_id = extractions.article_id
    where
        ({{ var('include_synthetic') | string | lower in ['true', '1'] }} or not articles.is_synthetic)
        and articles.article_id not in (
            select quarantined.row_id from {{ ref('int_quarantined_rows') }} as quarantined
            where quarantined.row_kind = 'article'
        )
        {% if is_incremental() %}
            and articles.article_id = any(array(select changed.article_id from changed_articles as changed))
        {% endif %}
),

classified as (
    select
        articles.*,
        (
            (
                articles.title_lc like '%tổng kết%'
                and (articles.title_lc || ' ' || articles.body_lc) ~ '(quốc phòng|qp ?[-–] ?an|qpan)'
            )
            or articles.body_lc ~ 'tổng kết (công tác |nhiệm vụ )?(quốc phòng|qp ?[-–] ?an|qpan)'
        ) as is_year_end_review,
        extract(year from articles.published_date)::integer as published_year
    from articles
)

select
    classified.article_id,
    classified.source,
    classified.source_unit_id,
    classified.template,
    classified.url,
    classified.published_at,
    classified.published_date,
    classified.published_year,
    classified.is_year_end_review,
    classified.subject_unit_id,
    classified.reviewed_year,
    classified.is_profiled,
    coalesce(classified.reviewed_year, classified.published_year) as report_year,
    case when classified.reviewed_year is not null then 'reviewed_year' else 'published_year' end
        as report_year_basis,
    classified.loaded_at,
    current_timestamp as processed_at
from classified

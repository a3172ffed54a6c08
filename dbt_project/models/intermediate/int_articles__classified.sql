{#
    One row per article that counts (non-synthetic unless var include_synthetic, not
    quarantined), classified once: is it a year-end QP-AN review, and which year does it
    report on ("năm YYYY" in the title, else the publication year, minus one when published in
    January-June). The classification reads the title and the first 3,000 characters of the
    body, which only change with the content hash, i.e. when loaded_at moves.

    The unit an article counts for is not stored here: it depends on the `sources` seed, which
    can change without any article being reloaded, so mart_reporting_coverage resolves it.

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
        lower({{ nfc('articles.title') }}) as title_lc,
        lower({{ nfc('left(articles.body_text, 3000)') }}) as body_lc
    from {{ ref('stg_raw__articles') }} as articles
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
        extract(year from articles.published_date)::integer as published_year,
        substring(articles.title_lc from 'tổng kết.*năm (20[0-9]{2})')::integer as title_year
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
    classified.title_year,
    case
        when not classified.is_year_end_review then classified.published_year
        when classified.title_year is not null then classified.title_year
        when extract(month from classified.published_date) <= 6 then classified.published_year - 1
        else classified.published_year
    end as report_year,
    classified.loaded_at,
    current_timestamp as processed_at
from classified

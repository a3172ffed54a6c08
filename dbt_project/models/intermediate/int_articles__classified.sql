{#
    One row per article that counts (non-synthetic unless var include_synthetic, not
    quarantined), classified once: is it a year-end QP-AN review, and which year does it
    report on ("năm YYYY" in the title, else the publication year, minus one when published in
    January-June). The classification reads the title and the first 3,000 characters of the
    body, which only change with the content hash, i.e. when loaded_at moves.

    The unit an article counts for is not stored here: it depends on the `sources` seed, which
    can change without any article being reloaded, so mart_reporting_coverage resolves it.

    Incremental (delete+insert by article_id), in work proportional to what changed: the
    articles (re)loaded at or after the previous build's safe watermark (load_watermark, see
    raw.safe_watermark in qpan/schema.sql; the loader moves loaded_at whenever the text, source,
    date, unit or synthetic flag changes) are reclassified. Post-hooks remove the articles that
    disappeared from raw, became synthetic or were quarantined. `--full-refresh` rebuilds from
    raw and gives the same rows (processed_at aside).
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        indexes=[
            {'columns': ['article_id'], 'unique': True},
            {'columns': ['load_watermark']},
        ],
        pre_hook=["select raw.safe_watermark()  -- snapshots the open transactions first (see qpan/schema.sql)"],
        post_hook=[
            "delete from {{ this }} as t using {{ ref('int_quarantined_rows') }} as q
                where q.row_kind = 'article' and q.row_id = t.article_id",
            "delete from {{ this }} as t where not exists (
                select 1 from {{ ref('stg_raw__articles') }} as a
                where a.article_id = t.article_id
                    and ({{ var('include_synthetic') | string | lower in ['true', '1'] }} or not a.is_synthetic)
            )",
        ],
    )
}}

with articles as (
    select
        articles.article_id,
        articles.source,
        articles.source_unit_id,
        articles.template,
        articles.url,
        articles.published_at,
        articles.published_date,
        articles.loaded_at,
        lower(normalize(articles.title)) as title_lc,
        lower(normalize(left(articles.body_text, 3000))) as body_lc
    from {{ ref('stg_raw__articles') }} as articles
    where
        ({{ var('include_synthetic') | string | lower in ['true', '1'] }} or not articles.is_synthetic)
        and articles.article_id not in (
            select quarantined.row_id from {{ ref('int_quarantined_rows') }} as quarantined
            where quarantined.row_kind = 'article'
        )
        {% if is_incremental() %}
            and articles.loaded_at >= {{ previous_load_watermark() }}
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
    current_timestamp as processed_at,
    raw.safe_watermark() as load_watermark
from classified

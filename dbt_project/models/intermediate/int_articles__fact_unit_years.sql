{#
    One row per (article, unit, year) for which the article reports a single-year fact: lets
    mart_reporting_coverage count the articles with facts per unit and year without reading
    every mention.

    Incremental, by article: the articles in the change log (int_articles__changed) after this
    table's newest processed_at lose their rows in a pre-hook and get their current ones back
    from the enriched model (none when the article no longer has a mention). `--full-refresh`
    gives the same rows (processed_at aside).
#}
-- depends_on: {{ ref('int_articles__changed') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='article_id',
        indexes=[
            {'columns': ['article_id']},
            {'columns': ['processed_at']},
        ],
        pre_hook=["{{ delete_changed_articles() }}"],
        post_hook=["{{ analyze_after_full_refresh() }}"],
    )
}}

select
    mentions.article_id,
    mentions.unit_id,
    mentions.period_start_year as year,
    max(mentions.processed_at) as processed_at
from {{ ref('int_indicator_mentions__enriched') }} as mentions
where
    mentions.period_start_year = mentions.period_end_year
    and mentions.unit_id is not null
    {% if is_incremental() %}
        and mentions.processed_at > (
            select coalesce(max(previous.processed_at), '-infinity') from {{ this }} as previous
        )
    {% endif %}
group by mentions.article_id, mentions.unit_id, mentions.period_start_year

{#
    The articles whose mentions the warehouse must recompute: (re)loaded, (re)extracted (with or
    without a result) at or after `since`, a timestamp expression. Rows in raw are stamped with
    now(), their transaction's start; `since` is the previous build's raw.safe_watermark().
#}
{% macro changed_articles(since) %}
    select changed_article.article_id from {{ source('raw', 'articles') }} as changed_article
    where changed_article.loaded_at >= {{ since }}
    union
    select changed_mention.article_id from {{ source('raw', 'indicator_mentions') }} as changed_mention
    where changed_mention.extracted_at >= {{ since }}
    union
    select changed_extraction.article_id from {{ source('raw', 'article_extractions') }} as changed_extraction
    where changed_extraction.extracted_at >= {{ since }}
{% endmacro %}

{# The previous build's safe watermark, as stored in the rows of the model being built. #}
{% macro previous_load_watermark() %}
    (select coalesce(max(previous.load_watermark), '-infinity'::timestamptz) from {{ this }} as previous)
{% endmacro %}

{#
    Pre-hook of the models kept per article downstream of the enriched model: the articles the
    enriched model reprocessed after this model's newest processed_at lose their rows here and
    get their current ones back from the model's own select.
#}
{% macro delete_articles_reenriched() %}
    {% if is_incremental() %}
        delete from {{ this }} where article_id in (
            select m.article_id from {{ ref('int_indicator_mentions__enriched') }} as m
            where m.processed_at > (select coalesce(max(p.processed_at), '-infinity') from {{ this }} as p)
        )
    {% endif %}
{% endmacro %}

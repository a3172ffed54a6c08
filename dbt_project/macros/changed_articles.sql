{#
    The articles whose warehouse rows must be recomputed because of what happened in raw at or
    after `since`, a timestamp expression: (re)loaded, (re)extracted (with or without a result),
    deleted (raw.article_deletions, written by a trigger), or quarantined or released by the
    landing gate (raw.quarantine.state_changed_at). Rows in raw are stamped with now(), their
    transaction's start; `since` is the previous build's raw.safe_watermark().
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
    union
    select deleted.article_id from {{ source('raw', 'article_deletions') }} as deleted
    where deleted.deleted_at >= {{ since }}
    union
    -- a review decision recorded (qpan review ...): its article's facts are recomputed
    select reviewed_article.article_id from {{ source('raw', 'articles') }} as reviewed_article
    inner join {{ source('review', 'decisions') }} as decision on reviewed_article.url = decision.article_url
    where decision.recorded_at >= {{ since }}
    union
    select
        case quarantined.payload ->> 'kind'
            when 'article' then (quarantined.payload ->> 'id')::bigint
            else (quarantined.payload ->> 'article_id')::bigint
        end
    from {{ source('raw', 'quarantine') }} as quarantined
    where
        quarantined.state_changed_at >= {{ since }}
        and quarantined.stage = 'landing'
        and quarantined.payload ->> 'kind' in ('article', 'mention')
{% endmacro %}

{# The previous build's safe watermark, as stored in the rows of the model being built. #}
{% macro previous_load_watermark() %}
    (select coalesce(max(previous.load_watermark), '-infinity'::timestamptz) from {{ this }} as previous)
{% endmacro %}

{#
    The articles logged in int_articles__changed after the newest processed_at of the model
    being built (all of them when it is empty): the per-article models delete their rows in a
    pre-hook and recompute them. An emptier table only means a wider (still exact) set.
#}
{% macro articles_changed_since_this() %}
    select changed.article_id from {{ ref('int_articles__changed') }} as changed
    where changed.changed_at > (
        select coalesce(max(previous.processed_at), '-infinity'::timestamptz) from {{ this }} as previous
    )
{% endmacro %}

{# Pre-hook of the per-article incremental models: drop the rows of the changed articles. #}
{% macro delete_changed_articles() %}
    {% if is_incremental() %}
        delete from {{ this }} where article_id = any(array({{ articles_changed_since_this() }}))
    {% endif %}
{% endmacro %}

{#
    Post-hook of the big incremental models: after a full rebuild, statistics now. Autovacuum
    analyzes a new 8M-row table only minutes later, and until then the planner guesses: the next
    incremental build (and its scoped tests) would scan whole tables instead of using the
    article_id / processed_at indexes.
#}
{% macro analyze_after_full_refresh() %}
    {% if not is_incremental() %}
        analyze {{ this }}
    {% endif %}
{% endmacro %}

{#
    The change log of the incremental models: one row per article and build, for every article
    whose warehouse rows that build must recompute, i.e. (re)loaded, (re)extracted (with or
    without a result), deleted from raw, or quarantined or released by the landing gate at or
    after the previous build's safe watermark (load_watermark: the start of the oldest
    transaction open during that build, see raw.safe_watermark in qpan/core/schema.sql).

    The per-article models downstream (classified, enriched, fct_indicator_mentions,
    fact_unit_years) delete the articles logged after their own newest processed_at and
    recompute them: a deleted, quarantined or now-synthetic article simply comes back with no
    rows. That is work proportional to the change, where anti-joining every row against raw at
    every build was proportional to the corpus.

    Append-only (a few bytes per changed article); `--full-refresh` starts it over with every
    article, which the models' full rebuild covers anyway.
#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook=["select raw.safe_watermark()  -- snapshots the open transactions first (see qpan/core/schema.sql)"],
        post_hook=["{{ analyze_after_full_refresh() }}"],
        indexes=[
            {'columns': ['changed_at']},
            {'columns': ['load_watermark']},
        ],
    )
}}

select
    changed.article_id,
    current_timestamp as changed_at,
    raw.safe_watermark() as load_watermark
from (
    {{ changed_articles(previous_load_watermark() if is_incremental() else "'-infinity'::timestamptz") }}
) as changed
where changed.article_id is not null

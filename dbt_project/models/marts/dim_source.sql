{#
    The sources of the catalogue (seed `sources`) and any other source seen in raw.articles,
    with the counts of their articles that count (synthetic and quarantined ones excluded), read
    from the narrow int_articles__classified rather than from the article bodies.
#}
with catalogue as (
    select * from {{ ref('stg_seeds__sources') }}
),

articles as (
    select * from {{ ref('int_articles__classified') }}
),

article_stats as (
    select
        source,
        count(*) as n_articles,
        min(published_date) as first_published_date,
        max(published_date) as last_published_date,
        max(loaded_at) as last_loaded_at,
        min(template) as observed_template,
        min(source_unit_id) as observed_unit_id
    from articles
    group by source
),

all_sources as (
    select source from catalogue
    union
    select source from article_stats
)

select
    all_sources.source,
    catalogue.source is not null as is_in_catalogue,
    coalesce(catalogue.template, article_stats.observed_template) as template,
    coalesce(catalogue.unit_id, article_stats.observed_unit_id) as unit_id,
    units.unit_name,
    coalesce(catalogue.source_kind, 'unknown') as source_kind,
    catalogue.base_url,
    coalesce(catalogue.is_sample, all_sources.source like 'sample\_%') as is_sample,
    coalesce(article_stats.n_articles, 0) as n_articles,
    article_stats.first_published_date,
    article_stats.last_published_date,
    article_stats.last_loaded_at
from all_sources
left join catalogue on all_sources.source = catalogue.source
left join article_stats on all_sources.source = article_stats.source
left join lateral (
    select admin_units.unit_name
    from {{ ref('stg_seeds__admin_units') }} as admin_units
    where admin_units.unit_id = coalesce(catalogue.unit_id, article_stats.observed_unit_id)
    order by admin_units.valid_to desc nulls first
    limit 1
) as units on true

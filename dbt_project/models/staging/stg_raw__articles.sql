with source as (
    select * from {{ source('raw', 'articles') }}
)

select
    article_id,
    source,
    url,
    title,
    published_at,
    (published_at at time zone '{{ var("local_timezone") }}')::date as published_date,
    author,
    lead,
    body_text,
    source_unit_id,
    template,
    content_hash,
    synthetic as is_synthetic,
    removed_at,
    parsed_at,
    loaded_at
from source

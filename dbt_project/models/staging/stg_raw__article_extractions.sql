with source as (
    select * from {{ source('raw', 'article_extractions') }}
)

select
    article_id,
    extractor_version,
    n_facts,
    -- the article's profile as the extractor reads it (qpan.extract.engine.describe_article)
    subject_unit_id,
    reviewed_year,
    profiled_at,
    profiled_at is not null as is_profiled,
    extracted_at
from source

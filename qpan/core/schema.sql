-- The landing zone (schema raw) and the audit trail (schema audit).
-- Applied by `qpan db migrate` (and every `make run`); every statement is idempotent.

create schema if not exists raw;
create schema if not exists audit;

-- Every HTTP response we received, kept verbatim: one row per distinct body of a URL,
-- so a refetch of unchanged content adds nothing and a changed page keeps its history.
create table if not exists raw.pages (
    page_id        bigserial primary key,
    source         text        not null,
    url            text        not null,
    status         integer     not null,
    headers        jsonb       not null default '{}'::jsonb,
    body           bytea,
    sha256         text        not null,
    fetched_at     timestamptz not null,
    last_seen_at   timestamptz not null,
    removed_at     timestamptz,
    unique (url, sha256)
);
create index if not exists pages_source_idx on raw.pages (source, fetched_at);

-- Parsed articles, upserted by URL.
create table if not exists raw.articles (
    article_id     bigserial primary key,
    source         text        not null,
    url            text        not null unique,
    title          text        not null,
    published_at   timestamptz,
    author         text,
    lead           text,
    body_text      text        not null,
    captions       jsonb       not null default '[]'::jsonb,
    body_variant   text        not null default 'html',
    source_unit_id text,
    template       text,
    content_hash   text        not null,
    page_sha256    text,
    synthetic      boolean     not null default false,
    removed_at     timestamptz,
    parsed_at      timestamptz not null default now(),
    loaded_at      timestamptz not null default now()
);
create index if not exists articles_source_idx on raw.articles (source, published_at);

-- Extracted indicator facts: re-extraction of an article replaces its rows for that version.
create table if not exists raw.indicator_mentions (
    mention_id        bigserial primary key,
    article_id        bigint      not null references raw.articles (article_id) on delete cascade,
    extractor_version text        not null,
    indicator         text        not null,
    value             numeric     not null,
    value_type        text        not null default 'number',
    comparator        text        not null default '=',
    unit_id           text,
    period            text        not null,
    qualifiers        jsonb       not null default '{}'::jsonb,
    evidence          text        not null,
    span_start        integer     not null,
    span_end          integer     not null,
    confidence        real        not null default 1.0,
    extracted_at      timestamptz not null default now(),
    unique (article_id, extractor_version, indicator, unit_id, period, span_start, qualifiers)
);
create index if not exists mentions_article_idx on raw.indicator_mentions (article_id, extractor_version);
-- The review key of a mention (qpan.review.catalog.review_key: article URL, the extractor's
-- indicator, the evidence span), stored once when the mention lands instead of an md5 per mention
-- at every build: the warehouse joins review decisions on it by index (issue 31). A loader may
-- supply it; otherwise the trigger below looks the article's URL up (a URL never changes for an
-- article_id: articles are upserted by URL). Rows written before the column existed are keyed once.
create or replace function raw.review_key(url text, indicator text, span_start integer, span_end integer)
    returns text language sql immutable parallel safe as $$
    select left(md5(url || '|' || indicator || '|' || span_start || '|' || span_end), 16)
$$;
do $$
begin
    if not exists (
        select 1 from information_schema.columns
        where table_schema = 'raw' and table_name = 'indicator_mentions' and column_name = 'review_key'
    ) then
        alter table raw.indicator_mentions add column review_key text;
        update raw.indicator_mentions as m
        set review_key = raw.review_key(a.url, m.indicator, m.span_start, m.span_end)
        from raw.articles as a
        where a.article_id = m.article_id;
        alter table raw.indicator_mentions alter column review_key set not null;
    end if;
end
$$;
create or replace function raw.set_mention_review_key() returns trigger
    language plpgsql as $$
begin
    if new.review_key is null or tg_op = 'UPDATE' then
        select raw.review_key(a.url, new.indicator, new.span_start, new.span_end)
        into new.review_key
        from raw.articles as a
        where a.article_id = new.article_id;
    end if;
    return new;
end
$$;
drop trigger if exists mentions_review_key on raw.indicator_mentions;
create trigger mentions_review_key
    before insert or update of article_id, indicator, span_start, span_end on raw.indicator_mentions
    for each row execute function raw.set_mention_review_key();
create index if not exists mentions_review_key_idx on raw.indicator_mentions (review_key);
-- The mention format of the domain contract, enforced on every write instead of being re-tested
-- over every row at every dbt build (millions of rows): a malformed mention fails its load, loudly.
do $$
begin
    if not exists (select 1 from pg_constraint where conname = 'indicator_mentions_format') then
        alter table raw.indicator_mentions add constraint indicator_mentions_format check (
            value_type in ('number', 'boolean')
            and comparator in ('=', '>', '<', '~')
            and period ~ '^[0-9]{4}(/[0-9]{4})?$'
        );
    end if;
end
$$;

-- Incremental dbt models read the rows stamped at or after the previous build's watermark.
-- Rows are stamped with now(), their transaction's start, so a transaction still open during a
-- build can commit rows stamped *before* that build: the safe watermark is the start of the
-- oldest transaction open in any client session (or now(); autovacuum writes no rows). A model reads it first in a pre-hook:
-- Postgres keeps the backend-status snapshot until the end of the transaction, so every
-- transaction that could still commit older stamps is counted. security definer: other roles'
-- sessions are visible to the owner only; the transformer may only call it.
create index if not exists articles_loaded_idx on raw.articles (loaded_at);
create index if not exists mentions_extracted_idx on raw.indicator_mentions (extracted_at);
create or replace function raw.safe_watermark() returns timestamptz
    language sql stable security definer set search_path = pg_catalog as $$
    select least(now(), coalesce(min(xact_start), now()))
    from pg_stat_activity
    where pid <> pg_backend_pid() and xact_start is not null and backend_type = 'client backend'
$$;
revoke all on function raw.safe_watermark() from public;

-- Which extractor version last processed each article (an article may yield no facts at all).
create table if not exists raw.article_extractions (
    article_id        bigint      primary key references raw.articles (article_id) on delete cascade,
    extractor_version text        not null,
    n_facts           integer     not null,
    extracted_at      timestamptz not null default now()
);
create index if not exists extractions_extracted_idx on raw.article_extractions (extracted_at);
-- What the extractor concludes about the article as a whole (qpan.extract.engine.describe_article):
-- the unit it is about and the year a year-end review is of. The marts read these instead of
-- re-deriving them in SQL (one definition). profiled_at is null for rows written before these
-- columns existed (or by a loader that does not profile): extract_pending re-extracts those.
alter table raw.article_extractions add column if not exists subject_unit_id text;
alter table raw.article_extractions add column if not exists reviewed_year integer;
alter table raw.article_extractions add column if not exists profiled_at timestamptz;

-- Whatever could not be parsed, extracted or admitted, with the reason. Nothing is dropped.
create table if not exists raw.quarantine (
    quarantine_id  bigserial primary key,
    stage          text        not null,
    source         text,
    url            text,
    reason         text        not null,
    detail         text,
    payload        jsonb,
    first_seen_at  timestamptz not null default now(),
    last_seen_at   timestamptz not null default now(),
    resolved_at    timestamptz,
    unique (stage, url, reason)
);
-- When the row was last quarantined or resolved (not merely seen again): an incremental build
-- reprocesses the articles whose quarantine state changed since its previous watermark.
alter table raw.quarantine add column if not exists state_changed_at timestamptz not null default now();
create index if not exists quarantine_state_changed_idx on raw.quarantine (state_changed_at);

-- Articles deleted from raw (by hand, a retention job, a test): written by a statement trigger,
-- so an incremental build removes their rows from the warehouse by index, in work proportional
-- to the deletions, instead of anti-joining every row against raw.articles at every build.
create table if not exists raw.article_deletions (
    article_id  bigint      not null,
    deleted_at  timestamptz not null default now()
);
create index if not exists article_deletions_deleted_idx on raw.article_deletions (deleted_at);
create or replace function raw.log_article_deletions() returns trigger
    language plpgsql security definer set search_path = pg_catalog as $$
begin
    insert into raw.article_deletions (article_id) select distinct article_id from deleted_articles;
    return null;
end
$$;
revoke all on function raw.log_article_deletions() from public;
create or replace trigger articles_log_deletions
    after delete on raw.articles referencing old table as deleted_articles
    for each statement execute function raw.log_article_deletions();

-- Per-source crawl state: high-water mark for incremental runs, conditional-GET validators.
create table if not exists raw.source_state (
    source         text primary key,
    high_water_mark timestamptz,
    last_run_at    timestamptz,
    last_status    text
);
create table if not exists raw.http_validators (
    url            text primary key,
    etag           text,
    last_modified  text,
    checked_at     timestamptz not null default now()
);

-- Every expectation evaluated by the quality gate, so quality over time can be charted.
create table if not exists audit.validation_results (
    result_id      bigserial primary key,
    run_id         text        not null,
    suite          text        not null,
    expectation    text        not null,
    column_name    text,
    success        boolean     not null,
    observed_value text,
    details        jsonb,
    validated_at   timestamptz not null default now()
);
-- Every `dbt build` of the whole project that passed all its data tests (qpan.transform.warehouse.build).
-- The row-level tests of the big per-article models test only rows processed after the end of
-- the latest one (see dbt_project/macros/get_where_subquery.sql): every older row was tested by
-- a build that passed, and a failed build's rows stay in scope until one passes.
create table if not exists audit.tested_builds (
    build_id       bigserial primary key,
    marts_schema   text        not null,
    full_refresh   boolean     not null,
    started_at     timestamptz not null,
    finished_at    timestamptz not null default now()
);
create table if not exists audit.publish_log (
    publish_id     bigserial primary key,
    run_id         text        not null,
    published      boolean     not null,
    reason         text,
    at             timestamptz not null default now()
);

-- Reference: every unit_id of the gazetteer (loaded by migrate from dbt_project/seeds/admin_units.csv),
-- so the landing gate can check attribution without waiting for dbt's seeds.
create table if not exists audit.gazetteer_unit_ids (
    unit_id text primary key
);

-- The audit trail is read by analysts and BI tools (qpan_analyst may read `audit`): its tables
-- and columns carry descriptions like the marts' (COMMENT replaces, so this stays idempotent).
comment on table audit.validation_results is
    'One row per expectation evaluated by the quality gate (GX), per run: chart data quality over time. Suites: landing__* (raw), candidate__* (marts before publish), published__* (freshness).';
comment on column audit.validation_results.result_id is 'Surrogate key.';
comment on column audit.validation_results.run_id is 'The gate run (the Airflow run id, or manual__...): one run evaluates many expectations.';
comment on column audit.validation_results.suite is 'Expectation suite, e.g. candidate__province_partial_value (see expectations/gx/expectations).';
comment on column audit.validation_results.expectation is 'Expectation type, e.g. expect_table_row_count_to_equal.';
comment on column audit.validation_results.column_name is 'Column the expectation is about (null for table-level expectations).';
comment on column audit.validation_results.success is 'True when the expectation held; a failed candidate expectation stops the publish.';
comment on column audit.validation_results.observed_value is 'What GX observed (e.g. the number of offending rows), as text.';
comment on column audit.validation_results.details is 'The expectation''s configuration and result details (JSON).';
comment on column audit.validation_results.validated_at is 'When the expectation was evaluated.';

comment on table audit.publish_log is
    'One row per attempt to publish the candidate marts: published (swapped into marts) or refused, and why.';
comment on column audit.publish_log.publish_id is 'Surrogate key.';
comment on column audit.publish_log.run_id is 'The run that built and validated the candidate (see audit.validation_results.run_id).';
comment on column audit.publish_log.published is 'True when the candidate passed the gate and became marts; false when it was refused.';
comment on column audit.publish_log.reason is 'gate passed, or the failed expectations that refused the candidate.';
comment on column audit.publish_log.at is 'When the candidate was published or refused.';

comment on table audit.tested_builds is
    'Every dbt build of the whole project that passed all its data tests; the big models re-test only rows processed after the latest one.';
comment on column audit.tested_builds.build_id is 'Surrogate key.';
comment on column audit.tested_builds.marts_schema is 'Schema the marts were built into (marts_candidate normally).';
comment on column audit.tested_builds.full_refresh is 'True for a full rebuild from raw.';
comment on column audit.tested_builds.started_at is 'When the build started.';
comment on column audit.tested_builds.finished_at is 'When it finished with every test passing.';

comment on table audit.gazetteer_unit_ids is
    'Every unit_id of the gazetteer (dbt_project/seeds/admin_units.csv), loaded by migrate: the landing gate checks facts'' units against it.';
comment on column audit.gazetteer_unit_ids.unit_id is 'Gazetteer unit_id (GSO code path, e.g. 38.395).';

-- The review loop (issue 18): what people decided about facts. Written only by qpan_reviewer
-- (grants in qpan/core/db.py); append-only: a new decision supersedes the previous one for the same
-- review_key (the latest recorded_at, then decision_id, is current) and the history stays.
-- recorded_at and db_role are the database's (the trigger below overwrites what a client sends):
-- a decision dated into the future by hand or by an imported file cannot win forever.
-- review_key is stable across re-extraction and rebuilds: the article's URL, the indicator the
-- extractor gave and the evidence span (qpan/review/store.py: review_key), never a surrogate id.
create schema if not exists review;
create table if not exists review.decisions (
    decision_id    bigserial   primary key,
    review_key     text        not null,
    article_url    text        not null,
    content_hash   text,
    indicator      text        not null,
    span_start     integer     not null,
    span_end       integer     not null,
    evidence       text        not null,
    decision       text        not null check (decision in ('confirm', 'correct', 'reject', 'add')),
    old_indicator  text,
    old_value      numeric,
    old_unit_id    text,
    old_period     text,
    new_indicator  text,
    new_value      numeric,
    new_value_type text,
    new_unit_id    text,
    new_period     text        check (new_period is null or new_period ~ '^[0-9]{4}(/[0-9]{4})?$'),
    note           text,
    decided_by     text        not null default current_user,
    db_role        text        not null default current_user,
    decided_at     timestamptz not null default now(),
    -- when the row was written (decided_at may come from an imported spreadsheet): the
    -- incremental models reprocess the articles whose decisions were recorded since their last build
    recorded_at    timestamptz not null default now(),
    check (span_end >= span_start),
    check (decision = 'reject' or (new_indicator is not null and new_value is not null and new_period is not null))
);
create index if not exists decisions_key_idx on review.decisions (review_key, decided_at, decision_id);
create index if not exists decisions_url_idx on review.decisions (article_url);
create index if not exists decisions_recorded_idx on review.decisions (recorded_at);
create index if not exists decisions_key_recorded_idx on review.decisions (review_key, recorded_at, decision_id);
-- what the database records, whatever the client sends: when (now(): the transaction's start, as
-- the incremental models' watermark counts it) and as which role; decided_at (a person's claim,
-- kept as history) defaults to that time and may not be later than it
create or replace function review.stamp_decision() returns trigger
    language plpgsql set search_path = pg_catalog as $$
begin
    new.recorded_at := now();
    new.db_role := current_user;
    new.decided_at := coalesce(new.decided_at, new.recorded_at);
    if new.decided_at > new.recorded_at then
        raise exception 'decided_at % is later than the time the decision is recorded (%)',
            new.decided_at, new.recorded_at using errcode = 'check_violation';
    end if;
    return new;
end
$$;
revoke all on function review.stamp_decision() from public;
create or replace trigger decisions_stamp
    before insert on review.decisions
    for each row execute function review.stamp_decision();
comment on table review.decisions is
    'Every review decision (confirm / correct / reject / add) on a fact, append-only: the latest recorded per review_key is current.';
comment on column review.decisions.recorded_at is 'When the database recorded the decision (set by the decisions_stamp trigger, never by the client); orders the decisions of a fact.';
comment on column review.decisions.db_role is 'The database role that recorded it (set by the trigger).';
comment on column review.decisions.decided_at is 'When the person says they decided (imported files carry it): history only, never later than recorded_at.';
-- Source health (issue 19): one row per crawl of a source (scrapers.crawl.crawl_source), with
-- what it fetched, what failed and why, and the status qpan.health judged from it and the
-- source's own history. marts.mart_source_health, `qpan sources status` and the report read it.
-- A log of crawls, so in `audit`: raw stays a landing zone that a rerun leaves unchanged.
create table if not exists audit.crawl_runs (
    crawl_id                 bigserial   primary key,
    run_id                   text,
    source                   text        not null,
    started_at               timestamptz not null,
    finished_at              timestamptz not null default now(),
    list_pages               integer     not null default 0,
    article_pages            integer     not null default 0,
    articles_landed          integer     not null default 0,
    articles_updated         integer     not null default 0,
    parse_attempts           integer     not null default 0,
    parse_failures           integer     not null default 0,
    parse_failures_by_reason jsonb       not null default '{}'::jsonb,
    failing_selectors        jsonb       not null default '{}'::jsonb,
    quarantined              integer     not null default 0,
    quarantine_rate          real        not null default 0,
    requests                 integer     not null default 0,
    http_errors              integer     not null default 0,
    http_errors_by_class     jsonb       not null default '{}'::jsonb,
    robots_refusals          integer     not null default 0,
    median_response_ms       real,
    newest_article_at        timestamptz,
    last_new_article_at      timestamptz,
    days_since_new_article   real,
    usual_gap_days           real,
    silent_after_days        real,
    status                   text        not null,
    status_reason            text
);
create index if not exists crawl_runs_source_idx on audit.crawl_runs (source, started_at);

-- Alerts sent (qpan.health.alerts): one row per problem episode, from the message that opened it
-- to the recovery that closed it, so a problem is announced once, not at every run.
create table if not exists audit.alerts (
    alert_id     bigserial   primary key,
    problem_key  text        not null,
    status       text        not null,
    message      text        not null,
    opened_at    timestamptz not null default now(),
    cleared_at   timestamptz,
    recovery     text
);
create unique index if not exists alerts_open_idx on audit.alerts (problem_key) where cleared_at is null;
-- The alert outbox (qpan.health.outbox): every alert for the webhook, kept until the webhook
-- accepts it, retried with back-off; sent_at set once.
create table if not exists audit.alert_outbox (
    outbox_id        bigserial   primary key,
    idempotency_key  text        not null unique,
    payload          jsonb       not null,
    created_at       timestamptz not null default now(),
    attempts         integer     not null default 0,
    next_attempt_at  timestamptz not null default now(),
    last_error       text,
    sent_at          timestamptz
);
create index if not exists alert_outbox_pending_idx on audit.alert_outbox (next_attempt_at) where sent_at is null;
comment on table audit.alert_outbox is
    'Alerts for the webhook (qpan.health.outbox), from when they were raised until the webhook accepted them: retried with back-off, each sent once, with its idempotency key in the payload.';
comment on column audit.alert_outbox.outbox_id is 'Surrogate key: the order alerts are sent in.';
comment on column audit.alert_outbox.idempotency_key is 'Unique key of the alert, sent in the payload and the Idempotency-Key header: a receiver that sees it twice can drop the second.';
comment on column audit.alert_outbox.payload is 'The alert as posted (JSON: kind, key, status, text, idempotency_key).';
comment on column audit.alert_outbox.created_at is 'When the alert was raised (UTC).';
comment on column audit.alert_outbox.attempts is 'Posts tried so far.';
comment on column audit.alert_outbox.next_attempt_at is 'When the next post is due (back-off after a failure; UTC).';
comment on column audit.alert_outbox.last_error is 'Why the last post failed (the webhook named by scheme and host only); null once sent.';
comment on column audit.alert_outbox.sent_at is 'When the webhook accepted it (UTC); null while pending.';
comment on table audit.crawl_runs is
    'One row per crawl of one source (scrapers.crawl): what it fetched and landed, what failed and why, and the health status judged from it (qpan.health); read by marts.mart_source_health and qpan sources status.';
comment on column audit.crawl_runs.crawl_id is 'Surrogate key.';
comment on column audit.crawl_runs.run_id is 'The Airflow run (or manual run) that crawled.';
comment on column audit.crawl_runs.source is 'Source name, as in the registry (scrapers/sources.yml).';
comment on column audit.crawl_runs.started_at is 'When the crawl of this source started.';
comment on column audit.crawl_runs.finished_at is 'When it ended.';
comment on column audit.crawl_runs.list_pages is 'List (index) pages fetched and read.';
comment on column audit.crawl_runs.article_pages is 'Article pages fetched.';
comment on column audit.crawl_runs.articles_landed is 'Articles new to raw.articles.';
comment on column audit.crawl_runs.articles_updated is 'Articles already stored whose content changed.';
comment on column audit.crawl_runs.parse_attempts is 'Article pages the parser was run on.';
comment on column audit.crawl_runs.parse_failures is 'Article pages that failed to parse (quarantined with their reason).';
comment on column audit.crawl_runs.parse_failures_by_reason is 'Parse failures by reason (JSON: reason -> count).';
comment on column audit.crawl_runs.failing_selectors is 'The template selectors that matched nothing (JSON: selector -> count): what a template change broke.';
comment on column audit.crawl_runs.quarantined is 'Pages quarantined by this crawl.';
comment on column audit.crawl_runs.quarantine_rate is 'Share of the pages handled (parsed or failed to fetch) that were quarantined.';
comment on column audit.crawl_runs.requests is 'HTTP requests sent: those answered plus those that timed out or failed on the network.';
comment on column audit.crawl_runs.http_errors is 'Requests that ended in an HTTP error or a connection failure.';
comment on column audit.crawl_runs.http_errors_by_class is 'HTTP errors by class (JSON: class -> count, e.g. 5xx, 403, 429, timeout, network).';
comment on column audit.crawl_runs.robots_refusals is 'URLs not fetched because robots.txt disallows them.';
comment on column audit.crawl_runs.median_response_ms is 'Median response time of this crawl''s requests, in milliseconds.';
comment on column audit.crawl_runs.newest_article_at is 'Publication time of the newest article this source has landed.';
comment on column audit.crawl_runs.last_new_article_at is 'When a crawl of this source last found a new article.';
comment on column audit.crawl_runs.days_since_new_article is 'Days from last_new_article_at to this crawl.';
comment on column audit.crawl_runs.usual_gap_days is 'The source''s usual gap between new articles, learned from its own history (null until known).';
comment on column audit.crawl_runs.silent_after_days is 'Days without a new article after which the source counts as silent (the usual gap, at least the configured floor).';
comment on column audit.crawl_runs.status is 'ok, silent, drift (parse failures jumped: template changed), failing (fetch errors) or blocked (robots, 403/429).';
comment on column audit.crawl_runs.status_reason is 'Why the status was given, in words (e.g. the failing selector).';
comment on table audit.alerts is
    'One row per problem episode announced by qpan.health.alerts, from the message that opened it to the recovery that closed it: a problem is announced once, not at every run.';
comment on column audit.alerts.alert_id is 'Surrogate key.';
comment on column audit.alerts.problem_key is 'What the problem is about: source:<name> (its status) or task:<dag>.<task> (a failed task); one open row per key.';
comment on column audit.alerts.status is 'The status the problem was announced with (e.g. drift, failing, blocked, silent).';
comment on column audit.alerts.message is 'The alert message sent (webhook or log).';
comment on column audit.alerts.opened_at is 'When the problem was first announced.';
comment on column audit.alerts.cleared_at is 'When its recovery was announced (null while open).';
comment on column audit.alerts.recovery is 'The recovery message sent.';

-- Web-archive captures (scrapers/archive.py): a capture lands in raw.pages under its original URL,
-- with the archive's capture time (UTC) and digest; live pages leave both null.
alter table raw.pages add column if not exists captured_at timestamptz;
alter table raw.pages add column if not exists archive_digest text;
-- The archive's CDX answers, cached: one row per capture listed, with what became of it, so a rerun
-- asks the archive only for the range not listed yet and fetches only the captures not done.
-- state: listed (to fetch), landed, duplicate (a digest already landed), quarantined, failed (retried
-- on the next run), irrelevant (not a QP-AN article).
create table if not exists raw.archive_captures (
    original_url   text        not null,
    timestamp14    text        not null,
    captured_at    timestamptz not null,
    archive_source text        not null,
    mimetype       text,
    statuscode     text,
    digest         text        not null,
    length         bigint,
    state          text        not null default 'listed',
    reason         text,
    landed_as      text,
    listed_at      timestamptz not null default now(),
    done_at        timestamptz,
    primary key (original_url, timestamp14)
);
create index if not exists archive_captures_source_idx on raw.archive_captures (archive_source, state);
-- The ranges of capture days already listed for an archive source's prefix (the CDX cache's coverage).
create table if not exists raw.archive_listings (
    archive_source text        not null,
    prefix         text        not null,
    from_day       date        not null,
    to_day         date        not null,
    captures       integer     not null,
    listed_at      timestamptz not null default now(),
    primary key (archive_source, prefix, from_day, to_day)
);

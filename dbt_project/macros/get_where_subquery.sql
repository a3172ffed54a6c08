{#
    dbt's get_where_subquery (what a data test's `where` config filters its model by), plus one
    placeholder: `__tested_before__` is the end of the latest whole-project `dbt build` that
    passed all its data tests (audit.tested_builds, written by qpan.transform.warehouse.build and by the
    transform DAG after its cosmos tasks).

    The row-level tests of the per-article incremental models (millions of mention rows) use
    `where: "processed_at > __tested_before__"`: a row only changes with its article, which
    gives it a new processed_at, and every row processed before that build ended was tested
    by it or by an earlier build that passed (each build tests the rows processed after the
    previous passing build ended, its own included). The rows of a build whose tests failed
    stay in scope until a build passes; with no such build on record (a fresh warehouse, or builds made
    outside qpan.transform.warehouse.build) every row is tested.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace(
            '__tested_before__',
            "(select coalesce(max(tested.finished_at), '-infinity'::timestamptz) from audit.tested_builds as tested)"
        ) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

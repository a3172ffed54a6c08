{#
    Grain: one row per (unit_id, year, indicator_code) with a single-year fact.
    The year value of an indicator for a unit, from its facts (one per qualifier set):
      - awards (var summed_across_statements): the sum over all award statements;
      - otherwise the headline fact (no qualifiers) when there is one;
      - otherwise the sum over qualifier sets for additive indicators;
      - otherwise the most recently reported fact's value.
    Between facts, a reviewed one (confirmed / corrected / added) counts before unreviewed ones.
    Conflicts inside a fact are carried as has_conflict (facts already pick one value by rule).
    `comparator` goes with `value`: the chosen fact's comparator, or for a sum the comparators
    of the summed facts combined (a sum over a bound is a bound: "hơn 1.000" + 5 is "> 1005").
#}
{%- set reviewed_first = "(facts.review_status <> 'unreviewed') desc," %}
with facts as (
    select * from {{ ref('int_indicator_facts__consolidated') }}
    where period_start_year = period_end_year and unit_id is not null
),

indicators as (
    select * from {{ ref('stg_seeds__indicators') }}
)

select
    facts.unit_id,
    facts.period_start_year as year,
    facts.indicator_code,
    case
        when facts.indicator_code in (
                {%- for code in var('summed_across_statements') %}
                    '{{ code }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ) then sum(facts.value)
        when bool_or(facts.qualifiers = '{}'::jsonb)
            then max(facts.value) filter (where facts.qualifiers = '{}'::jsonb)
        when bool_and(indicators.is_additive) then sum(facts.value)
        else (
            array_agg(
                facts.value
                order by {{ reviewed_first }} facts.last_reported_at desc nulls last, facts.fact_id asc
            )
        )[1]
    end as value,
    case
        when facts.indicator_code in (
                {%- for code in var('summed_across_statements') %}
                    '{{ code }}'{{ ',' if not loop.last }}
                {%- endfor %}
            ) then {{ combine_comparators('facts.comparator') }}
        when bool_or(facts.qualifiers = '{}'::jsonb)
            then max(facts.comparator) filter (where facts.qualifiers = '{}'::jsonb)
        when bool_and(indicators.is_additive) then {{ combine_comparators('facts.comparator') }}
        else (
            array_agg(
                facts.comparator
                order by {{ reviewed_first }} facts.last_reported_at desc nulls last, facts.fact_id asc
            )
        )[1]
    end as comparator,
    -- the strongest review status among the facts behind the value: corrected, added, confirmed
    case
        when bool_or(facts.review_status = 'corrected') then 'corrected'
        when bool_or(facts.review_status = 'added') then 'added'
        when bool_or(facts.review_status = 'confirmed') then 'confirmed'
        else 'unreviewed'
    end as review_status,
    count(*) as n_facts,
    sum(facts.n_mentions) as n_mentions,
    max(facts.n_sources) as max_sources_per_fact,
    bool_or(facts.has_conflict) as has_conflict,
    (array_agg(facts.unit_version_key order by facts.last_reported_at desc nulls last))[1] as unit_version_key
from facts
left join indicators on facts.indicator_code = indicators.indicator_code
group by facts.unit_id, facts.period_start_year, facts.indicator_code

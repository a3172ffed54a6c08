"""One definition per rule: a business rule of the candidate marts is a dbt view of the rows that
break it (dbt_project/models/checks), which the gate reads; the gate holds no rule's SQL. Static
checks of the files, no database."""
from __future__ import annotations

import re

from qpan.core import config
from qpan.gate import assets as gate_assets
from qpan.gate.suites import suites

DBT = config.REPO_ROOT / "dbt_project"
CHECKS = sorted(p.stem.removeprefix("check_") for p in (DBT / "models" / "checks").glob("check_*.sql"))


def test_every_rule_view_is_validated_by_a_suite_that_expects_it_empty():
    assert CHECKS and sorted(gate_assets.RULES) == CHECKS
    all_suites = suites()
    assets = gate_assets.assets("marts_candidate")
    for rule in CHECKS:
        assert assets[f"candidate_{rule}"] == (f"select * from marts_candidate.check_{rule}", f"candidate__{rule}")
        assert f"candidate_{rule}" in gate_assets.CHECKPOINTS["candidate"]
        [expectation] = all_suites[f"candidate__{rule}"]
        assert expectation.expectation_type == "expect_table_row_count_to_equal" and expectation.value == 0


def test_the_gate_reads_candidate_relations_and_writes_no_rule_of_its_own():
    # a candidate asset is a whole relation of the candidate schema, at most filtered on one flag column
    for name in gate_assets.CHECKPOINTS["candidate"]:
        query, _ = gate_assets.assets("marts_candidate")[name]
        assert re.fullmatch(r"select \* from marts_candidate\.\w+( where \w+)?", query), query


def test_a_rule_view_reads_only_marts():
    """A view on a staging or intermediate relation would be dropped with it (cascade) when dbt
    rebuilds that relation, taking the published marts' copy of the view with it."""
    marts = {p.stem for p in (DBT / "models" / "marts").glob("*.sql")}
    for rule in CHECKS:
        sql = (DBT / "models" / "checks" / f"check_{rule}.sql").read_text(encoding="utf-8")
        refs = set(re.findall(r"ref\('(\w+)'\)", sql))
        assert refs and refs <= marts, (rule, refs - marts)
        assert "source(" not in sql


def test_no_rule_is_also_a_singular_dbt_test():
    singular = " ".join(p.read_text(encoding="utf-8") for p in (DBT / "tests").glob("*.sql"))
    for rule in CHECKS:
        assert f"check_{rule}" not in singular

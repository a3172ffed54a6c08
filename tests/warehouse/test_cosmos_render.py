"""The transform DAG as astronomer-cosmos renders it (`QPAN_TRANSFORM_MODE=cosmos`), parsed in
process through Airflow's DagBag from a fresh `dbt parse` manifest: one build task per dbt model,
the edges of dbt's graph between them, tests of several models after all their parents, and the
group between the seeds and the tested-build record. No task runs here: the full cosmos run is
`tests/e2e/test_main_job.py::test_the_cosmos_run_*` (marker `cosmos`, `make test-all`)."""
from __future__ import annotations

import json

import pytest

from qpan.core import config
from qpan.transform import warehouse

DAG_FILE = config.REPO_ROOT / "dags" / "qpan_transform.py"


def _transform_dag(monkeypatch, mode: str | None):
    from airflow.dag_processing.dagbag import DagBag

    if mode is None:
        monkeypatch.delenv("QPAN_TRANSFORM_MODE", raising=False)
    else:
        monkeypatch.setenv("QPAN_TRANSFORM_MODE", mode)
    bag = DagBag(dag_folder=DAG_FILE)
    assert bag.import_errors == {}
    return bag.dags["qpan_transform"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    target = tmp_path_factory.mktemp("dbt-target")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_TARGET_PATH", str(target))  # the DAG file reads its manifest from here
        path = warehouse.parse_manifest()
    return target, json.loads(path.read_text())


@pytest.fixture()
def cosmos_dag(manifest, airflow_home, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(manifest[0]))
    return _transform_dag(monkeypatch, "cosmos")


def _models(manifest: dict) -> dict[str, dict]:
    return {node["name"]: node for node in manifest["nodes"].values() if node["resource_type"] == "model"}


def test_each_model_is_one_build_task_with_dbts_edges(manifest, cosmos_dag):
    models = _models(manifest[1])
    tasks = cosmos_dag.task_dict
    builds = {tid for tid in tasks if tid.startswith("dbt.") and tid.endswith("_model_build")}
    assert builds == {f"dbt.{name}_model_build" for name in models}
    assert {type(tasks[tid]).__name__ for tid in builds} == {"DbtBuildLocalOperator"}
    by_id = {node["unique_id"]: name for name, node in models.items()}
    edges = 0
    for name, node in models.items():
        for parent in node["depends_on"]["nodes"]:
            if parent in by_id:
                assert f"dbt.{name}_model_build" in tasks[f"dbt.{by_id[parent]}_model_build"].downstream_task_ids, \
                    f"{by_id[parent]} -> {name}"
                edges += 1
    assert edges > len(models)  # a graph, not a list
    # the marts land in the candidate schema, for the gate before publish
    assert all(tasks[tid].env.get("QPAN_MARTS_SCHEMA") == "marts_candidate" for tid in builds)


def test_a_test_of_several_models_runs_after_all_of_them(manifest, cosmos_dag):
    models = {node["unique_id"]: name for name, node in _models(manifest[1]).items()}
    detached = [node for node in manifest[1]["nodes"].values() if node["resource_type"] == "test"
                and len({p for p in node["depends_on"]["nodes"] if p in models}) > 1]
    assert detached, "the project has tests across models (relationships, singular invariants)"
    for test in detached:
        task = cosmos_dag.task_dict[f"dbt.{test['name']}_test"]
        parents = {f"dbt.{models[p]}_model_build" for p in test["depends_on"]["nodes"] if p in models}
        assert parents <= task.upstream_task_ids, test["name"]
        assert task.downstream_task_ids == {"dbt_tests_passed"}


def test_the_group_sits_between_the_seeds_and_the_tested_build_record(cosmos_dag):
    tasks = cosmos_dag.task_dict
    group = {tid for tid in tasks if tid.startswith("dbt.")}
    roots = {tid for tid in group if not (tasks[tid].upstream_task_ids & group)}
    leaves = {tid for tid in group if not (tasks[tid].downstream_task_ids & group)}
    assert tasks["dbt_seeds"].downstream_task_ids == roots
    assert leaves <= tasks["dbt_tests_passed"].upstream_task_ids
    chain = ["extract_facts", "landing_gate", "dbt_started", "dbt_seeds"]
    for a, b in zip(chain, chain[1:]):
        assert b in tasks[a].downstream_task_ids
    assert tasks["dbt_tests_passed"].downstream_task_ids == {"candidate_gate"}
    assert tasks["candidate_gate"].downstream_task_ids == {"publish"}


def test_the_build_mode_is_one_dbt_build_task(manifest, airflow_home, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(manifest[0]))
    dag = _transform_dag(monkeypatch, None)
    assert not any(tid.startswith("dbt.") for tid in dag.task_dict)
    assert dag.task_dict["landing_gate"].downstream_task_ids == {"dbt_build"}
    assert dag.task_dict["dbt_build"].downstream_task_ids == {"candidate_gate"}

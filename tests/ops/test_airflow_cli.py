"""Airflow's own CLI as README.md and docs/operations.md document it: `AIRFLOW_HOME=... airflow ...`
with nothing of qpan's process environment (no AIRFLOW__* overrides, no AIRFLOW_CONN_*), the way
a data engineer types it in a shell.

- the project's two DAGs are found, and no example DAG is listed (issue 17, item 1);
- a trigger with an unknown source fails at once, no retry, naming the known sources (item 3);
- the documented `tasks clear` patterns match the tasks they name (item 2);
- the ingest run emits the `qpan://raw/articles` Asset only when articles changed (item 5).
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qpan.core import config, db

pytestmark = pytest.mark.slow
REPO = config.REPO_ROOT
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
SAMPLE = "scrapers/sample_sources.yml"


def user_env(home: Path) -> dict[str, str]:
    """A shell's environment: qpan's QPAN_* settings (port, database) but no Airflow overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(home)
    return env


def airflow(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([AIRFLOW, *args], env=user_env(home), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def states(home: Path, dag_id: str, run_id: str | None = None) -> dict[str, tuple[str | None, int]]:
    with sqlite3.connect(home / "airflow.db") as conn:
        run_id = run_id or conn.execute("select run_id from dag_run where dag_id = ? order by id desc limit 1",
                                        (dag_id,)).fetchone()[0]
        rows = conn.execute("select task_id, state, try_number from task_instance where dag_id = ? and run_id = ? "
                            "and map_index in (-1, 0)", (dag_id, run_id)).fetchall()
    return {task: (state, tries) for task, state, tries in rows}


def asset_events(home: Path) -> int:
    with sqlite3.connect(home / "airflow.db") as conn:
        return conn.execute("select count(*) from asset_event e join asset a on a.id = e.asset_id "
                            "where a.uri = 'qpan://raw/articles'").fetchone()[0]


def test_airflow_cli_sees_the_project_dags_and_no_examples(warehouse_url, airflow_home):
    listed = airflow(airflow_home, "tasks", "list", "qpan_transform")
    assert listed.returncode == 0, listed.stderr[-3000:]
    tasks = listed.stdout.split()
    assert {"extract_facts", "landing_gate", "candidate_gate", "publish"} <= set(tasks), listed.stdout
    # the README's `tasks clear qpan_transform -t dbt` names the dbt task(s) of the DAG as every
    # process parses it (`qpan run` included: one shape, QPAN_TRANSFORM_MODE=build by default)
    assert "dbt_build" in tasks, tasks
    reserialized = airflow(airflow_home, "dags", "reserialize")
    assert reserialized.returncode == 0
    # issue 27, point 11: OpenLineage is configured off and graphviz is there: no warning on every call
    warnings = [line for line in (reserialized.stdout + reserialized.stderr).splitlines() if "[warning" in line]
    assert warnings == [], warnings
    dags = airflow(airflow_home, "dags", "list", "-o", "json")
    assert dags.returncode == 0, dags.stderr[-3000:]
    listing = next(line for line in dags.stdout.splitlines() if line.startswith("["))  # after the log lines
    assert sorted(d["dag_id"] for d in json.loads(listing)) == ["qpan_backup", "qpan_ingest", "qpan_transform"]


def test_unknown_source_fails_at_once_and_clear_matches_the_documented_pattern(warehouse_url, airflow_home):
    started = time.monotonic()
    res = airflow(airflow_home, "dags", "test", "qpan_ingest", "-c",
                  json.dumps({"sources_file": SAMPLE, "only": "nonexistent"}), timeout=300)
    elapsed = time.monotonic() - started
    got = states(airflow_home, "qpan_ingest")
    assert got["list_sources"] == ("failed", 1), (got, res.stdout[-3000:])  # one try, no retry
    assert elapsed < 120, f"a config error took {elapsed:.0f}s to fail"
    out = res.stdout + res.stderr
    assert "'nonexistent' is not in" in out and "sample_thoxuan" in out, out[-3000:]
    assert got["crawl"][0] == "upstream_failed"
    # issue 27, point 7: the failed upstream is reported as such, once; health_check does not crash on it
    assert got["health_check"][0] == "skipped", (got, out[-3000:])
    assert "TypeError" not in out, out[-3000:]
    with db.connect() as conn:
        opened = [r[0] for r in conn.execute("select problem_key from audit.alerts where cleared_at is null "
                                             "and problem_key like 'task:qpan_ingest.%'").fetchall()]
    assert opened == ["task:qpan_ingest.list_sources"], opened

    # Airflow 3.3 matches `-t` as a substring of the task id, not as the regex its help text
    # promises: `^crawl$` matches nothing. docs/operations.md: rerun the failed crawl tasks
    # (upstream_failed counts as failed)
    nothing = airflow(airflow_home, "tasks", "clear", "qpan_ingest", "-t", "^crawl$", "--only-failed", "-y")
    assert nothing.returncode == 0 and states(airflow_home, "qpan_ingest")["crawl"][0] == "upstream_failed"
    clear = airflow(airflow_home, "tasks", "clear", "qpan_ingest", "-t", "crawl", "--only-failed", "-y")
    assert clear.returncode == 0, clear.stderr[-3000:]
    after = states(airflow_home, "qpan_ingest")
    assert after["crawl"][0] is None, after  # cleared: the scheduler would run it again
    assert after["list_sources"][0] == "failed", after  # not matched by `crawl`


def test_scrape_unknown_source_lists_the_known_ones(warehouse_url):
    res = subprocess.run([str(Path(sys.executable).with_name("qpan")), "scrape", "--sources", SAMPLE,
                          "--only", "nonexistent"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "nonexistent" in res.stderr and "sample_thoxuan" in res.stderr and "sample_generic" in res.stderr, res.stderr


def test_ingest_emits_the_asset_only_when_articles_changed(warehouse_url, airflow_home, portal):
    conf = json.dumps({"sources_file": SAMPLE, "only": "sample_ngoclac"})
    before = asset_events(airflow_home)
    first = airflow(airflow_home, "dags", "test", "qpan_ingest", "-c", conf)
    assert states(airflow_home, "qpan_ingest")["announce"][0] == "success", first.stdout[-3000:]
    assert asset_events(airflow_home) == before + 1

    second = airflow(airflow_home, "dags", "test", "qpan_ingest", "-c", conf)
    got = states(airflow_home, "qpan_ingest")
    assert got["summarize"][0] == "success" and got["announce"][0] == "skipped", (got, second.stdout[-3000:])
    assert asset_events(airflow_home) == before + 1  # nothing new: no event, the transform does not run
    assert "qpan://raw/articles not emitted" in second.stdout + second.stderr

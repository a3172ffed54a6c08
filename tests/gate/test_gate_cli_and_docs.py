"""`qpan check` as typed: a summary on the console, GX's internals in the log; the Data Docs
index reads offline and names each run by its run id (the Airflow run id in the DAG); a plain
`dbt debug` reaches this clone's Postgres (QPAN_PG_PORT), not the default port (issue 17, item 15)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qpan.core import config
from qpan.gate import validate as gate, cli as gate_cli

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def test_qpan_check_prints_a_summary_and_logs_the_internals(warehouse_url):
    res = subprocess.run([str(BIN / "qpan"), "check", "landing"], cwd=config.REPO_ROOT, capture_output=True,
                         text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    lines = out.strip().splitlines()
    assert re.match(r"landing: passed \(\d+ expectations\)", lines[0]), out
    assert len(lines) <= 5 and "great_expectations" not in out and "Calculating Metrics" not in out, out
    log = gate_cli.check_log_path().read_text(errors="replace")
    assert "great_expectations" in log


def test_data_docs_index_reads_offline_and_names_the_run(warehouse_url):
    run_id = "scheduled__2026-01-02T00:00:00+00:00"
    gate.run_checkpoint("landing", run_id)
    index = gate.data_docs_index().read_text(encoding="utf-8")
    assert "<script" not in index and "https://" not in index  # nothing fetched from a CDN
    assert run_id in index and "landing__articles" in index
    link = re.search(r'href="(validations/landing__articles/[^"]+\.html)"', index)
    assert link and (gate.data_docs_index().parent / link.group(1)).exists(), index[:2000]


def test_plain_dbt_debug_uses_this_clones_port(warehouse_url):
    ep = config.endpoint()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QPAN_DBT", "QPAN_DATABASE_URL"))}
    env.update(QPAN_PG_PORT=str(ep.port), QPAN_DBT_PASSWORD=config.role_password("qpan_transformer"),
               QPAN_DBT_DBNAME=ep.dbname)
    res = subprocess.run([str(BIN / "dbt"), "debug", "--profiles-dir", "."], cwd=config.REPO_ROOT / "dbt_project",
                         env=env, capture_output=True, text=True, timeout=300)
    assert f"port: {ep.port}" in res.stdout, res.stdout[-3000:]
    assert res.returncode == 0 and "All checks passed" in res.stdout, res.stdout[-3000:]

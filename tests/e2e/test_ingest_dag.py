"""The ingest DAG through Airflow: an unreachable source fails only its own mapped task, with
the URL and the reason in its log; the other sources land their articles."""
from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest
import yaml

from qpan.orchestration import airflow_env
from qpan.core import config, db
from scrapers.portal_server import PortalServer, sample_site
from helpers.net import free_port

from helpers.webhook import Receiver


def _airflow_dags_test(dag_id: str, conf: dict, extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    """One DAG run through Airflow's own CLI (`airflow dags test`: every task in-process)."""
    log_dir = config.airflow_home() / "dags-test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{dag_id}.log"
    with open(log_path, "w") as out:
        res = subprocess.run([airflow_env.airflow_bin(), "dags", "test", dag_id, "-c", json.dumps(conf)],
                             env=airflow_env.env(extra_env), stdout=out, stderr=subprocess.STDOUT, text=True)
    res.log_path = log_path  # type: ignore[attr-defined]
    return res

pytestmark = pytest.mark.slow


def test_unreachable_source_fails_only_its_own_task(tmp_path, warehouse_url, airflow_home):
    registry = yaml.safe_load((config.REPO_ROOT / "scrapers" / "sample_sources.yml").read_text())
    live = next(s for s in registry["sources"] if s["name"] == "sample_thoxuan")
    dead_url = f"http://127.0.0.9:{free_port()}/"
    dead = {"name": "dead_portal", "template": "thanhhoa_portal", "base_url": dead_url, "unit_id": "38.386",
            "allow_private": True, "politeness": {"retries": 0, "timeout": 2, "delay": 0.05},
            "discovery": {"list_pages": [{"url": "/portal/KenhTin/Tin-tuc.aspx"}]}}
    registry["sources"] = [live, dead]
    registry["allowed_hosts"] = sorted(set(registry["allowed_hosts"]) | {"127.0.0.9"})
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True))

    receiver = Receiver()  # source health: the alerts sent through qpan's Airflow notifier
    with PortalServer(sample_site(), port=0) as server:
        res = _airflow_dags_test("qpan_ingest", {"sources_file": str(path)},
                                    dict(server.env(), QPAN_ALERT_WEBHOOK_URL=receiver.url))
    receiver.stop()

    with sqlite3.connect(airflow_home / "airflow.db") as conn:
        states = dict(conn.execute(
            "select rendered_map_index, state from task_instance where dag_id = 'qpan_ingest' "
            "and task_id = 'crawl' and run_id = (select run_id from dag_run where dag_id = 'qpan_ingest' "
            "order by id desc limit 1)").fetchall())
    assert states == {"sample_thoxuan": "success", "dead_portal": "failed"}, res.log_path.read_text()[-3000:]
    log_text = res.log_path.read_text(errors="replace")
    assert "dead_portal failed entirely" in log_text
    assert dead_url.rstrip("/") in log_text
    with db.connect() as conn:
        landed = conn.execute("select count(*) from raw.articles where source = 'sample_thoxuan'").fetchone()[0]
        health = dict(conn.execute("select source, status from audit.crawl_runs").fetchall())
    assert landed > 0
    # the failed crawl (task callback) and the health check announce the dead portal once, together
    assert health == {"sample_thoxuan": "ok", "dead_portal": "failing"}
    assert [(a["key"], a["status"]) for a in receiver.alerts] == [("source:dead_portal", "failing")], receiver.alerts

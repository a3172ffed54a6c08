"""Run DAG runs one after another in one Python process, through Airflow itself.

    python -m qpan.orchestration.dag_runs '[{"dag_id": "qpan_ingest", "conf": {...}}, {"dag_id": "qpan_transform"}]'

Each run is what `airflow dags test <dag_id> -c <conf>` does: the DAG parsed from the DAG
folder (`qpan.orchestration.airflow_internals.load_dags`, Airflow's `DagBag`), then `DAG.test()`, a real DagRun
in the metadata DB, every task in-process through the task SDK and the in-process execution API. Why one process for several runs: each `airflow dags test`
pays ~7 s of CLI start-up and ~6 s to bring up the in-process execution API, so `qpan run`
spent a third of its time starting Airflow twice. Runs stop at the first one that does not
succeed; the exit status says which (0 all succeeded, 1 a run failed, 2 bad arguments).

Called by `qpan.orchestration.airflow_env.dags_test_many` in a subprocess with Airflow's environment.
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from qpan.core import config


def main(argv: list[str]) -> int:
    try:
        plan = json.loads(argv[0])
        runs = [(item["dag_id"], item.get("conf")) for item in plan]
    except (IndexError, ValueError, KeyError, TypeError) as exc:
        print(f"usage: python -m qpan.orchestration.dag_runs '[{{\"dag_id\": ..., \"conf\": {{...}}}}, ...]' ({exc})", file=sys.stderr)
        return 2

    # Imported here: Airflow reads AIRFLOW_HOME and friends from the environment at import.
    from airflow.sdk import DagRunState

    from qpan.orchestration.airflow_internals import load_dags

    dags, errors = load_dags(Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER") or config.REPO_ROOT / "dags"))
    for dag_id, conf in runs:
        started = time.monotonic()
        print(f"[qpan.dag_runs] starting {dag_id} conf={json.dumps(conf)}", flush=True)
        dag = dags.get(dag_id)
        if dag is None:
            print(f"[qpan.dag_runs] {dag_id}: not found or failed to parse {json.dumps(errors)}", flush=True)
            return 1
        dagrun = dag.test(logical_date=datetime.now(timezone.utc), run_conf=conf)
        state = getattr(dagrun, "state", None)
        print(f"[qpan.dag_runs] finished {dag_id} state={state} in {time.monotonic() - started:.1f}s", flush=True)
        if state != DagRunState.SUCCESS:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

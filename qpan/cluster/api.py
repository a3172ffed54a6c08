"""A small client of Airflow's REST API v2 (SimpleAuthManager: a JWT from POST /auth/token), used by
the cluster's test and `bench/cluster_crawl.py`."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request


class Airflow:
    def __init__(self, base: str, user: str, password: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self.token = self._call("POST", "/auth/token", {"username": user, "password": password})["access_token"]

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(self.base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        if getattr(self, "token", None):
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with self.opener.open(req, timeout=30) as resp:
                return json.loads(resp.read().decode() or "{}")
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{method} {path}: HTTP {exc.code} {exc.read().decode()[:500]}") from None

    def get(self, path: str) -> dict:
        return self._call("GET", "/api/v2" + path)

    def unpause(self, dag_id: str) -> None:
        self._call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def pause(self, dag_id: str) -> None:
        self._call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": True})

    def trigger(self, dag_id: str, conf: dict) -> str:
        return self._call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")["task_instances"]

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries")["task_instances"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns?order_by=-run_after&limit=50")["dag_runs"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in ("success", "failed"):
                return run
            if time.monotonic() > deadline:
                states = {(t["task_id"], t["map_index"]): t["state"] for t in self.task_instances(dag_id, run_id)}
                raise AssertionError(f"{dag_id} {run_id} still {run['state']} after {timeout:.0f}s: {states}")
            time.sleep(1)

    def wait_asset_run(self, dag_id: str, after: set[str], timeout: float) -> dict:
        """The next run of `dag_id` (not in `after`) that an Asset event created, once finished."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = [r for r in self.runs(dag_id) if r["dag_run_id"] not in after]
            if new:
                assert new[0]["run_type"] == "asset_triggered", new[0]
                return self.wait_run(dag_id, new[0]["dag_run_id"], max(5.0, deadline - time.monotonic()))
            time.sleep(1)
        raise AssertionError(f"no Asset-triggered run of {dag_id} in {timeout:.0f}s")

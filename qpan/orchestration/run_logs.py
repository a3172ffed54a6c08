"""The logs of `qpan run`'s DAG runs (`qpan.orchestration.dag_runs` in a subprocess):

- one file per run, `$AIRFLOW_HOME/dags-test-logs/run-<UTC time>.log`, the last
  `QPAN_RUN_LOGS_KEEP` (20) kept, `run.log` a link to the newest: a failure's log survives the
  retry;
- followed while the subprocess runs: a console line per finished task (so hours of live
  crawling are not silent);
- each task's part of it written where Airflow's UI reads task logs,
  `$AIRFLOW_HOME/logs/dag_id=<dag>/run_id=<run>/task_id=<task>/[map_index=<n>/]attempt=<k>.log`
  (`DAG.test()` runs tasks in-process and logs only to its own output).
"""
from __future__ import annotations

import re
import sqlite3
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from qpan.orchestration import airflow_internals
from qpan.core import config, settings

START = re.compile(r"\[DAG TEST\] starting task_id=(\S+) map_index=(-?\d+)")
END = re.compile(r"\[DAG TEST\] end task task_id=(\S+) map_index=(-?\d+)")
DAG_START = re.compile(r"\[qpan\.dag_runs\] starting (\S+)")


def keep_runs() -> int:
    return max(1, settings.get("QPAN_RUN_LOGS_KEEP"))


def new_log_path(log_dir: Path, name: str = "run") -> Path:
    """A fresh `<name>-<UTC time>.log`, older ones beyond `keep_runs()` deleted, `<name>.log`
    pointing at it."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    path = log_dir / f"{name}-{stamp}.log"
    path.touch()
    old = sorted(log_dir.glob(f"{name}-*.log"))[:-keep_runs()]
    for stale in old:
        stale.unlink(missing_ok=True)
    link = log_dir / f"{name}.log"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(path.name)
    return path


def _task_instance(home: Path, dag_id: str, task_id: str, map_index: int) -> tuple | None:
    try:
        return airflow_internals.task_instance(home / "airflow.db", dag_id, task_id, map_index)
    except sqlite3.Error:
        return None


def task_log_path(home: Path, dag_id: str, run_id: str, task_id: str, map_index: int, attempt: int) -> Path:
    """Airflow's default `log_filename_template`."""
    path = home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    if map_index >= 0:
        path = path / f"map_index={map_index}"
    return path / f"attempt={max(attempt, 1)}.log"


class Follower:
    """Reads the run log as it grows: a console line per finished task, each task's lines into
    its Airflow log file."""

    def __init__(self, home: Path, say: Callable[[str], None] = print):
        self.home, self.say = home, say
        self.dag_id: str | None = None
        self.task: tuple[str, int] | None = None
        self.lines: list[str] = []

    def feed(self, line: str) -> None:
        if m := DAG_START.search(line):
            self.dag_id = m.group(1)
        if m := START.search(line):
            self.task, self.lines = (m.group(1), int(m.group(2))), []
        if self.task is not None:
            self.lines.append(line)
        if (m := END.search(line)) and self.dag_id:
            self._finish(m.group(1), int(m.group(2)))

    def _finish(self, task_id: str, map_index: int) -> None:
        ti = _task_instance(self.home, self.dag_id, task_id, map_index)
        if ti is not None:
            run_id, state, tries, rendered, seconds = ti
            path = task_log_path(self.home, self.dag_id, run_id, task_id, map_index, tries or 1)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(self.lines), encoding="utf-8")
            name = f"{task_id}[{rendered or map_index}]" if map_index >= 0 else task_id
            took = f" in {seconds:.1f}s" if seconds is not None else ""
            self.say(f"    {self.dag_id}.{name}: {state}{took}")
        self.task, self.lines = None, []


def run_followed(cmd: list[str], env: dict, cwd: Path, log_path: Path,
                 say: Callable[[str], None] = print) -> subprocess.CompletedProcess:
    """Run `cmd` with its output into `log_path`, following the log as it grows."""
    follower = Follower(config.airflow_home(), lambda text: say(text))
    with open(log_path, "w") as out, open(log_path, errors="replace") as reader:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=str(cwd))
        pending = ""
        while True:
            done = proc.poll() is not None
            chunk = reader.read()
            if chunk:
                pending += chunk
                *complete, pending = pending.split("\n")
                for line in complete:
                    follower.feed(line + "\n")
            elif done:
                break
            else:
                time.sleep(0.5)
        if pending:
            follower.feed(pending)
    return subprocess.CompletedProcess(cmd, proc.returncode)

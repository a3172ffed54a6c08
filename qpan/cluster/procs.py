"""Start, watch and stop the cluster's processes in the background.

Each service leads a process group of its own (`setsid`), so stopping it also stops what it
forked (Celery's pool processes, task supervisors and tasks, dbt). Its PID file
(`.qpan/cluster/pids/<name>.json`) records the PID and the process' start time: a PID the
system later reused for something else is never mistaken for the service, nor signalled.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from qpan.orchestration import airflow_env
from qpan.core import config
from qpan.cluster import redis, settings

# Stop order: workers first (a warm shutdown lets running tasks finish), then what schedules
# and parses, the api-server (tasks report their end through it) and the broker last.
STOP_ORDER_LAST = ("api-server", "redis")


@dataclass
class Service:
    name: str
    cmd: list[str]
    env: dict[str, str]
    kind: str = "airflow"  # airflow | worker | redis
    hostname: str | None = None
    queues: tuple[str, ...] = ()


def services(env: dict[str, str], redis_exe: str = "redis-server") -> list[Service]:
    airflow = airflow_env.airflow_bin()
    port = str(settings.api_port())
    out = [
        Service("redis", redis.command(redis_exe), env, kind="redis"),
        # --skip-serve-logs: no log sub-server on 0.0.0.0:8793/8794; on one machine the
        # api-server reads task logs straight from AIRFLOW_HOME/logs.
        Service("scheduler", [airflow, "scheduler", "--skip-serve-logs"], env),
        Service("dag-processor", [airflow, "dag-processor"], env),
        Service("triggerer", [airflow, "triggerer", "--skip-serve-logs"], env),
        Service("api-server", [airflow, "api-server", "--host", "127.0.0.1", "--port", port, "--workers", "1"],
                env),
    ]
    for host in settings.WORKERS:
        wenv = dict(env, QPAN_WORKER_HOSTNAME=host,
                    AIRFLOW__CORE__HOSTNAME_CALLABLE="qpan.cluster.hostname.worker_hostname")
        out.append(Service(host, [airflow, "celery", "worker", "--celery-hostname", host,
                                  "--queues", ",".join(settings.QUEUES), "--skip-serve-logs"],
                           wenv, kind="worker", hostname=host, queues=settings.QUEUES))
    return out


def pid_file(name: str) -> Path:
    return settings.pid_dir() / f"{name}.json"


def log_file(name: str) -> Path:
    return settings.log_dir() / f"{name}.log"


def recorded(name: str) -> dict | None:
    try:
        return json.loads(pid_file(name).read_text())
    except (OSError, ValueError):
        return None


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat fields after the command name (state is [0], pgid [2], start time [19])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[19] if fields and fields[0] != "Z" else None


def alive_pid(name: str) -> int | None:
    """The service's PID if it runs (the recorded PID, still with its command line)."""
    rec = recorded(name)
    if not rec:
        return None
    pid = int(rec["pid"])
    # (services rename themselves, e.g. `airflow api_server -- host:...`: the start time, not
    # the command line, tells the recorded process from a later one with its PID)
    return pid if start_time(pid) == rec.get("start_time") else None


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (from /proc: what a SIGKILLed leader left behind)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def start(service: Service) -> int:
    settings.pid_dir().mkdir(parents=True, exist_ok=True)
    settings.log_dir().mkdir(parents=True, exist_ok=True)
    # where this start's lines begin: the log is appended to across restarts
    offset = log_file(service.name).stat().st_size if log_file(service.name).exists() else 0
    with open(log_file(service.name), "ab") as out:
        proc = subprocess.Popen(service.cmd, env=service.env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=config.REPO_ROOT, start_new_session=True)
    record = {"pid": proc.pid, "start_time": start_time(proc.pid), "kind": service.kind, "hostname": service.hostname,
              "queues": list(service.queues), "started": time.time(), "log": str(log_file(service.name)), "log_offset": offset}
    tmp = pid_file(service.name).with_suffix(".tmp")
    tmp.write_text(json.dumps(record) + "\n")
    tmp.replace(pid_file(service.name))
    return proc.pid


def _signal(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(name: str, timeout: float = 30) -> bool:
    """SIGTERM to the service's process group, SIGKILL to what is left after `timeout`; True
    if something was running. A group whose leader died (SIGKILL) is still cleaned up."""
    rec = recorded(name)
    if not rec:
        return False
    pgid = int(rec["pid"])
    pid = alive_pid(name)
    members = group_members(pgid)
    if pid is None and not members:
        pid_file(name).unlink(missing_ok=True)
        return False
    _signal(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if group_members(pgid):
        _signal(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
    pid_file(name).unlink(missing_ok=True)
    return True


def known_services() -> list[str]:
    """Names with a PID file, in stop order."""
    if not settings.pid_dir().exists():
        return []
    names = sorted(p.stem for p in settings.pid_dir().glob("*.json"))
    first = [n for n in names if n not in STOP_ORDER_LAST and not n.startswith("qpan-worker")]
    workers = [n for n in names if n.startswith("qpan-worker")]
    return workers + first + [n for n in STOP_ORDER_LAST if n in names]

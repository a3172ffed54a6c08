"""The cluster's processes, started, watched and stopped in the background by `qpan.core.supervisor`.

Each service leads a process group of its own, so stopping it also stops what it forked
(Celery's pool processes, task supervisors and tasks, dbt). Its PID file
(`.qpan/cluster/pids/<name>.json`) records the PID and the process' start time: a PID the
system later reused for something else is never mistaken for the service, nor signalled.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qpan.orchestration import airflow_env
from qpan.core import config, supervisor
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
    return supervisor.recorded(pid_file(name))


def alive_pid(name: str) -> int | None:
    """The service's PID if it runs (the recorded process, not a later one with its PID)."""
    return supervisor.running_pid(pid_file(name))


def start(service: Service) -> int:
    program = supervisor.Program(service.name, service.cmd, log_file(service.name), service.env, config.REPO_ROOT,
                                 pid_file(service.name), record={"kind": service.kind, "hostname": service.hostname,
                                                                 "queues": list(service.queues)})
    return supervisor.start(program).pid


def stop(name: str, timeout: float = 30) -> bool:
    """SIGTERM to the service's process group, SIGKILL to what is left after `timeout`; True
    if something was running. A group whose leader died (SIGKILL) is still cleaned up."""
    return supervisor.stop(pid_file(name), timeout)


def known_services() -> list[str]:
    """Names with a PID file, in stop order."""
    if not settings.pid_dir().exists():
        return []
    names = sorted(p.stem for p in settings.pid_dir().glob("*.json"))
    first = [n for n in names if n not in STOP_ORDER_LAST and not n.startswith("qpan-worker")]
    workers = [n for n in names if n.startswith("qpan-worker")]
    return workers + first + [n for n in STOP_ORDER_LAST if n in names]

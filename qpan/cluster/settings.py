"""Where the cluster lives, its ports and secrets, and the environment its services share.

Ports (all on 127.0.0.1): the api-server on `QPAN_AIRFLOW_PORT` (default 8080), Redis on
`QPAN_REDIS_PORT` (default `QPAN_PG_PORT` + 20, so clones with different Postgres ports do not
collide), Postgres as configured for the warehouse (`QPAN_PG_PORT` or `QPAN_DATABASE_URL`'s
server). Secrets: the `airflow` role's password (`AIRFLOW_DB_PASSWORD`) and Redis'
(`REDIS_PASSWORD`) are generated once into `.qpan/secrets.json` (mode 600) unless set; the
UI login is `qpan airflow`'s (`QPAN_AIRFLOW_PASSWORD` or generated).
"""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from qpan.core import config, settings

METADATA_ROLE = "airflow"
QUEUES = ("crawl", "transform")
WORKERS = ("qpan-worker-1", "qpan-worker-2")  # Celery hostnames, recorded by task instances
DEFAULT_WORKER_CONCURRENCY = 3  # per worker: 2 cores, and most crawl time is politeness sleep


def cluster_dir() -> Path:
    """PID files, logs, Redis' directory and the cluster's AIRFLOW_HOME (`QPAN_CLUSTER_DIR`
    overrides, for tests)."""
    return Path(settings.get("QPAN_CLUSTER_DIR", config.state_dir() / "cluster")).resolve()


def airflow_home() -> Path:
    # Not `.qpan/airflow`: that home's airflow.cfg names the SQLite DB of `qpan run`.
    return cluster_dir() / "airflow"


def pid_dir() -> Path:
    return cluster_dir() / "pids"


def log_dir() -> Path:
    return cluster_dir() / "logs"


def api_port() -> int:
    from qpan.orchestration.airflow_local import airflow_port

    return airflow_port()


def redis_port() -> int:
    return settings.get("QPAN_REDIS_PORT", None) or config.pg_port() + 20


def metadata_db() -> str:
    """Database of Airflow's metadata and of Celery's results (`QPAN_CLUSTER_DB`, default airflow)."""
    return settings.get("QPAN_CLUSTER_DB")


def metadata_password() -> str:
    return config.role_password("airflow_db")  # AIRFLOW_DB_PASSWORD overrides, as in compose


def redis_password() -> str:
    return config.role_password("redis")  # REDIS_PASSWORD overrides, as in compose


def metadata_url(driver: str = "postgresql+psycopg2") -> str:
    ep = config.endpoint()
    return (f"{driver}://{METADATA_ROLE}:{quote(metadata_password(), safe='')}"
            f"@{ep.host}:{ep.port}/{metadata_db()}")


def broker_url() -> str:
    return f"redis://:{quote(redis_password(), safe='')}@127.0.0.1:{redis_port()}/0"


def env() -> dict[str, str]:
    """`qpan airflow`'s service environment, pointed at the cluster: its own AIRFLOW_HOME,
    Postgres metadata DB, CeleryExecutor with the Redis broker and a Postgres result backend.
    Tunables already in the environment win (e.g. a shorter heartbeat timeout in the tests)."""
    from qpan.orchestration.airflow_local import service_env

    base = service_env(api_port())
    concurrency = int(os.environ.get("AIRFLOW__CELERY__WORKER_CONCURRENCY") or DEFAULT_WORKER_CONCURRENCY)
    tunables = {
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(concurrency),
        # no more tasks queued than the workers have slots: a task waits in `queued` only when
        # its message went to a worker that was lost (see the queued timeout below)
        "AIRFLOW__CORE__PARALLELISM": str(concurrency * len(WORKERS)),
        # 2 workers x 3 slots: one run's tasks (a crawl backfill) take at most 4, so 2 slots stay
        # for the other DAG (the `transform` queue is served as soon as a slot frees)
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
        # a worker that vanished (SIGKILL, lost machine): its task is failed and retried after this
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        # a task whose message a lost worker had taken but not started: requeued after this
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "120",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "15",
    }
    for key, value in tunables.items():
        base[key] = os.environ.get(key, value)
    home = airflow_home()
    base.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url(),
            "AIRFLOW__CELERY__BROKER_URL": broker_url(),
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_url("postgresql"),
            # tasks without a queue of their own would wait on a queue no worker serves
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": QUEUES[1],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file()),
            "QPAN_CLUSTER_DIR": str(cluster_dir()),
        }
    )
    return base


def passwords_file() -> Path:
    """The UI login is `qpan airflow`'s: one password for the local Airflow, whichever runs."""
    from qpan.orchestration.airflow_local import passwords_file as local

    return local()

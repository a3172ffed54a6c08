"""What `qpan cluster start|stop|status` do."""
from __future__ import annotations

import logging
import time

from qpan.core import config, db, pgserver, supervisor
from qpan.orchestration.airflow_local import HEALTH_PATH, ensure_login, healthy
from qpan.cluster import metadata, procs, redis, settings

log = logging.getLogger(__name__)


class ClusterError(RuntimeError):
    pass


def _check_ports(names: set[str]) -> None:
    """A port another program holds: one line naming it and the variable that moves it."""
    wanted = {"api-server": (settings.api_port(), "QPAN_AIRFLOW_PORT"),
              "redis": (settings.redis_port(), "QPAN_REDIS_PORT")}
    for name, (port, var) in wanted.items():
        if name in names and not pgserver.port_free(port):
            raise ClusterError(f"port {port} on 127.0.0.1 ({name}) is taken by another program; "
                               f"stop it or set {var} to a free port")


def _wait(what: str, ready, names: list[str], timeout: float) -> None:
    def exited() -> str | None:
        return next((name for name in names if procs.alive_pid(name) is None), None)

    try:
        supervisor.wait_ready(ready, timeout, exited=exited, interval=0.5)
    except supervisor.Exited as dead:
        raise ClusterError(f"{dead.name} exited before {what}; its log ({procs.log_file(dead.name)}):\n"
                           f"{supervisor.tail(procs.log_file(dead.name), 30)}") from None
    except TimeoutError:
        raise ClusterError(f"{what}: not after {timeout:.0f}s; logs in {settings.log_dir()}") from None


def _redis_up() -> bool:
    import redis as redis_py

    try:
        return bool(redis_py.Redis(host="127.0.0.1", port=settings.redis_port(),
                                   password=settings.redis_password(), socket_timeout=1).ping())
    except redis_py.RedisError:
        return False


def worker_ready(host: str) -> bool:
    """Celery logs `celery@<host> ready.` once it consumes its queues."""
    path, rec = procs.log_file(host), procs.recorded(host) or {}
    data = path.read_bytes() if path.exists() else b""
    return f"@{host} ready.".encode() in data[int(rec.get("log_offset", 0)):]


def start(timeout: float = 240) -> dict:
    """Start every service not already running; return what `status()` returns."""
    t0 = time.monotonic()
    # a port held by another program: said at once, before the minute of set-up below
    _check_ports({name for name in ("api-server", "redis") if procs.alive_pid(name) is None})
    exe = redis.ensure_installed()
    if not config.external_database_url():
        pgserver.start()
    db.migrate()  # the warehouse, its roles (the DAGs' tasks use them)
    metadata.ensure_database()
    env = settings.env()
    metadata.migrate(env)
    ensure_login()
    all_services = procs.services(env, exe)
    missing = [s for s in all_services if procs.alive_pid(s.name) is None]
    _check_ports({s.name for s in missing})
    for service in missing:
        procs.stop(service.name, timeout=5)  # leftovers of a dead one (its group), if any
        pid = procs.start(service)
        log.info("started %s (pid %d, log %s)", service.name, pid, procs.log_file(service.name))
        if service.name == "redis":
            _wait("Redis answered", _redis_up, ["redis"], 30)
    names = [s.name for s in all_services]
    port = settings.api_port()
    _wait(f"the api-server answered {HEALTH_PATH}", lambda: healthy(port) is not None, names, timeout)
    for host in settings.WORKERS:
        _wait(f"worker {host} ready", lambda h=host: worker_ready(h), names, timeout)
    info = status()
    info["started_in_s"] = round(time.monotonic() - t0, 1)
    return info


def stop() -> list[str]:
    """Stop every service with a PID file (workers first, Redis last); the names stopped."""
    stopped = []
    for name in procs.known_services():
        t0 = time.monotonic()
        if procs.stop(name, timeout=60 if name.startswith("qpan-worker") else 30):
            stopped.append(name)
            log.info("stopped %s in %.1fs", name, time.monotonic() - t0)
    return stopped


def status() -> dict:
    port = settings.api_port()
    services = []
    for service in procs.services(settings.env()) if procs.known_services() else []:
        rec = procs.recorded(service.name) or {}
        services.append({
            "name": service.name, "pid": procs.alive_pid(service.name), "running": procs.alive_pid(service.name) is not None,
            "kind": service.kind, "hostname": service.hostname, "queues": list(service.queues),
            "log": rec.get("log", str(procs.log_file(service.name))),
        })
    return {
        "running": bool(services) and all(s["running"] for s in services),
        "url": f"http://127.0.0.1:{port}",
        "api_healthy": healthy(port) is not None if services else False,
        "broker": f"redis://127.0.0.1:{settings.redis_port()}/0",
        "metadata_db": config.redact(settings.metadata_url()),
        "services": services,
        "workers": [s["hostname"] for s in services if s["kind"] == "worker" and s["running"]],
        "cluster_dir": str(settings.cluster_dir()),
    }

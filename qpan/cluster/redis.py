"""The Celery broker: Debian's `redis-server`, on 127.0.0.1 only, with a password, no
persistence (Airflow keeps task state in its metadata DB; a lost message is re-queued by the
scheduler), its files under `.qpan/cluster/redis`."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from qpan.core import config
from qpan.cluster import settings

INSTALL = "apt-get update -qq && apt-get install -y -qq redis-server"


def binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)


def ensure_installed() -> str:
    """The path of `redis-server`, installed with apt-get first when missing (root only, as
    in CI); otherwise a one-line error saying how to install it."""
    found = binary()
    if found:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        res = subprocess.run(INSTALL, shell=True, env=env, capture_output=True, text=True, timeout=900)
        found = binary()
        if found:
            return found
        raise RuntimeError(f"could not install redis-server with apt-get: {(res.stderr or res.stdout).strip()[-300:]}")
    raise RuntimeError("redis-server is not installed; as root: `apt-get update && apt-get install -y redis-server`")


def command(exe: str) -> list[str]:
    work = settings.cluster_dir() / "redis"
    work.mkdir(parents=True, exist_ok=True)
    # The password on the command line would show in `ps`: it goes in a config file (mode 600).
    conf = work / "redis.conf"
    config.write_private(conf, f"requirepass {settings.redis_password()}\n")
    return [exe, str(conf), "--bind", "127.0.0.1", "--port", str(settings.redis_port()),
            "--dir", str(work), "--save", "", "--appendonly", "no", "--protected-mode", "yes",
            "--daemonize", "no"]

"""The hostname a task instance records (`[core] hostname_callable` of the Celery workers).

Two workers on one machine share its FQDN, so task instances would not say which worker ran
them; each worker is started with `QPAN_WORKER_HOSTNAME` (its Celery hostname), inherited by
the task processes it forks, and this callable returns it."""
from __future__ import annotations

import socket

from qpan.core import settings


def worker_hostname() -> str:
    return settings.get("QPAN_WORKER_HOSTNAME") or socket.getfqdn()

"""Superset's set-up for the BI tests, in the background: `qpan.bi.server.prepare()` (the
virtualenv .venv-bi/ and a fresh metadata database) in a temporary Superset home of its own."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

_PREPARE: dict = {}


def prepare_process() -> tuple[subprocess.Popen, Path]:
    """The background `qpan.bi.server.prepare()` of this session, in a Superset home of its own."""
    if not _PREPARE:
        home = Path(tempfile.mkdtemp(prefix="qpan-superset-"))
        log = open(home / "prepare.log", "w")  # noqa: SIM115 - the child writes it
        env = dict(os.environ, QPAN_SUPERSET_HOME=str(home))
        proc = subprocess.Popen([sys.executable, "-c", "from qpan.bi import server; server.prepare()"],
                                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _PREPARE.update(proc=proc, home=home)
    return _PREPARE["proc"], _PREPARE["home"]


def wait_prepared() -> Path:
    """Waits for the background set-up; returns its Superset home."""
    proc, home = prepare_process()
    if proc.wait(timeout=900) != 0:
        raise RuntimeError("Superset set-up failed:\n" + (home / "prepare.log").read_text()[-3000:])
    return home

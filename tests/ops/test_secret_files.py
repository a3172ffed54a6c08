"""Files that hold secrets (docs/security.md; issue 28 point 6): readable by their owner only
from the first byte written, whatever the umask, and `.qpan/secrets.json` safe against two
processes generating secrets at once (a lock, unique temporary names): no secret is dropped."""
from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys

import pytest

from qpan.orchestration import airflow_local
from qpan.core import config
from qpan.cluster import redis, settings


class ModesAtWrite:
    """Records the mode of every file in `folder` at each call of a C-level `write` (the bytes
    are about to land): a file created world-readable and chmod-ed afterwards is caught."""

    def __init__(self, folder):
        self.folder = folder
        self.seen: dict[str, int] = {}

    def _profile(self, frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", "") == "write":
            for entry in os.scandir(self.folder):
                if entry.is_file(follow_symlinks=False):
                    mode = stat.S_IMODE(entry.stat(follow_symlinks=False).st_mode)
                    self.seen[entry.name] = self.seen.get(entry.name, 0) | mode

    def __enter__(self):
        self._umask = os.umask(0)  # the worst case: nothing masked
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)
        os.umask(self._umask)

    def loose(self) -> dict[str, str]:
        return {name: oct(mode) for name, mode in self.seen.items() if mode & 0o077}


def test_secret_files_are_private_from_their_first_byte(tmp_path, monkeypatch):
    monkeypatch.setenv("QPAN_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("QPAN_CLUSTER_DIR", str(tmp_path / "cluster"))
    monkeypatch.delenv("REDIS_PASSWORD", raising=False)
    (tmp_path / "state").mkdir()
    (tmp_path / "cluster" / "redis").mkdir(parents=True)
    with ModesAtWrite(tmp_path / "state") as state:
        config.stored_secret("probe_secret")
    with ModesAtWrite(tmp_path) as login:
        airflow_local.ensure_login("admin", tmp_path / "passwords.json", "a-password-for-the-test")
    settings.redis_password()  # generated beforehand: only the config file is watched below
    with ModesAtWrite(tmp_path / "cluster" / "redis") as conf:
        redis.command("redis-server")
    for watch in (state, login, conf):
        assert watch.seen, "no write observed"
        assert watch.loose() == {}
    for path in (tmp_path / "state" / "secrets.json", tmp_path / "passwords.json",
                 tmp_path / "cluster" / "redis" / "redis.conf"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


GENERATE = """
import sys
from qpan.core import config
for i in range(int(sys.argv[2])):
    config.stored_secret(f"{sys.argv[1]}_{i}")
"""


def test_processes_generating_secrets_at_once_drop_none(tmp_path):
    env = {**os.environ, "QPAN_HOME": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", GENERATE, f"p{n}", "25"], env=env,
                              stderr=subprocess.PIPE, text=True) for n in range(6)]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    stored = json.loads((tmp_path / "secrets.json").read_text())
    assert {f"p{n}_{i}" for n in range(6) for i in range(25)} <= set(stored)
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind


def test_airflow_s_banner_says_where_the_password_is_not_what_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    user, password = airflow_local.ensure_login()
    hint = airflow_local.login_hint(user)
    assert password not in hint
    assert str(airflow_local.passwords_file()) in hint and "cat " in hint


@pytest.mark.skipif(os.geteuid() != 0, reason="folders are opened for the server's user only when run as root")
def test_as_root_each_folder_opened_is_logged_with_what_it_exposes(tmp_path, caplog):
    from qpan.core import pgserver

    closed = tmp_path / "home-like"
    (closed / "clone" / ".qpan").mkdir(parents=True)
    closed.chmod(0o700)
    with caplog.at_level(logging.WARNING, logger="qpan.core.pgserver"):
        pgserver.make_traversable(closed / "clone" / ".qpan" / "pgdata")
    assert stat.S_IMODE(closed.stat().st_mode) == 0o701  # pass through, not list
    said = [r.getMessage() for r in caplog.records if str(closed) in r.getMessage()]
    assert said and "readable by whoever knows its name" in said[0] and "security.md#running-as-root" in said[0]

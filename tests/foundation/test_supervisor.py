"""qpan.core.supervisor with real processes (sh, sleep, Python's http.server): process groups,
PID files (stale, reused, legacy), SIGTERM then SIGKILL, readiness, death with the parent."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qpan.core import supervisor
from helpers.net import free_port

# a leader that forks a grandchild of its own: both are in the program's process group
FORKING = ["sh", "-c", "sleep 60 & echo started; wait"]
# ... and one that ignores SIGTERM, as a hung service does
STUBBORN = ["sh", "-c", "trap '' TERM; sleep 60 & echo started; wait; wait"]


def _program(tmp_path, cmd, **kw) -> supervisor.Program:
    return supervisor.Program("svc", cmd, tmp_path / "logs" / "svc.log", pid_file=tmp_path / "pids" / "svc.json", **kw)


def _wait_for(probe, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not (result := probe()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def test_start_records_the_program_and_stop_ends_its_whole_group(tmp_path):
    program = _program(tmp_path, FORKING, record={"kind": "test"})
    started = supervisor.start(program)
    assert _wait_for(lambda: "started" in program.log.read_text())
    assert len(_wait_for(lambda: len(supervisor.group_members(started.pid)) == 2 and
                         supervisor.group_members(started.pid))) == 2  # sh and its sleep
    rec = json.loads(program.pid_file.read_text())
    assert (rec["pid"], rec["kind"], rec["log"], rec["log_offset"]) == (started.pid, "test", str(program.log), 0)
    assert rec["start_time"] == supervisor.start_time(started.pid)
    assert supervisor.running_pid(program.pid_file) == started.pid
    assert os.getpgid(started.pid) == started.pid != os.getpgid(0)  # a group of its own

    assert supervisor.stop(program.pid_file, timeout=10) is True
    assert supervisor.group_members(started.pid) == [] and not program.pid_file.exists()
    assert not Path(f"/proc/{started.pid}").exists()  # reaped: no zombie left in this process
    assert supervisor.stop(program.pid_file) is False  # nothing left to stop

    again = supervisor.start(program)  # the log is appended to: this start's lines begin after the first's
    try:
        assert json.loads(program.pid_file.read_text())["log_offset"] == len("started\n")
    finally:
        supervisor.stop(program.pid_file, timeout=10)
    assert again.popen.wait(timeout=10) is not None


def test_a_program_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path, caplog):
    program = _program(tmp_path, STUBBORN)
    started = supervisor.start(program)
    assert _wait_for(lambda: "started" in program.log.read_text())
    t0 = time.monotonic()
    assert supervisor.stop(program.pid_file, timeout=1) is True
    assert 1 <= time.monotonic() - t0 < 1 + supervisor.KILL_GRACE
    assert supervisor.group_members(started.pid) == [] and not Path(f"/proc/{started.pid}").exists()
    assert "svc did not stop in 1s; killing it" in caplog.text


def test_a_group_whose_leader_was_killed_is_still_stopped(tmp_path):
    program = _program(tmp_path, FORKING)
    started = supervisor.start(program)
    assert _wait_for(lambda: len(supervisor.group_members(started.pid)) == 2)
    os.kill(started.pid, signal.SIGKILL)  # the leader only: its sleep lives on
    started.popen.wait(timeout=10)
    assert supervisor.running_pid(program.pid_file) is None and len(supervisor.group_members(started.pid)) == 1
    assert supervisor.stop(program.pid_file, timeout=10) is True
    assert supervisor.group_members(started.pid) == []


def test_a_stale_or_reused_pid_is_never_taken_for_the_program(tmp_path):
    pid_file = tmp_path / "svc.json"
    # a PID the system gave to another process since (here: this very test process)
    reused = subprocess.Popen(["sleep", "60"], start_new_session=True)  # leads a group of that number
    try:
        supervisor.write_pid_file(pid_file, {"pid": reused.pid, "start_time": "1"})
        assert supervisor.running_pid(pid_file) is None
        assert supervisor.stop(pid_file) is False and not pid_file.exists()
        assert reused.poll() is None  # not signalled
    finally:
        reused.kill()
        reused.wait()
    # a program that died: its PID is gone
    dead = subprocess.Popen(["true"])
    dead.wait()
    supervisor.write_pid_file(pid_file, {"pid": dead.pid, "start_time": "1"})
    assert supervisor.running_pid(pid_file) is None
    # a PID file of before (a bare PID): trusted while that PID runs
    pid_file.write_text(f"{os.getpid()}\n")
    assert supervisor.running_pid(pid_file) == os.getpid()
    pid_file.write_text(f"{dead.pid}\n")
    assert supervisor.running_pid(pid_file) is None
    pid_file.write_text("not a pid")
    assert supervisor.recorded(pid_file) is None and supervisor.running_pid(pid_file) is None


def test_wait_ready_over_http_and_a_program_that_exits_first(tmp_path):
    port = free_port()
    server = supervisor.start(supervisor.Program("http", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                                          str(port)], tmp_path / "http.log", cwd=tmp_path))
    try:
        (tmp_path / "health").write_text("ok")
        supervisor.wait_ready(lambda: supervisor.http_get(f"http://127.0.0.1:{port}/health"), 30,
                              exited=lambda: supervisor.first_exited([server]), interval=0.1)
        assert supervisor.http_get(f"http://127.0.0.1:{port}/health") == b"ok"
        assert supervisor.http_get(f"http://127.0.0.1:{port}/missing") is None  # an error status
    finally:
        supervisor.stop_started([server], timeout=10)
    assert supervisor.http_get(f"http://127.0.0.1:{port}/health", timeout=1) is None  # nothing answers

    failing = supervisor.start(supervisor.Program("failing", ["sh", "-c", "echo cannot start; exit 3"],
                                                  tmp_path / "failing.log"))
    with pytest.raises(supervisor.Exited) as err:
        supervisor.wait_ready(lambda: False, 30, exited=lambda: supervisor.first_exited([failing]), interval=0.05)
    assert err.value.name == "failing" and failing.popen.returncode == 3
    assert supervisor.tail(tmp_path / "failing.log") == "cannot start"
    with pytest.raises(TimeoutError):
        supervisor.wait_ready(lambda: False, 0.2, interval=0.05)


def test_a_foreground_program_dies_with_the_process_that_started_it(tmp_path):
    code = ("import sys, time; from pathlib import Path; from qpan.core import supervisor; "
            "s = supervisor.start(supervisor.Program('child', ['sleep', '60'], Path(sys.argv[1]), "
            "die_with_parent=True)); print(s.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "child.log")], stdout=subprocess.PIPE,
                              text=True)
    try:
        child = int(parent.stdout.readline())
        assert supervisor.group_members(child) == [child]
        parent.kill()
        parent.wait(timeout=10)
        assert _wait_for(lambda: supervisor.group_members(child) == [], timeout=10)
    finally:
        parent.kill()
        parent.stdout.close()

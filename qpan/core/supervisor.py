"""Start, watch and stop long-running programs: one process group, one log file, a PID file.

The one supervisor of `qpan airflow` (four services in the foreground), `qpan cluster` (Airflow,
Celery workers and Redis in the background) and `qpan bi` (Superset's gunicorn). It knows nothing
of what it runs.

- Each program leads a process group of its own (`setsid`), so stopping it also stops what it
  forked (worker pools, task processes, dbt): SIGTERM to the group, SIGKILL to what is left
  after a timeout. A group whose leader is gone (SIGKILLed) is still found and stopped (/proc).
- Its output is appended to its log file (`Started.log_offset`: where this start's lines begin).
- A PID file (JSON, written atomically) records the PID and the process' start time: a PID the
  system later reused for another program is never mistaken for the service, nor signalled; a
  stale file (the program died) reads as "not running" and `stop` removes it.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

log = logging.getLogger(__name__)

KILL_GRACE = 10.0  # seconds for SIGKILLed processes to be gone from /proc


@dataclass
class Program:
    """What to start. `pid_file`: for a program another process will stop (the background ones);
    `die_with_parent`: SIGTERM it when the process that started it dies (the foreground ones)."""

    name: str
    cmd: list[str]
    log: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    pid_file: Path | None = None
    die_with_parent: bool = False
    record: dict = field(default_factory=dict)  # more fields for the PID file


@dataclass
class Started:
    name: str
    popen: subprocess.Popen
    log: Path
    log_offset: int

    @property
    def pid(self) -> int:
        return self.popen.pid


class Exited(RuntimeError):
    """A watched program exited before it was ready."""

    def __init__(self, name: str):
        super().__init__(f"{name} exited")
        self.name = name


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, after setsid
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start(program: Program) -> Started:
    """Start `program` in a new session (its own process group), stdin closed, stdout and stderr
    appended to its log; record it in its PID file if it has one."""
    program.log.parent.mkdir(parents=True, exist_ok=True)
    offset = program.log.stat().st_size if program.log.exists() else 0
    with open(program.log, "ab") as out:
        proc = subprocess.Popen(program.cmd, env=None if program.env is None else dict(program.env),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=program.cwd, start_new_session=True,
                                preexec_fn=_die_with_parent if program.die_with_parent else None)
    if program.pid_file is not None:
        write_pid_file(program.pid_file, {**program.record, "pid": proc.pid, "start_time": start_time(proc.pid),
                                          "started": time.time(), "log": str(program.log), "log_offset": offset})
    return Started(program.name, proc, program.log, offset)


# -- PID files ---------------------------------------------------------------------------------
def write_pid_file(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record) + "\n")
    tmp.replace(path)


def recorded(path: Path) -> dict | None:
    """The PID file's record; a file holding only a PID (written before this module) reads as
    {"pid": PID} (no start time: trusted while that PID runs)."""
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(value, int):
        return {"pid": value}
    return value if isinstance(value, dict) and "pid" in value else None


def running_pid(path: Path) -> int | None:
    """The recorded PID while that very process runs (same start time), else None."""
    rec = recorded(path)
    if not rec:
        return None
    pid = int(rec["pid"])
    _reap(pid)
    started = start_time(pid)
    # (programs rename themselves, e.g. `airflow api_server -- host:...`: the start time, not
    # the command line, tells the recorded process from a later one with its PID)
    if started is None or ("start_time" in rec and rec["start_time"] != started):
        return None
    return pid


def stop(path: Path, timeout: float = 30) -> bool:
    """Stop the program of a PID file (its whole process group) and remove the file; True if
    something was running. A stale file is removed."""
    rec = recorded(path)
    if not rec:
        path.unlink(missing_ok=True)
        return False
    pgid = int(rec["pid"])
    leader = start_time(pgid)
    # Linux reuses no PID while a process group of that number lives: a PID running with another
    # start time means the recorded group is gone and the number now belongs to someone else
    reused = leader is not None and rec.get("start_time", leader) != leader
    if reused or (running_pid(path) is None and not group_members(pgid)):
        path.unlink(missing_ok=True)
        return False
    stop_groups({path.stem: pgid}, timeout)
    _reap(pgid)
    path.unlink(missing_ok=True)
    return True


# -- process groups ----------------------------------------------------------------------------
def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat fields after the command name (state is [0], pgid [2], start time [19])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_time(pid: int) -> str | None:
    """When the process started (clock ticks after boot), None if it is gone or a zombie."""
    fields = _stat(pid)
    return fields[19] if fields and fields[0] != "Z" else None


def group_members(pgid: int) -> list[int]:
    """Live processes (zombies left out) of a process group, from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def _signal(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pid: int) -> None:
    """Collect the exit status of our own child (a program started by this process), so that it
    does not stay a zombie; nothing for anyone else's."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _wait_gone(pgids: Iterable[int], deadline: float, interval: float) -> None:
    pgids = list(pgids)
    while any(group_members(g) for g in pgids) and time.monotonic() < deadline:
        time.sleep(interval)


def stop_groups(groups: Mapping[str, int], timeout: float = 30) -> list[str]:
    """SIGTERM to each named process group, SIGKILL to those with a process left after `timeout`
    seconds; returns the names that had to be killed."""
    for pgid in groups.values():
        _signal(pgid, signal.SIGTERM)
    _wait_gone(groups.values(), time.monotonic() + timeout, 0.2)
    killed = [name for name, pgid in groups.items() if group_members(pgid)]
    for name in killed:
        log.warning("%s did not stop in %.0fs; killing it", name, timeout)
        _signal(groups[name], signal.SIGKILL)
    _wait_gone((groups[n] for n in killed), time.monotonic() + KILL_GRACE, 0.1)
    return killed


def stop_started(started: Iterable[Started], timeout: float = 30) -> None:
    """Stop programs this process started (their groups), and collect their exit status."""
    started = list(started)
    stop_groups({s.name: s.pid for s in started}, timeout)
    for s in started:
        s.popen.wait()


# -- readiness ---------------------------------------------------------------------------------
def first_exited(started: Iterable[Started]) -> str | None:
    """The name of the first program (started by this process) that has exited."""
    return next((s.name for s in started if s.popen.poll() is not None), None)


def wait_ready(ready: Callable[[], object], timeout: float, *, exited: Callable[[], str | None] = lambda: None,
               interval: float = 1.0) -> None:
    """Poll `ready()` every `interval` seconds until it is true. Raises `Exited(name)` when
    `exited()` names a program that died meanwhile, `TimeoutError` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        name = exited()
        if name:
            raise Exited(name)
        if time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f}s")
        time.sleep(interval)


def http_get(url: str, timeout: float = 3) -> bytes | None:
    """The body of a successful GET (no proxy: the programs listen on loopback), None while
    nothing answers or the answer is an error status."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url), timeout=timeout) as resp:
            return resp.read()
    except (urllib.error.URLError, OSError):
        return None


def tail(path: Path, n: int = 40) -> str:
    """The last `n` lines of a log ("" if there is none)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""

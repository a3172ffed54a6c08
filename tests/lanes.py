"""`make test`: the whole suite in two lanes that run at the same time.

The suite is serial, and most of its time is spent waiting on other processes: dbt, Airflow's
scheduler and workers, Superset, Postgres. On two cores one lane leaves most of a core idle. So the
tests that start whole services of their own (the Celery cluster, Superset, the end-to-end DAG
runs) run in a second pytest process beside the rest. The two lanes share nothing but the
checkout: the second lane has its own QPAN_HOME (its own embedded Postgres, secrets, Airflow home)
and its own ports, so neither can see or stop the other's servers.

    python tests/lanes.py              both lanes; exit status non-zero if either failed
    python tests/lanes.py ARGS...      one plain `pytest ARGS...` (a developer's selection)

The second lane's output goes to .qpan/lanes/services.log and is printed when it ends.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Tests that start services of their own and mostly wait on them.
SERVICES_LANE = ["tests/cluster", "tests/bi", "tests/e2e"]


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_block(start: int, offsets: tuple[int, ...]) -> int:
    """A base port such that base + each offset is free (Postgres, sample portal, Redis)."""
    for base in range(start, start + 2000, 37):
        if all(_port_is_free(base + off) for off in offsets):
            return base
    raise RuntimeError(f"no free block of ports from {start}")


def _services_env(home: Path) -> dict[str, str]:
    core_pg = int(os.environ.get("QPAN_PG_PORT", "55432"))
    pg = _free_port_block(core_pg + 1000, (0, 10, 20))  # QPAN_SAMPLE_PORT, QPAN_REDIS_PORT defaults
    airflow = _free_port_block(int(os.environ.get("QPAN_AIRFLOW_PORT", "8080")) + 700, (0,))
    bi = _free_port_block(int(os.environ.get("QPAN_BI_PORT", "8088")) + 700, (0,))
    # dbt's target folder (manifest, partial parse) is the project's by default: one per lane.
    env = dict(os.environ, QPAN_HOME=str(home), QPAN_PG_PORT=str(pg), QPAN_AIRFLOW_PORT=str(airflow),
               QPAN_BI_PORT=str(bi), DBT_TARGET_PATH=str(home / "dbt-target"))
    for inherited in ("QPAN_SAMPLE_PORT", "QPAN_REDIS_PORT", "QPAN_DATABASE_URL"):
        env.pop(inherited, None)  # derived from this lane's own Postgres port
    return env


def main(argv: list[str]) -> int:
    pytest = [sys.executable, "-m", "pytest"]
    if argv:
        return subprocess.call([*pytest, *argv], cwd=REPO)
    pytest.append("--durations=15")  # where each lane's time goes, in every full run's output

    lanes = REPO / ".qpan" / "lanes"
    # each lane's pytest temporary folders (the tests' Airflow homes and task logs) apart, so that
    # the leak scan at the end reads exactly what this run wrote
    temps = {lane: Path(tempfile.mkdtemp(prefix=f"qpan-{lane}-")) for lane in ("core", "services")}
    home = lanes / "services-home"
    shutil.rmtree(home, ignore_errors=True)  # a fresh state for the lane, as for a fresh clone
    home.mkdir(parents=True)
    log_path = lanes / "services.log"
    started = time.monotonic()
    env = _services_env(home)
    print(f"qpan tests: lane 'services' ({' '.join(SERVICES_LANE)}) runs beside this one, "
          f"Postgres on {env['QPAN_PG_PORT']}, log {log_path.relative_to(REPO)}", flush=True)
    with open(log_path, "w") as log:
        services = subprocess.Popen([*pytest, f"--basetemp={temps['services']}", *SERVICES_LANE], cwd=REPO, env=env,
                                    stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            core = subprocess.call([*pytest, f"--basetemp={temps['core']}",
                                    *(f"--ignore={path}" for path in SERVICES_LANE)], cwd=REPO)
            if services.poll() is None:
                print("qpan tests: waiting for lane 'services'…", flush=True)
            services.wait()
        except KeyboardInterrupt:
            services.terminate()
            services.wait(timeout=60)
            raise
    print(f"\n===== lane 'services' ({time.monotonic() - started:.0f} s since start) =====", flush=True)
    print(log_path.read_text(errors="replace"), flush=True)
    print(f"qpan tests: lane 'core' exit {core}, lane 'services' exit {services.returncode}", flush=True)
    # every generated secret of both lanes, in nothing either lane wrote (tests/leakscan.py)
    leaked = subprocess.call([sys.executable, str(REPO / "tests" / "leakscan.py"), str(REPO / ".qpan"),
                              *map(str, temps.values())], cwd=REPO)
    for temp in temps.values():
        shutil.rmtree(temp, ignore_errors=True)
    return core or services.returncode or leaked


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

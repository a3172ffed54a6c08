"""`qpan run`: the main job end to end, through Airflow itself.

1. start the embedded Postgres and migrate the raw schema and roles;
2. initialise Airflow (SQLite metadata DB under `.qpan/airflow`);
3. for the sample source set, serve the sample portal pages on 127.0.0.1;
4. a run of `qpan_ingest`, then one of `qpan_transform`, each what `airflow dags test` does,
   both in one Python process (`qpan.orchestration.dag_runs`) so Airflow starts once;
5. print what was built and how to connect.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

from qpan.orchestration import airflow_env, airflow_internals
from qpan.core import config, db, pgserver, settings

log = logging.getLogger(__name__)
SAMPLE_REGISTRY = "scrapers/sample_sources.yml"
LIVE_REGISTRY = "scrapers/sources.yml"


class DagRunFailed(RuntimeError):
    pass


class AlreadyRunning(RuntimeError):
    pass


@contextmanager
def run_lock(wait: float = 0, progress_every: float = 10):
    """One `qpan run` per clone at a time (`.qpan/run.lock`, released when the process ends,
    however it ends): a second one says who holds it instead of failing on a busy port.
    `wait` > 0: wait up to that many seconds for the holder to finish, printing a progress line
    every `progress_every` seconds, before giving up with the same error."""
    import fcntl

    path = config.state_dir() / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+")
    started = time.monotonic()
    next_line = 0.0
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            waited = time.monotonic() - started
            if waited >= wait:
                fh.close()
                after = f" (waited {waited:.0f}s)" if wait else ""
                raise AlreadyRunning(f"another `qpan run` (pid {holder}) is running in this clone ({path}){after}; "
                                     f"wait for it to finish, or stop it") from None
            if waited >= next_line:
                print(f"    waiting for the running `qpan run` (pid {holder}) to finish: "
                      f"{waited:.0f}s of at most {wait:.0f}s", flush=True)
                next_line += progress_every
            time.sleep(min(0.5, wait - waited))
    try:
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


# Lines of a DAG run's log that name why it failed, most telling first.
_CAUSES = (
    re.compile(r"(connection to server at \S+ port \d+ failed: [^\n]+)", re.IGNORECASE),
    re.compile(r"(cannot reach [^\n]+)"),
    re.compile(r"(could not connect to server[^\n]*)", re.IGNORECASE),
    re.compile(r"(quality gate '\w+' failed [^\n]+)"),
    re.compile(r"((?:\w+\.)*\w+(?:Error|Exception|Failed|Unreachable): (?!.*see the log above)[^\n]+)"),
)


def failure_cause(log_text: str) -> str | None:
    """One line: why a DAG run failed, from its log (the last match of the most telling pattern)."""
    for pattern in _CAUSES:
        found = pattern.findall(log_text)
        if found:
            return " ".join(found[-1].split())[:400]
    return None


def _metadata_db() -> Path:
    return config.airflow_home() / "airflow.db"


def _failed_tasks(dag_id: str) -> list[str]:
    return airflow_internals.failed_tasks(_metadata_db(), dag_id)


def _last_run_state(dag_id: str) -> str | None:
    """The state Airflow recorded for the DAG's latest run (what `dags test` left behind)."""
    run = airflow_internals.last_run(_metadata_db(), dag_id)
    return run[1] if run else None


def run_dags(runs: list[tuple[str, dict | None]], extra_env: dict[str, str] | None = None) -> dict[str, float]:
    """Run the DAGs in order through Airflow; raise DagRunFailed naming the first that failed."""
    for dag_id, conf in runs:
        print(f"==> DAG run {dag_id}" + (f" conf={json.dumps(conf)}" if conf else ""), flush=True)
    started = time.monotonic()
    before = {dag_id: _last_run_id(dag_id) for dag_id, _ in runs}
    res = airflow_env.dags_test_many(runs, extra_env)
    timings = _timings(res.log_path)
    for dag_id, _ in runs:
        state = _last_run_state(dag_id) if _last_run_id(dag_id) != before[dag_id] else None
        if state != "success":
            text = res.log_path.read_text(errors="replace")
            failed = _failed_tasks(dag_id) if state else []
            cause = failure_cause(text) or f"exit {res.returncode}; see the log"
            where = f" at task {', '.join(failed)}" if failed else ""
            raise DagRunFailed(f"{dag_id} ended {state or 'without a run'}{where}: {cause} (log: {res.log_path})")
        print(f"    {dag_id}: success in {timings.get(dag_id, float('nan')):.1f}s", flush=True)
    if res.returncode != 0:  # every run succeeded, yet the process failed (e.g. on exit)
        cause = failure_cause(res.log_path.read_text(errors="replace")) or "see the log"
        raise DagRunFailed(f"the Airflow process exited {res.returncode}: {cause} (log: {res.log_path})")
    print(f"    Airflow start-up and {runs_phrase(len(runs))}: {time.monotonic() - started:.1f}s (log: {res.log_path})",
          flush=True)
    return timings


def runs_phrase(n: int) -> str:
    """How many DAG runs one Airflow process ran, in words (`--apply` runs one, `qpan run` two)."""
    return {1: "the run", 2: "both runs"}.get(n, f"the {n} runs")


def _last_run_id(dag_id: str) -> int | None:
    run = airflow_internals.last_run(_metadata_db(), dag_id)
    return run[0] if run else None


def _timings(log_path) -> dict[str, float]:
    """`[qpan.dag_runs] finished <dag> state=... in 12.3s` lines of the run log."""
    found = {}
    for line in log_path.read_text(errors="replace").splitlines():
        match = re.match(r"\[qpan\.dag_runs\] finished (\S+) state=\S+ in ([0-9.]+)s", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def run_main_job(sources: str = "sample", transform: str | None = None) -> int:
    """`transform`: "build" (the default, as in the scheduler) runs the dbt models as one `dbt
    build` task, "cosmos" renders them with astronomer-cosmos, one task per model: on two cores,
    40-odd dbt invocations cost minutes, one costs ~30 s."""
    with run_lock():
        return _run_main_job(sources, transform)


def _run_main_job(sources: str, transform: str | None) -> int:
    t0 = time.monotonic()
    transform = transform or settings.get("QPAN_TRANSFORM_MODE")
    print("==> embedded Postgres", flush=True)
    pgserver.start()
    db.migrate()
    print(f"    {pgserver.status()}", flush=True)
    print("==> Airflow metadata DB", flush=True)
    airflow_env.ensure_initialised()
    if transform == "cosmos":
        # cosmos renders the DAG's dbt tasks from the manifest (`dbt parse`, ~10 s)
        print("==> dbt manifest (the transform DAG renders it with astronomer-cosmos)", flush=True)
        from qpan.transform.warehouse import parse_manifest

        parse_manifest()
    with ExitStack() as stack:
        extra_env: dict[str, str] = {}
        if sources == "sample":
            from scrapers.portal_server import PortalServer, sample_site

            # The sample pages are served on loopback hosts over real HTTP for the run's duration.
            port = config.sample_port()
            try:
                server = stack.enter_context(PortalServer(sample_site(), port=port))
            except OSError as exc:
                raise RuntimeError(
                    f"port {port} of the sample portal server (QPAN_SAMPLE_PORT, default QPAN_PG_PORT + 10) is in use "
                    f"({exc.strerror}): another `qpan run` of a clone with this QPAN_PG_PORT, or a "
                    f"`python -m scrapers.portal_server`, holds it; stop it or set QPAN_PG_PORT") from None
            extra_env.update(server.env())
            print("==> sample portal pages served at " + ", ".join(server.base(s) for s in server.sites), flush=True)
            registry = SAMPLE_REGISTRY
        else:
            registry = LIVE_REGISTRY
        print(f"    dbt through: {'astronomer-cosmos, one task per model' if transform == 'cosmos' else 'one dbt build task'}")
        extra_env["QPAN_TRANSFORM_MODE"] = transform
        # The sample pages stay served until both runs end: one Airflow process runs both.
        run_dags([("qpan_ingest", {"sources_file": registry}), ("qpan_transform", None)], extra_env)
    from qpan.report.page import build_report

    build_report()
    _print_summary(time.monotonic() - t0)
    return 0


def mart_count_lines(counts: dict[str, int]) -> list[str]:
    """`    marts.<table>   <n> rows`, the counts in one column however long the names are."""
    marts = sorted((name, n) for name, n in counts.items() if name.startswith("marts."))
    width = max((len(name) for name, _ in marts), default=0) + 2
    return [f"    {name:<{width}}{n} rows" for name, n in marts]


def _print_summary(elapsed: float) -> None:
    with db.connect() as conn:
        counts = db.table_counts(conn, ("raw", "marts"))
        sources = conn.execute("select count(distinct source) from raw.articles").fetchone()[0]
    ep = config.endpoint()
    print("\n==> qpan built the warehouse in %.0fs" % elapsed)
    print(f"    articles landed:        {counts.get('raw.articles', 0)} from {sources} source(s)")
    print(f"    raw pages kept:         {counts.get('raw.pages', 0)}")
    print(f"    quarantined:            {counts.get('raw.quarantine', 0)}")
    print(f"    facts extracted:        {counts.get('raw.indicator_mentions', 0)}")
    for line in mart_count_lines(counts):
        print(line)
    from qpan.gate.validate import data_docs_index

    gx_docs = data_docs_index()
    report = config.state_dir() / "report" / "index.html"
    if gx_docs.exists():
        print(f"    quality report (GX):    {gx_docs}")
    if report.exists():
        print(f"    analyst report:         {report}")
    print("\n    connect as the read-only analyst:")
    print(f'      {pgserver.psql_path()} "$(.venv/bin/qpan db url --role qpan_analyst --show-password)"')
    print(f"      (host {ep.host}, port {ep.port}, database {ep.dbname}, user qpan_analyst)")

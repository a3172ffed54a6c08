"""The quality gate's Data Docs, a run-time folder (`$QPAN_HOME/gx/data_docs/`): GX's page of
each validation (qpan.gate.gx renders it), kept for the last N runs of each suite, and an index
page of our own that reads offline.

The runs are listed in `runs.json` beside the index (suite, run name, run time, result, the page
GX said it wrote), so pruning and the index need nothing of GX's own layout or stores.

GX's own `index.html` is an empty shell filled in by JavaScript from CDNs (jQuery, Bootstrap,
bootstrap-table): offline, or behind a proxy that blocks them, it showed nothing. The index
written here is plain HTML: one row per kept validation (suite, run name = the Airflow run id
in the DAG, run time, passed/FAILED, expectations failed), each linked to GX's page for it.
"""
from __future__ import annotations

import contextlib
import fcntl
import html
import json
import logging
import os
from datetime import datetime
from pathlib import Path

from qpan.core import config

log = logging.getLogger(__name__)


def docs_dir() -> Path:
    return config.state_dir() / "gx" / "data_docs"


def data_docs_index() -> Path:
    return docs_dir() / "index.html"


@contextlib.contextmanager
def docs_lock(docs: Path | None = None):
    """One writer of the list of runs at a time, across processes: two Celery workers, or a
    `qpan check` beside a DAG run, may gate at once."""
    docs = docs or docs_dir()
    docs.mkdir(parents=True, exist_ok=True)
    with open(docs.parent / "data_docs.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _load(docs: Path) -> list[dict]:
    try:
        runs = json.loads((docs / "runs.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return runs if isinstance(runs, list) else []


def _save(docs: Path, runs: list[dict]) -> None:
    tmp = docs / "runs.json.tmp"
    tmp.write_text(json.dumps(runs, indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, docs / "runs.json")


def record_validations(validations, keep: int, docs: Path | None = None) -> Path:
    """Add a checkpoint run's validations (qpan.gate.gx.Validation) to the list, keep the last
    `keep` runs of each suite (deleting the others' pages) and write the index. Returns it."""
    docs = docs or docs_dir()
    with docs_lock(docs):
        runs = _load(docs)
        for v in validations:
            page = v.page.relative_to(docs).as_posix() if v.page and v.page.is_relative_to(docs) else None
            failed = sum(1 for o in v.outcomes if not o.success)
            runs.append({"suite": v.suite, "run_name": v.run_name, "run_time": v.run_time.isoformat(),
                         "success": v.success, "expectations": len(v.outcomes), "failed": failed, "page": page})
        _save(docs, runs)
        prune_validation_results(keep, docs)
        return write_offline_index(docs)


def prune_validation_results(keep: int, docs: Path | None = None) -> int:
    """Forget all but the newest `keep` runs of each suite and delete their pages. Returns the
    number of runs forgotten. (Every result stays in audit.validation_results.)"""
    docs = docs or docs_dir()
    runs = _load(docs)
    newest_first = sorted(runs, key=lambda r: r["run_time"], reverse=True)
    seen: dict[str, int] = {}
    kept, dropped = [], []
    for run in newest_first:
        seen[run["suite"]] = seen.get(run["suite"], 0) + 1
        (kept if seen[run["suite"]] <= keep else dropped).append(run)
    for run in dropped:
        if run.get("page"):
            _delete_page(docs, docs / run["page"])
    if dropped:
        _save(docs, kept)
        log.info("GX Data Docs: forgot %d old validation run(s), kept the last %d per suite "
                 "(all results stay in audit.validation_results)", len(dropped), keep)
    return len(dropped)


def _delete_page(docs: Path, page: Path) -> None:
    page.unlink(missing_ok=True)
    folder = page.parent
    while folder != docs and docs in folder.parents:  # the folders the page leaves empty
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent


def _when(run_time: str) -> str:
    try:
        return datetime.fromisoformat(run_time).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return run_time


def write_offline_index(docs: Path | None = None) -> Path:
    """`index.html` of the Data Docs site: plain HTML and inline CSS, no script, no CDN."""
    docs = docs or docs_dir()
    path = docs / "index.html"
    rows = []
    for run in sorted(_load(docs), key=lambda r: (r["run_time"], r["suite"]), reverse=True):
        status = "passed" if run["success"] else "FAILED"
        link = (f'<a href="{html.escape(run["page"])}">{html.escape(run["suite"])}</a>' if run.get("page")
                else html.escape(run["suite"]))
        rows.append(f'<tr class="{status.lower()}"><td>{html.escape(_when(run["run_time"]))}</td>'
                    f'<td>{html.escape(run["run_name"])}</td><td>{link}</td><td>{status}</td>'
                    f'<td>{run["failed"]} of {run["expectations"]}</td></tr>')
    body = "\n".join(rows) or '<tr><td colspan="5">no validation stored yet: run `qpan check`</td></tr>'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>qpan quality gate: validations</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: .3em .8em; border-bottom: 1px solid #ddd; text-align: left; }}
tr.failed td {{ background: #fde8e8; }} tr.passed td:nth-child(4) {{ color: #17692e; }}
tr.failed td:nth-child(4) {{ color: #a01818; font-weight: bold; }}
</style></head><body>
<h1>qpan quality gate: validations</h1>
<p>The last runs of each suite (QPAN_GX_KEEP_RUNS); every result of every run is also in
<code>audit.validation_results</code>. The run name is the Airflow run id (or <code>manual__…</code> for
<code>qpan check</code>).</p>
<table><thead><tr><th>run time</th><th>run name</th><th>suite</th><th>result</th><th>failed</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
""", encoding="utf-8")
    return path

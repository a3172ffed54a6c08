"""The quality gate's Data Docs: GX's validation pages, pruned to the last N runs of each suite,
and an index page of our own that reads offline.

This is the one module that knows GX's on-disk layout (its file validation store and docs site,
`<suite>/<run name>/<run time>/<batch>.json|.html`), which is not GX's public interface:
`CHECKED_ON_GX` is the version it was checked on, pinned by tests/gate/test_gx_store_retention.py
(whose real-run test in tests/gate/test_gate_cli_and_docs.py follows a link of this index).

GX's own `index.html` is an empty shell filled in by JavaScript from CDNs (jQuery, Bootstrap,
bootstrap-table): offline, or behind a proxy that blocks them, it showed nothing. The index
written here is plain HTML: one row per stored validation (suite, run name = the Airflow run id
in the DAG, run time, passed/FAILED, expectations failed), each linked to GX's page for it.
"""
from __future__ import annotations

import html
import json
import logging
from datetime import datetime
from pathlib import Path

from qpan.core import config

log = logging.getLogger(__name__)
GX_PROJECT = config.REPO_ROOT / "expectations"
CHECKED_ON_GX = "1.24.1"


def uncommitted_dir() -> Path:
    return GX_PROJECT / "gx" / "uncommitted"


def data_docs_index() -> Path:
    return uncommitted_dir() / "data_docs" / "local_site" / "index.html"


def update_data_docs(context, result, keep: int) -> None:
    """Prune the stored results to the last `keep` runs of each suite, render this run's
    validation pages once (not once per validation), then write the offline index."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    prune_validation_results(keep)
    identifiers = list(result.run_results.keys())
    identifiers += [ExpectationSuiteIdentifier(name=v.suite_name) for v in result.run_results.values()]
    context.build_data_docs(resource_identifiers=identifiers, build_index=False)
    write_offline_index()


def prune_validation_results(keep: int, uncommitted: Path | None = None) -> int:
    """Delete all but the newest `keep` runs of each suite from GX's validation store and their
    Data Docs pages. Layout (GX's file store): `<suite>/<run name>/<run time>/<batch>.json`,
    mirrored as `.html` under the docs site. Returns the number of runs deleted."""
    import shutil

    uncommitted = uncommitted or uncommitted_dir()
    store = uncommitted / "validations"
    docs = uncommitted / "data_docs" / "local_site" / "validations"
    deleted = 0
    if not store.is_dir():
        return 0
    for suite_dir in (d for d in store.iterdir() if d.is_dir()):
        runs = [run_time for run_name in suite_dir.iterdir() if run_name.is_dir()
                for run_time in run_name.iterdir() if run_time.is_dir()]
        # GX names run-time folders as ISO timestamps (20261122T170224.079927Z): they sort by name
        runs.sort(key=lambda path: path.name, reverse=True)
        for old in runs[keep:]:
            relative = old.relative_to(store)
            shutil.rmtree(old, ignore_errors=True)
            shutil.rmtree(docs / relative, ignore_errors=True)
            deleted += 1
    if deleted:
        log.info("GX store: deleted %d old validation run(s), kept the last %d per suite "
                 "(all results stay in audit.validation_results)", deleted, keep)
    return deleted



def _runs(uncommitted: Path) -> list[dict]:
    store = uncommitted / "validations"
    docs = uncommitted / "data_docs" / "local_site"
    runs = []
    for result_file in sorted(store.glob("*/*/*/*.json")) if store.is_dir() else []:
        suite, run_name, run_time = result_file.parts[-4:-1]
        try:
            data = json.loads(result_file.read_text())
        except (OSError, ValueError):
            continue
        results = data.get("results") or []
        page = docs / "validations" / suite / run_name / run_time / (result_file.stem + ".html")
        runs.append({
            "suite": suite, "run_name": run_name, "run_time": run_time, "success": bool(data.get("success")),
            "expectations": len(results), "failed": sum(1 for r in results if not r.get("success")),
            "page": page.relative_to(docs).as_posix() if page.exists() else None,
        })
    runs.sort(key=lambda r: (r["run_time"], r["suite"]), reverse=True)
    return runs


def _when(run_time: str) -> str:
    try:
        return datetime.strptime(run_time, "%Y%m%dT%H%M%S.%fZ").strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return run_time


def write_offline_index(uncommitted: Path | None = None) -> Path:
    """`index.html` of the Data Docs site: plain HTML and inline CSS, no script, no CDN."""
    uncommitted = uncommitted or uncommitted_dir()
    path = uncommitted / "data_docs" / "local_site" / "index.html"
    rows = []
    for run in _runs(uncommitted):
        status = "passed" if run["success"] else "FAILED"
        link = (f'<a href="{html.escape(run["page"])}">{html.escape(run["suite"])}</a>' if run["page"]
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
<p>The last runs of each suite kept by GX (QPAN_GX_KEEP_RUNS); every result of every run is also in
<code>audit.validation_results</code>. The run name is the Airflow run id (or <code>manual__…</code> for
<code>qpan check</code>).</p>
<table><thead><tr><th>run time</th><th>run name</th><th>suite</th><th>result</th><th>failed</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
""", encoding="utf-8")
    return path

"""The quality gate's one adapter to Great Expectations: a context built from code for each
checkpoint run (nothing read from or written to the repository), its results as plain data.

Everything GX-specific the gate needs lives here: the context's configuration (in memory, no
progress bars, no usage statistics, one Data Docs site in a run-time folder), the assets,
suites, validation definitions and checkpoint, the run, the rendering of this run's validation
pages and where GX put each page. `CHECKED_ON_GX` is the version this was written against,
pinned by tests/gate/test_gx_adapter.py (on another GX: run that file, then move the pin).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

from qpan.core import config

CHECKED_ON_GX = "1.24.1"
DATASOURCE = "warehouse"
SITE = "local_site"


@dataclass
class Outcome:
    """One expectation evaluated on one asset."""

    suite: str
    expectation: str
    column: str | None
    success: bool
    observed: object
    details: dict


@dataclass
class Validation:
    """One suite validated against one asset in a checkpoint run, and its Data Docs page."""

    suite: str
    run_name: str
    run_time: datetime
    success: bool
    outcomes: list[Outcome] = field(default_factory=list)
    page: Path | None = None


def _context(docs_dir: Path):
    import great_expectations as gx
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave this machine
    # The connection string stays a `${...}` reference: no password in GX's config or its pages.
    os.environ["QPAN_GX_WAREHOUSE_URL"] = config.database_url("qpan_transformer").replace(
        "postgresql://", "postgresql+psycopg://", 1)
    project = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        # no tqdm bars ("Calculating Metrics") in `qpan check`'s console or the gate tasks' logs
        progress_bars={"globally": False, "metric_calculations": False},
        data_docs_sites={SITE: {
            "class_name": "SiteBuilder", "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        }},
    )
    return gx, gx.get_context(mode="ephemeral", project_config=project)


def run_checkpoint(name: str, assets: dict[str, tuple[str, str]], suites: dict[str, list], parameters: dict,
                   run_name: str, docs_dir: Path) -> list[Validation]:
    """Validate each asset (name → (SQL query, suite name)) with its suite (name → expectations)
    as checkpoint `name`, run `run_name`; render this run's pages into `docs_dir`."""
    from great_expectations.core.run_identifier import RunIdentifier

    gx, context = _context(docs_dir)
    datasource = context.data_sources.add_postgres(name=DATASOURCE, connection_string="${QPAN_GX_WAREHOUSE_URL}")
    added_suites = {}
    definitions = []
    for asset_name, (query, suite_name) in assets.items():
        if suite_name not in added_suites:
            suite = gx.ExpectationSuite(name=suite_name)
            for expectation in suites[suite_name]:
                suite.add_expectation(expectation)
            added_suites[suite_name] = context.suites.add(suite)
        batch = datasource.add_query_asset(name=asset_name, query=query).add_batch_definition_whole_table("all_rows")
        definitions.append(context.validation_definitions.add(
            gx.ValidationDefinition(name=asset_name, data=batch, suite=added_suites[suite_name])))
    checkpoint = context.checkpoints.add(gx.Checkpoint(
        name=name, validation_definitions=definitions,
        # no UpdateDataDocsAction (one docs build per validation): the pages are built once below
        actions=[], result_format={"result_format": "SUMMARY"}))
    result = checkpoint.run(expectation_parameters=parameters, run_id=RunIdentifier(run_name=run_name))
    identifiers = list(result.run_results)
    context.build_data_docs(site_names=[SITE], resource_identifiers=identifiers, build_index=False)
    validations = []
    for identifier, validation in result.run_results.items():
        urls = context.get_docs_sites_urls(resource_identifier=identifier, site_names=[SITE])
        url = urls[0].get("site_url") if urls else None
        validations.append(Validation(
            suite=validation.suite_name, run_name=run_name, run_time=identifier.run_id.run_time,
            success=bool(validation.success), outcomes=[_outcome(validation.suite_name, item)
                                                        for item in validation.results],
            page=Path(unquote(urlparse(url).path)) if url else None))
    return validations


def _outcome(suite: str, item) -> Outcome:
    cfg = item.expectation_config
    result = item.result or {}
    column = cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list", []) or [])
    observed = result.get("observed_value")
    if observed is None:
        observed = result.get("unexpected_count")
    details = {k: v for k, v in result.items() if k in (
        "unexpected_count", "unexpected_percent", "partial_unexpected_list", "element_count")}
    if item.exception_info and item.exception_info.get("raised_exception"):
        details["exception"] = str(item.exception_info.get("exception_message"))[:500]
    # JSON-safe now (dates, decimals as text), as audit.validation_results stores them
    details = json.loads(json.dumps(details, default=str, ensure_ascii=False))
    observed = None if observed is None else json.loads(json.dumps(observed, default=str))
    return Outcome(suite=suite, expectation=cfg.type, column=column or None, success=bool(item.success),
                   observed=observed, details=details)

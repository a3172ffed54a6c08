"""The readers of bench.publish_load run the Superset dashboard's chart queries (issue 32): every
chart of the bundle bi/superset/ has its SQL, captured from Superset, in the readers' mix, and was
not changed since the capture. No warehouse, no Superset: files only (well under a second)."""
from __future__ import annotations

import re

import yaml

from bench import dashboard_queries
from bench.publish_load import reader_queries
from qpan.bi import bundle


def _dataset_tables() -> dict[str, str]:
    """{dataset uuid: schema.table} of the bundle's datasets."""
    out = {}
    for path in (bundle.BUNDLE_DIR / "datasets").rglob("*.yaml"):
        dataset = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[dataset["uuid"]] = f"{dataset['schema']}.{dataset['table_name']}"
    return out


def test_every_chart_of_the_dashboard_is_in_the_readers_mix():
    in_bundle = {c["uuid"]: c for c in dashboard_queries.bundle_charts()}
    captured = {c["uuid"]: c for c in dashboard_queries.captured()}
    assert len(in_bundle) == len(list((bundle.BUNDLE_DIR / "charts").glob("*.yaml"))) >= 5
    assert sorted(c["slice_name"] for c in captured.values()) == sorted(c["slice_name"] for c in in_bundle.values()), \
        "a chart of bi/superset/charts has no captured SQL: `python -m bench.dashboard_queries` (module docstring)"
    changed = [c["chart"] for uuid, c in in_bundle.items() if captured[uuid]["fingerprint"] != c["fingerprint"]]
    assert changed == [], f"{changed} changed after their SQL was captured: capture it again"

    mix = reader_queries()
    dashboard = [sql for kind, sql in mix if kind == "dashboard"]
    assert dashboard == [sql for c in dashboard_queries.captured() for sql in c["sql"]]
    assert [kind for kind, _ in mix].count("readme") >= 5  # the README's queries stay in the mix


def test_each_captured_query_reads_its_chart_s_dataset():
    tables = _dataset_tables()
    for path in sorted((bundle.BUNDLE_DIR / "charts").glob("*.yaml")):
        chart = yaml.safe_load(path.read_text(encoding="utf-8"))
        [entry] = [c for c in dashboard_queries.captured() if c["uuid"] == chart["uuid"]]
        schema, table = tables[chart["dataset_uuid"]].split(".")
        assert entry["sql"], path.name
        for sql in entry["sql"]:
            assert re.match(r"\s*SELECT\b", sql, re.I), "readers only read"
            assert re.search(rf"\bFROM\s+{schema}\.{table}\b", sql, re.I), (path.name, sql)
            assert dashboard_queries.select_labels(sql) == set(entry["labels"]), (path.name, sql)

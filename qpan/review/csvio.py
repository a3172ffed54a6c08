"""`qpan review export` / `import`: the decisions as a spreadsheet, round trip.

Export writes every decision (the history, in the order the database recorded it) in a canonical
form; import checks
every row first (a malformed row: one error naming it, nothing written), then inserts the rows
not already there, in one transaction. Export → import → export gives the same file, and
importing a file twice adds nothing the second time. A row without decided_at is a new decision
(made in the spreadsheet); it is skipped when the fact's current decision already says the same.
"""
from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import psycopg

from qpan.review.catalog import (DECISIONS, ReviewError, check_indicator, check_period, check_unit, check_value,
                                 fmt_num, review_key)
from qpan.review.store import Decision, check_recordable, insert, same_as_current

FIELDS = ["fact_id", "decision", "article_url", "content_hash", "indicator", "span_start", "span_end", "evidence",
          "old_indicator", "old_value", "old_unit_id", "old_period", "new_indicator", "new_value", "new_unit_id",
          "new_period", "note", "decided_by", "decided_at"]
REQUIRED = ("decision", "article_url", "indicator", "span_start", "span_end", "evidence")


def _canonical(row: dict) -> dict:
    out = {}
    for name in FIELDS:
        value = row.get("review_key" if name == "fact_id" else name)
        if name in ("old_value", "new_value"):
            out[name] = fmt_num(value)
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
        else:
            out[name] = "" if value is None else str(value)
    return out


def export(conn: psycopg.Connection, path: Path) -> int:
    # in the order they were recorded: imported elsewhere, the same decision of each fact is current
    rows = conn.execute("select * from review.decisions order by recorded_at, decision_id").fetchall()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(_canonical(row))
    return len(rows)


def _int(row: dict, name: str, n: int) -> int:
    try:
        return int(row[name])
    except (TypeError, ValueError):
        raise ReviewError(f"row {n}: {name} {row.get(name)!r} is not a whole number") from None


def parse_row(row: dict, n: int) -> Decision:
    """One CSV row as a decision, or a ReviewError naming the row."""
    try:
        missing = [name for name in REQUIRED if not (row.get(name) or "").strip()]
        if missing:
            raise ReviewError(f"missing {', '.join(missing)}")
        decision = row["decision"].strip()
        if decision not in DECISIONS:
            raise ReviewError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        start, end = _int(row, "span_start", n), _int(row, "span_end", n)
        if end < start:
            raise ReviewError("span_end is before span_start")
        key = review_key(row["article_url"], row["indicator"], start, end)
        if (row.get("fact_id") or key) != key:
            raise ReviewError(f"fact_id {row['fact_id']} does not match its URL, indicator and span ({key})")
        old = {k: (row.get(f"old_{k}") or None) for k in ("indicator", "unit_id", "period")}
        old["value"] = row.get("old_value") or None
        new: dict = {}
        if decision != "reject":
            indicator = check_indicator((row.get("new_indicator") or row["indicator"]).strip())
            period = (row.get("new_period") or "").strip()
            check_period(period)
            unit = (row.get("new_unit_id") or "").strip()
            if not unit:
                raise ReviewError("new_unit_id is empty")
            check_unit(unit, period)
            value, value_type = check_value(indicator, row.get("new_value") or "")
            new = {"indicator": indicator, "value": value, "value_type": value_type, "unit_id": unit,
                   "period": period}
        decided_at = (row.get("decided_at") or "").strip() or None
        if decided_at:
            try:
                datetime.fromisoformat(decided_at)
            except ValueError:
                raise ReviewError(f"decided_at {decided_at!r} is not an ISO timestamp") from None
        return Decision(key, row["article_url"], row["indicator"], start, end, row["evidence"], decision,
                        row.get("content_hash") or None, old, new, row.get("note") or None,
                        row.get("decided_by") or None, decided_at)
    except ReviewError as exc:
        msg = str(exc)
        raise ReviewError(msg if msg.startswith("row ") else f"row {n}: {msg}") from None


def _same_as(conn: psycopg.Connection, d: Decision) -> bool:
    """Already recorded: the same decision at the same time (or, undated, the current one says it)."""
    r = d.row()
    if d.decided_at:
        found = conn.execute(
            "select 1 from review.decisions where review_key = %(review_key)s and decision = %(decision)s "
            "and decided_at = %(decided_at)s::timestamptz and note is not distinct from %(note)s "
            "and new_value is not distinct from %(new_value)s and new_unit_id is not distinct from %(new_unit_id)s "
            "and new_period is not distinct from %(new_period)s "
            "and new_indicator is not distinct from %(new_indicator)s", r).fetchone()
        return found is not None
    return same_as_current(conn, d) is not None


def import_(conn: psycopg.Connection, path: Path, keep_orphans: bool = False) -> tuple[int, int, int]:
    """(inserted, already there, orphans kept). Every row is checked before anything is written:
    first its form (parse_row), then, for the rows to write, what `qpan review confirm|correct|
    reject|add` checks (store.check_recordable). One bad row: a ReviewError naming it, nothing
    written. `keep_orphans`: a dated row (history from `qpan review export`) whose fact is not
    in this warehouse is written anyway, as an orphan (`qpan review list --orphans`); an undated
    row (a new decision) never is."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not set(REQUIRED) <= set(reader.fieldnames):
                raise ReviewError(f"{path}: not a review CSV (needs columns {', '.join(REQUIRED)})")
            rows = list(reader)
    except OSError as exc:
        raise ReviewError(f"cannot read {path}: {exc.strerror}") from None
    decisions = []
    for n, row in enumerate(rows, start=2):  # row 1 is the header, as a spreadsheet numbers them
        if None in row or any(v is None for v in row.values()):
            raise ReviewError(f"row {n}: wrong number of columns")
        decisions.append((n, parse_row(row, n)))
    todo, added, orphans = [], set(), 0
    for n, d in decisions:
        if _same_as(conn, d):
            continue
        try:
            check_recordable(conn, d, frozenset(added))
        except ReviewError as exc:
            if not (keep_orphans and d.decided_at):
                hint = " (a dated row of an exported history: --keep-orphans imports it as an orphan)" \
                    if d.decided_at else ""
                raise ReviewError(f"row {n}: {exc}{hint}") from None
            orphans += 1
        if d.decision == "add":
            added.add(d.review_key)
        todo.append(d)
    insert(conn, todo)
    return len(todo), len(decisions) - len(todo), orphans

"""`qpan review`: confirm, correct, reject or add facts; list what to review; export / import the
decisions as CSV. Decisions are written as qpan_reviewer and take effect at the next
qpan_transform run (`--apply` triggers one through Airflow).

    qpan review list [--indicator I] [--unit U] [--year Y] [--status S] [--conflicts] [--orphans] [--limit N]
    qpan review confirm FACT_ID [--note ...]
    qpan review correct FACT_ID --value V [--unit U] [--period P] [--indicator I] --note ...
    qpan review reject FACT_ID --note ...
    qpan review add --url URL --indicator I --value V --unit U --period P --evidence TEXT
    qpan review export FILE.csv / qpan review import FILE.csv
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path

STATUSES = ["unreviewed", "confirmed", "corrected", "rejected-hidden", "added"]


def _print(args, payload, text_lines) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=1, default=str))
    else:
        for line in text_lines:
            print(line)


@contextmanager
def _run_lock_if_applying(args):
    """`--apply` takes the run lock BEFORE anything is recorded, waiting up to --wait seconds for
    a running `qpan run` (a progress line every 10 s): a timeout records nothing, so a retry
    cannot record a decision twice. Without --apply nothing is locked."""
    if not getattr(args, "apply", False):
        yield
        return
    from qpan.orchestration.run import run_lock

    with run_lock(wait=args.wait):
        yield


def _apply(args) -> None:
    """`--apply`: the decisions take effect now, through the qpan_transform DAG (gate included),
    and the report is rewritten from the marts it published, as `make run` does; called under
    _run_lock_if_applying."""
    if not getattr(args, "apply", False):
        return
    from qpan.orchestration import airflow_env
    from qpan.report.page import build_report
    from qpan.orchestration.run import run_dags

    airflow_env.ensure_initialised()
    run_dags([("qpan_transform", None)])
    report = build_report()
    print(f"    analyst report rewritten: {report}", flush=True)


def _fact_line(r: dict) -> str:
    """One fact as a reviewer reads it: names beside the ids the commands take."""
    from qpan.review.catalog import indicator_names

    status = r["review_status"] + (", pending the next qpan_transform run" if r.get("pending") else "")
    flags = " CONFLICT" if r["has_conflict"] else ""
    name = indicator_names().get(r["indicator"])
    confidence = f" (confidence {r['confidence']:g})" if r.get("confidence") is not None else ""
    why = f"\n    {r['review_status']} by {r['decided_by']}: {r['note']}" if r.get("note") else ""
    return (f"{r['fact_id']}  [{status}]{flags} {r['indicator']} {r['comparator']} {r['value']}"
            f"{f' ({name})' if name else ''}, {r.get('unit_name') or 'unit'} ({r['unit_id']}), period {r['period']}"
            f"{confidence}{why}\n"
            f"    “{r['evidence']}”\n    {r['title']} — {r['url']} ({r['published_date']})")


def _cmd_list(args) -> int:
    from qpan.review import listing
    from qpan.review.catalog import check_indicator, check_unit_id, indicator_names, unit_name
    from qpan.review.store import as_json, connect

    # a filter that names nothing is a typo, not "no facts match"
    if args.indicator:
        check_indicator(args.indicator)
    if args.unit:
        check_unit_id(args.unit)
    with connect() as conn:
        rows = listing.orphans(conn) if args.orphans else listing.list_facts(
            conn, indicator=args.indicator, unit=args.unit, year=args.year, status=args.status,
            conflicts=args.conflicts, below=args.below, limit=args.limit)
    payload = [as_json(dict(r)) for r in rows]
    for r in payload:
        if "unit_id" in r:
            r["unit_name"] = unit_name(r["unit_id"], r.get("period"))
        r["indicator_name"] = indicator_names().get(r["indicator"])
    lines = []
    for r in payload:
        if args.orphans:
            lines.append(f"{r['fact_id']}  ORPHANED {r['decision']} {r['indicator']}: {r['orphan_reason']}\n"
                         f"    “{r['evidence']}”\n    {r['url']}  note: {r['note'] or ''}")
            continue
        lines.append(_fact_line(r))
    if not payload:
        lines.append("no orphaned decisions" if args.orphans else "no facts match")
    _print(args, payload, lines)
    return 0


def _origins(origin: dict) -> str:
    """"value given; indicator, unit_id, period from the extractor": where each field came from."""
    by_source: dict[str, list[str]] = {}
    for name, source in origin.items():
        by_source.setdefault(source, []).append(name)
    return "; ".join(f"{', '.join(names)} given" if source == "given" else f"{', '.join(names)} from the {source}"
                     for source, names in sorted(by_source.items(), key=lambda kv: kv[0] != "given"))


def _record(args, make) -> int:
    from qpan.review.store import as_json, connect, insert, same_as_current

    with _run_lock_if_applying(args):
        with connect() as conn:
            decision = make(conn)
            same = same_as_current(conn, decision)
            stored = same or insert(conn, [decision])[0]
        out = as_json(dict(stored))
        out["fact_id"] = out.pop("review_key")
        out["already_recorded"] = same is not None
        what = f"{out['decision']} {out['fact_id']} ({out['indicator']})"
        if out["decision"] in ("correct", "add"):
            what += (f": {out['new_indicator']} = {out['new_value']} unit {out['new_unit_id']} "
                     f"period {out['new_period']}")
        if decision.origin:
            out["fields_from"] = decision.origin
            if out["decision"] == "correct":
                what += f" ({_origins(decision.origin)})"
        if same:
            line = (f"already recorded: {what} by {out['decided_by']} at {out['decided_at']}; "
                    f"nothing written" + (" (running qpan_transform now)" if args.apply else ""))
        else:
            line = (f"recorded {what} by {out['decided_by']}; applied at the next qpan_transform run"
                    + (" (running it now)" if args.apply else ""))
        _print(args, out, [line])
        _apply(args)
    return 0


def _cmd_decide(args) -> int:
    from qpan.review.store import decide

    extra = {}
    if args.action == "correct":
        extra = {"value": args.value, "unit_id": args.unit, "period": args.period, "indicator": args.indicator}
    return _record(args, lambda conn: decide(conn, args.fact_id, args.action, note=args.note, by=args.by, **extra))


def _cmd_add(args) -> int:
    from qpan.review.store import add

    return _record(args, lambda conn: add(conn, url=args.url, indicator=args.indicator, value=args.value,
                                          unit_id=args.unit, period=args.period, evidence=args.evidence,
                                          note=args.note, by=args.by))


def _cmd_export(args) -> int:
    from qpan.review.csvio import export
    from qpan.review.store import connect

    with connect() as conn:
        n = export(conn, Path(args.file))
    _print(args, {"file": args.file, "rows": n}, [f"wrote {n} decisions to {args.file}"])
    return 0


def _cmd_import(args) -> int:
    from qpan.review.csvio import import_
    from qpan.review.store import connect

    with _run_lock_if_applying(args):
        with connect() as conn:
            inserted, skipped, orphans = import_(conn, Path(args.file), keep_orphans=args.keep_orphans)
        kept = f", {orphans} of them orphans (fact not in this warehouse)" if orphans else ""
        _print(args, {"file": args.file, "inserted": inserted, "already_recorded": skipped, "orphans": orphans},
               [f"imported {inserted} decisions from {args.file} ({skipped} already recorded{kept})"])
        _apply(args)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("review", help="confirm, correct, reject or add facts (the review loop)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True

    def common(sp, apply=True):
        sp.add_argument("--json", action="store_true", help="print the result as JSON")
        if apply:
            sp.add_argument("--apply", action="store_true",
                            help="run the qpan_transform DAG now, so the decision reaches the published marts")
            sp.add_argument("--wait", type=float, default=600, metavar="SECONDS",
                            help="with --apply: wait at most this long for a running `qpan run` before "
                                 "recording anything (default 600)")
        return sp

    ls = common(sub.add_parser("list", help="facts to review: conflicts and lowest confidence first"), apply=False)
    ls.add_argument("--indicator", help="only this indicator code")
    ls.add_argument("--unit", help="only this unit_id (e.g. 38.395)")
    ls.add_argument("--year", type=int, help="only facts whose period covers this year")
    ls.add_argument("--status", choices=STATUSES, help="only facts with this review status")
    ls.add_argument("--conflicts", action="store_true", help="only facts whose sources disagree")
    ls.add_argument("--below", type=float, metavar="P",
                    help="only facts whose confidence (the extractor's calibrated probability) is below P")
    ls.add_argument("--orphans", action="store_true", help="decisions whose fact no longer exists (kept, not dropped)")
    ls.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    ls.set_defaults(func=_cmd_list)

    for action, text in (("confirm", "the fact is right as extracted"),
                         ("correct", "the fact is wrong: give the right value / unit / period / indicator"),
                         ("reject", "the sentence states no such fact: hide it from every mart")):
        sp = common(sub.add_parser(action, help=text))
        sp.add_argument("fact_id", metavar="FACT_ID", help="the fact's id from `qpan review list`")
        sp.add_argument("--note", help="why (required for correct and reject)")
        sp.add_argument("--by", help="who decided (default: the database role)")
        if action == "correct":
            sp.add_argument("--value", help="the right value (true/false for a flag)")
            sp.add_argument("--unit", help="the right unit_id")
            sp.add_argument("--period", help="the right period, YYYY or YYYY/YYYY")
            sp.add_argument("--indicator", help="the right indicator code")
        sp.set_defaults(func=_cmd_decide)

    ad = common(sub.add_parser("add", help="a fact the extractor missed, with its evidence sentence"))
    ad.add_argument("--url", required=True, help="the article's URL (as stored)")
    ad.add_argument("--indicator", required=True, help="indicator code")
    ad.add_argument("--value", required=True, help="the value (true/false for a flag)")
    ad.add_argument("--unit", required=True, help="unit_id in the gazetteer")
    ad.add_argument("--period", required=True, help="YYYY or YYYY/YYYY")
    ad.add_argument("--evidence", required=True, help="the exact sentence of the article that states the fact")
    ad.add_argument("--note", help="a note")
    ad.add_argument("--by", help="who decided (default: the database role)")
    ad.set_defaults(func=_cmd_add)

    ex = common(sub.add_parser("export", help="write every decision (with history) to a CSV file"), apply=False)
    ex.add_argument("file", metavar="FILE.csv")
    ex.set_defaults(func=_cmd_export)
    im = common(sub.add_parser("import", help="record the decisions of a CSV file (checked first; idempotent)"))
    im.add_argument("file", metavar="FILE.csv")
    im.add_argument("--keep-orphans", action="store_true",
                    help="import dated rows (an exported history) whose fact is not in this warehouse, as orphans")
    im.set_defaults(func=_cmd_import)


def main(argv: list[str] | None = None) -> int:
    from qpan.cli import main as qpan_main

    return qpan_main(["review", *(argv or sys.argv[1:])])

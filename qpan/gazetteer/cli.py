"""`qpan gazetteer build|diff`: the gazetteer seeds from the pinned source and the hand-kept files.

    qpan gazetteer build [--check]   regenerate dbt_project/seeds/admin_units.csv and
                                     admin_unit_lineage.csv (--check: only say whether they are current)
    qpan gazetteer diff              what a rebuild would change: units added, retired, renamed, moved
"""
from __future__ import annotations

from pathlib import Path

from qpan.core import config

SEEDS_DIR = config.REPO_ROOT / "dbt_project" / "seeds"
UNITS_SEED = "admin_units.csv"
LINEAGE_SEED = "admin_unit_lineage.csv"


def rebuild(wheel: Path | None = None):
    from .build import build, load_amendments, load_history
    from .fetch import pinned_wheel
    from .source import read_wheel

    data = read_wheel(wheel or pinned_wheel())
    return data, build(data, load_history(), load_amendments())


def cmd_build(args) -> int:
    from .build import COLUMNS, LINEAGE_COLUMNS, to_csv

    data, built = rebuild(args.wheel)
    seeds = Path(args.seeds_dir)
    outputs = {UNITS_SEED: to_csv(built.units, COLUMNS), LINEAGE_SEED: to_csv(built.lineage, LINEAGE_COLUMNS)}
    stale = [name for name, text in outputs.items()
             if not (seeds / name).exists() or (seeds / name).read_bytes() != text.encode("utf-8")]
    summary = (f"vietnam-provinces {data.version}: {len(built.units)} unit versions, {len(built.lineage)} "
               f"lineage rows, {built.amendments_applied} hand-kept amendments")
    if args.check:
        print(f"{summary}; {'out of date: ' + ', '.join(stale) if stale else 'seeds are current'}")
        return 1 if stale else 0
    seeds.mkdir(parents=True, exist_ok=True)
    for name, text in outputs.items():
        (seeds / name).write_bytes(text.encode("utf-8"))
    print(f"{summary}; wrote {', '.join(outputs)} in {seeds}" + (f" (changed: {', '.join(stale)})" if stale else " (unchanged)"))
    return 0


def cmd_diff(args) -> int:
    from .build import read_seed
    from .diff import diff_seeds, render

    _, built = rebuild(args.wheel)
    seeds = Path(args.seeds_dir)
    lineage = read_seed(seeds / LINEAGE_SEED) if (seeds / LINEAGE_SEED).exists() else []
    d = diff_seeds(read_seed(seeds / UNITS_SEED), built.units, lineage, built.lineage)
    print(render(d))
    return 0


def register(sub) -> None:
    p = sub.add_parser("gazetteer", help="build the gazetteer seeds from the pinned source; diff against the committed ones")
    gsub = p.add_subparsers(dest="gazetteer_action", metavar="ACTION")
    gsub.required = True
    for name, func, text in (("build", cmd_build, "regenerate the gazetteer seeds"),
                             ("diff", cmd_diff, "print what a rebuild would change in the committed seed")):
        a = gsub.add_parser(name, help=text)
        a.add_argument("--wheel", type=Path, default=None,
                       help="a vietnam-provinces wheel to read instead of the pinned one (tests, trying an upgrade)")
        a.add_argument("--seeds-dir", default=str(SEEDS_DIR), help="where the seeds are (default: dbt_project/seeds)")
        if name == "build":
            a.add_argument("--check", action="store_true", help="exit 1 when the committed seeds are not what a build gives")
        a.set_defaults(func=func)

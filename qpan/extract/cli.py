"""`qpan extract` and `qpan eval` subcommands (registered into the project CLI)."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path


def _cmd_extract(args: argparse.Namespace) -> int:
    from .engine import extract_article
    from .evaluate import read_article

    published = date.fromisoformat(args.published) if args.published else None
    rc = 0
    for name in args.files:
        try:
            title, body = read_article(name)
        except (OSError, UnicodeDecodeError) as e:
            print(f"qpan extract: {name}: {e}", file=sys.stderr)
            rc = 1
            continue
        for f in extract_article(title, body, published, args.unit):
            print(json.dumps(f.to_json(doc=Path(name).name), ensure_ascii=False))
    return rc


def _cmd_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_dir

    s = evaluate_dir(args.gold, args.dir)
    print(f"precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}  "
          f"(tp {s.tp}, predicted {s.n_pred}, gold {s.n_gold})")
    for g in s.misses:
        print("MISS  " + json.dumps({k: g.get(k) for k in ("doc", "indicator", "value", "unit_id", "period", "evidence")}, ensure_ascii=False))
    for p in s.false_hits:
        print("FALSE " + json.dumps({k: p.get(k) for k in ("doc", "indicator", "value", "unit_id", "period", "evidence")}, ensure_ascii=False))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("extract", help="extract indicator facts from article text files")
    p.add_argument("--published", help="publication date YYYY-MM-DD (default: read from the text)")
    p.add_argument("--unit", help="gazetteer unit_id of the source, used as a prior")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=_cmd_extract)
    e = subparsers.add_parser("eval", help="score extraction on a directory of .txt files against gold")
    e.add_argument("--gold", required=True, help="gold JSONL file")
    e.add_argument("dir", metavar="DIR")
    e.set_defaults(func=_cmd_eval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qpan")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

"""`qpan extract` and `qpan eval` subcommands (registered into the project CLI)."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path


def _cmd_extract(args: argparse.Namespace) -> int:
    if args.files == ["train"] and not Path("train").exists():
        return _cmd_train(args)
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
        for f in extract_article(title, body, published, args.unit, url=args.url):
            print(json.dumps(f.to_json(doc=Path(name).name), ensure_ascii=False))
    return rc


def _cmd_train(args: argparse.Namespace) -> int:
    """`qpan extract train`: fit the scorer on the corpus gold plus the review decisions in the
    warehouse (when it answers; --no-reviews: the corpus only) and write the model file."""
    from qpan.core import config

    from . import training
    from .engine import RULES_VERSION
    from .scoring import MODEL_PATH, short_hash

    corpus = args.corpus or config.SHARED_DIR / "corpus"
    decisions, articles = [], {}
    if not args.no_reviews:
        from qpan.core import db

        reason = db.unreachable_reason()
        if reason:
            print(f"qpan extract train: no review decisions read ({reason})", file=sys.stderr)
        else:
            from qpan.review.gold import warehouse_reviews

            decisions, articles = warehouse_reviews()
    try:
        ts = training.training_set(corpus, decisions, articles)
        model = training.train(ts, RULES_VERSION)
    except (OSError, ValueError) as e:
        print(f"qpan extract train: {e}", file=sys.stderr)
        return 2
    out = Path(args.output) if args.output else MODEL_PATH
    data = training.model_bytes(model)
    out.write_bytes(data)
    fitted = model["fit"]
    added_missed = sum(1 for d in decisions if d["decision"] == "add")
    print(f"{out}: {fitted['examples']} judged facts ({fitted['right']} right, {fitted['wrong']} wrong) from "
          f"{model['inputs'].get('corpus_documents', 0)} corpus documents and {len(decisions)} review decisions "
          f"({added_missed} added facts: the rules' work when no candidate states them)")
    oof = fitted["out_of_fold_f1"]
    print(f"threshold {model['threshold']} (out-of-fold F1 {'n/a' if oof is None else format(oof, '.3f')}); "
          f"extractor version {RULES_VERSION}+m{short_hash(data)}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from .engine import explain_article
    from .errors import class_counts, classify, explain, per_indicator, read_text
    from .evaluate import load_jsonl, open_corpus, predict_dir, read_article, score, select_docs

    if args.gold_from_reviews:  # gold = what people checked in the warehouse (qpan review)
        from qpan.review.gold import evaluate

        return evaluate(args.json)
    if args.dir is None:
        print("qpan eval: error: give a corpus DIR, or --gold-from-reviews", file=sys.stderr)
        return 2
    try:
        texts, gold_path, sources = open_corpus(args.dir, args.gold)
        gold = load_jsonl(gold_path)
    except (OSError, ValueError) as e:
        print(f"qpan eval: {e}", file=sys.stderr)
        return 2
    if args.docs:
        try:
            keep = select_docs({g["doc"] for g in gold}, args.docs)
        except ValueError as e:
            print(f"qpan eval: {e}", file=sys.stderr)
            return 2
        gold = [g for g in gold if g["doc"] in keep]
    s = score(predict_dir(texts, sources=sources, only={g["doc"] for g in gold}), gold)
    cases = classify(s)
    per = per_indicator(s, gold)
    learned = _learned_part(args, {g["doc"] for g in gold}) if args.cv or args.calibration else {}
    if args.json:
        print(json.dumps({
            "documents": len({g["doc"] for g in gold}), "precision": s.precision, "recall": s.recall, "f1": s.f1,
            "tp": s.tp, "predicted": s.n_pred, "gold": s.n_gold, "errors": class_counts(cases),
            "per_indicator": [vars(p) for p in per],
            "cases": [{"class": c.kind, "gold": c.gold, "predicted": c.pred} for c in cases],
            **learned,
        }, ensure_ascii=False, indent=1))
    else:
        print(f"{args.dir}: {len({g['doc'] for g in gold})} documents, {s.n_gold} required facts")
        print(f"precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}  "
              f"(tp {s.tp}, predicted {s.n_pred}, gold {s.n_gold})")
        print("\nper indicator                     gold   tp  false     P      R     F1")
        for p in per:
            print(f"  {p.indicator:<30} {p.gold:>4} {p.tp:>4} {p.false_hits:>6}  {p.precision:.3f}  {p.recall:.3f}  {p.f1:.3f}")
        print("\nerrors by class")
        for k, v in class_counts(cases).items():
            print(f"  {k:<16} {v:>4}")
        keys = ("doc", "indicator", "value", "unit_id", "period", "evidence")
        traces: dict[str, tuple[str, list]] = {}
        for c in sorted(cases, key=lambda c: ((c.gold or c.pred)["doc"], c.kind)):
            print()
            if c.gold is not None:
                print(f"[{c.kind}] GOLD " + json.dumps({k: c.gold.get(k) for k in keys}, ensure_ascii=False))
            if c.pred is not None:
                print(f"[{c.kind}] GOT  " + json.dumps({k: c.pred.get(k) for k in keys}, ensure_ascii=False))
            if args.explain:
                doc = (c.gold or c.pred)["doc"]
                if doc not in traces:
                    title, body = read_article(texts / doc)
                    src = sources.get(doc)
                    _, tr = explain_article(title, body, src.published if src else None, None,
                                            url=src.url if src else None)
                    traces[doc] = (read_text(texts, doc), tr)
                print("\n".join(explain(c, *traces[doc])))
        _print_learned(learned)
    if args.min_f1 is not None and s.f1 < args.min_f1:
        print(f"qpan eval: F1 {s.f1:.3f} is below the floor {args.min_f1:.3f}", file=sys.stderr)
        return 1
    return 0


def _learned_part(args: argparse.Namespace, docs: set[str]) -> dict:
    """--cv K: the whole extractor's P/R/F1 with the scorer fitted on the other folds of
    documents; --calibration: how its confidences hold (held-out with --cv, else the committed
    model on documents it was trained on)."""
    from . import reliability, training
    from .evaluate import score
    from .scoring import active_model, probability

    ts = training.training_set(args.dir, only=docs)
    out: dict = {}
    if args.cv:
        held = training.cross_validate(ts, args.cv, args.seed)
        scored = [(h.p, h.example) for h in held]
        s = score([h.example.fact.to_json(doc=h.example.doc) for h in held if h.kept], ts.gold)
        out["cv"] = {"folds": args.cv, "seed": args.seed, "precision": s.precision, "recall": s.recall, "f1": s.f1,
                     "tp": s.tp, "predicted": s.n_pred, "gold": s.n_gold}
    else:
        model = active_model()
        if model is None:
            raise SystemExit("qpan eval: --calibration without --cv needs a model file (qpan extract train)")
        scored = [(probability(model, x.features), x) for x in ts.examples]
    if args.calibration:
        judged = [x for _, x in scored if x.label is not None]
        out["calibration"] = {"held_out": bool(args.cv), **reliability.report(
            [(p, x.label) for p, x in scored if x.label is not None],
            [(p, x.fact.to_json(doc=x.doc)) for p, x in scored], ts.gold),
            # the same facts with the rules' constant confidences (0.85, 0.8), as before the scorer
            "rules_constant_brier": reliability.brier([(x.fact.confidence, x.label) for x in judged])}
    return out


def _print_learned(learned: dict) -> None:
    if "cv" in learned:
        c = learned["cv"]
        print(f"\ncross-validated ({c['folds']} folds of documents, seed {c['seed']}; the scorer fitted on the "
              f"other folds): precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f}  "
              f"(tp {c['tp']}, predicted {c['predicted']}, gold {c['gold']})")
    if "calibration" in learned:
        cal = learned["calibration"]
        print("\ncalibration (" + ("held-out: each fact scored by a model that never saw its document" if cal["held_out"]
                                   else "in-sample: the committed model, on documents it was trained on") + ")")
        from .reliability import lines

        print("\n".join(lines(cal)))
        print(f"(the rules' constant confidences on the same facts: Brier {cal['rules_constant_brier']:.4f})")


def register(subparsers) -> None:
    p = subparsers.add_parser("extract", help="extract indicator facts from article text files")
    p.add_argument("--published", help="publication date YYYY-MM-DD (default: read from the text)")
    p.add_argument("--unit", help="gazetteer unit_id of the source, used as a prior")
    p.add_argument("--url", help="the article's address: its host gives the source prior "
                                 "(qpan/extract/source_hosts.csv, government hosts by place name)")
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="article text files (first line the title); `qpan extract train` fits the scorer instead")
    t = p.add_argument_group("qpan extract train", "fit the learned scorer (qpan/extract/scorer.json) on the "
                                                   "corpus gold plus the review decisions in the warehouse")
    t.add_argument("--corpus", help="the corpus with gold (default: ../shared/corpus)")
    t.add_argument("--no-reviews", action="store_true",
                   help="the corpus only, not the warehouse's review decisions (how the committed model is made)")
    t.add_argument("--output", help="where to write the model (default: qpan/extract/scorer.json)")
    p.set_defaults(func=_cmd_extract)
    e = subparsers.add_parser(
        "eval", help="score extraction against gold: P/R/F1, per indicator and per error class",
        description="Score the extractor on a corpus folder laid out as ../shared/corpus (texts/, "
                    "sources.tsv with url and published, gold.jsonl), or on a folder of .txt files with --gold.")
    e.add_argument("--gold", help="gold JSONL file (default: DIR/gold.jsonl)")
    e.add_argument("--explain", action="store_true",
                   help="for each miss and false hit, show which rule fired or why none did")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    e.add_argument("--docs", metavar="RANGE",
                   help="score only these documents, e.g. c81-c110 or c01-c80,c95 (ids as in sources.tsv)")
    e.add_argument("--min-f1", type=float, help="exit 1 when F1 is below this floor")
    e.add_argument("--cv", type=int, metavar="K",
                   help="also the cross-validated score: documents in K seeded folds, the learned scorer fitted "
                        "on the other folds for each")
    e.add_argument("--seed", type=int, default=25, help="the seed of the --cv folds (default 25)")
    e.add_argument("--calibration", action="store_true",
                   help="a reliability table (confidence given vs share right, by band), the Brier score and "
                        "P/R at confidence thresholds (held-out with --cv)")
    e.add_argument("--gold-from-reviews", action="store_true",
                   help="gold = the facts people confirmed, corrected or added (`qpan review`); "
                        "scores the current extractor on the reviewed articles in the warehouse")
    e.add_argument("dir", metavar="DIR", nargs="?")
    e.set_defaults(func=_cmd_eval)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qpan")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

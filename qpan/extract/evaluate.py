"""Scoring against gold, exactly as the domain README says.

A prediction matches a gold fact when doc, indicator, value (numbers within 1e-9
relative, booleans equal), unit_id and period are equal. Precision is over the
distinct predicted keys, recall over the gold facts; a gold line with
"optional": true counts neither way; only documents in the gold file are scored; a
document with `"indicator": null` has no facts, so any prediction on it is false.
"""
from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


def _num_key(v):
    if isinstance(v, bool):
        return ("b", v)
    return ("n", float(v))


def values_equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0) or a == b


def _same(p: dict, g: dict) -> bool:
    return (p.get("doc") == g.get("doc") and p.get("indicator") == g.get("indicator")
            and p.get("unit_id") == g.get("unit_id") and p.get("period") == g.get("period")
            and values_equal(p.get("value"), g.get("value")))


@dataclass
class Score:
    precision: float
    recall: float
    f1: float
    tp: int
    n_pred: int
    n_gold: int
    misses: list[dict] = field(default_factory=list)      # gold facts not predicted
    false_hits: list[dict] = field(default_factory=list)  # predictions matching no gold


def load_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _bucket(d: dict) -> tuple:
    """Everything of the match key but the value (compared with tolerance)."""
    return (d.get("doc"), d.get("indicator"), d.get("unit_id"), d.get("period"))


def score(predictions: list[dict], gold: list[dict]) -> Score:
    docs = {g["doc"] for g in gold}
    facts = [g for g in gold if g.get("indicator") is not None]
    required = [g for g in facts if not g.get("optional")]
    optional = [g for g in facts if g.get("optional")]
    # distinct predicted keys on scored documents
    distinct: dict[tuple, dict] = {}
    for p in predictions:
        if p.get("doc") not in docs:
            continue
        k = _bucket(p) + (_num_key(p.get("value")) if p.get("value") is not None else None,)
        distinct.setdefault(k, p)
    preds = list(distinct.values())
    req_by: dict[tuple, list[dict]] = {}
    for g in required:
        req_by.setdefault(_bucket(g), []).append(g)
    opt_by: dict[tuple, list[dict]] = {}
    for g in optional:
        opt_by.setdefault(_bucket(g), []).append(g)
    pred_by: dict[tuple, list[dict]] = {}
    for p in preds:
        pred_by.setdefault(_bucket(p), []).append(p)

    tp_pred = n_pred = 0
    false_hits = []
    for p in preds:
        if any(_same(p, g) for g in req_by.get(_bucket(p), ())):
            tp_pred += 1
            n_pred += 1
        elif any(_same(p, g) for g in opt_by.get(_bucket(p), ())):
            continue  # counts neither way
        else:
            n_pred += 1
            false_hits.append(p)
    misses = [g for g in required if not any(_same(p, g) for p in pred_by.get(_bucket(g), ()))]
    matched = len(required) - len(misses)
    precision = tp_pred / n_pred if n_pred else (1.0 if not required else 0.0)
    recall = matched / len(required) if required else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, matched, n_pred, len(required), misses, false_hits)


def labels(predictions: list[dict], gold: list[dict]) -> list[int | None]:
    """Each prediction judged as score() judges it: 1 when it states a required gold fact, 0
    when it states none (any prediction on a document whose gold says it has no facts), None
    when it states an optional fact only (counted neither way) or its document has no gold."""
    docs = {g["doc"] for g in gold}
    by: dict[tuple, list[dict]] = {}
    for g in gold:
        if g.get("indicator") is not None:
            by.setdefault(_bucket(g), []).append(g)
    out: list[int | None] = []
    for p in predictions:
        if p.get("doc") not in docs:
            out.append(None)
            continue
        same = [g for g in by.get(_bucket(p), ()) if _same(p, g)]
        out.append(1 if any(not g.get("optional") for g in same) else None if same else 0)
    return out


def open_corpus(folder: str | Path, gold: str | Path | None = None) -> tuple[Path, Path, dict[str, "SourceRow"]]:
    """(texts folder, gold file, sources) of a corpus laid out as ../shared/corpus (texts/,
    gold.jsonl, sources.tsv) or of a plain folder of .txt files with a gold file."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    texts = root / "texts" if (root / "texts").is_dir() else root
    if not any(texts.glob("*.txt")):
        raise FileNotFoundError(f"{texts}: no .txt article files in it")
    gold_path = Path(gold) if gold else root / "gold.jsonl"
    if not gold_path.is_file():
        raise FileNotFoundError(f"{gold_path}: no gold file (give --gold FILE)")
    sources_path = root / "sources.tsv"
    sources = load_sources(sources_path) if sources_path.is_file() else {}
    return texts, gold_path, sources


def select_docs(docs: set[str], spec: str) -> set[str]:
    """The documents of `docs` ("c81.txt") named by `spec`: ids and ranges, comma-separated
    ("c81-c110", "c01-c80,c95"). A range takes the ids with the same prefix whose number lies
    inside it; a spec that names no document is an error, not an empty score."""
    def split(doc_id: str) -> tuple[str, int]:
        m = re.fullmatch(r"([A-Za-z_]*)(\d+)", doc_id.strip())
        if not m:
            raise ValueError(f"--docs: {doc_id!r} is not an id like c81")
        return m.group(1), int(m.group(2))

    keep: set[str] = set()
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        (p_lo, n_lo), (p_hi, n_hi) = split(lo), split(hi or lo)
        if p_lo != p_hi or n_lo > n_hi:
            raise ValueError(f"--docs: {part!r} is not a range like c81-c110")
        for doc in docs:
            prefix, n = split(Path(doc).stem)
            if prefix == p_lo and n_lo <= n <= n_hi:
                keep.add(doc)
    if not keep:
        raise ValueError(f"--docs: {spec!r} names no document of the gold file")
    return keep


def predict_dir(directory: str | Path, published=None, unit: str | None = None,
                sources: dict[str, "SourceRow"] | None = None, only: set[str] | None = None) -> list[dict]:
    """Facts for every .txt file of a folder (or the files named in `only`); `sources` gives
    each file's URL and publication date (a corpus's sources.tsv) when known."""
    from .engine import extract_article

    out = []
    for path in sorted(Path(directory).glob("*.txt")):
        if only is not None and path.name not in only:
            continue
        title, body = read_article(path)
        src = (sources or {}).get(path.name)
        pub = src.published if src and src.published else published
        url = src.url if src else None
        for f in extract_article(title, body, pub, unit, url=url):
            out.append(f.to_json(doc=path.name))
    return out


@dataclass(frozen=True)
class SourceRow:
    url: str | None
    published: date | None


def load_sources(path: str | Path) -> dict[str, SourceRow]:
    """A corpus's sources.tsv (id, url, title, published) by text file name ("c01.txt")."""
    out: dict[str, SourceRow] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            pub = (row.get("published") or "").strip()
            out[f"{row['id']}.txt"] = SourceRow((row.get("url") or "").strip() or None,
                                                date.fromisoformat(pub) if pub else None)
    return out


def read_article(path: str | Path) -> tuple[str, str]:
    """First line is the title, the rest the body (so title + "\\n" + body is the file)."""
    text = Path(path).read_text(encoding="utf-8")
    title, _, body = text.partition("\n")
    return title, body


def evaluate_dir(gold_path: str | Path, directory: str | Path) -> Score:
    gold = load_jsonl(gold_path)
    return score(predict_dir(directory), gold)


def decision_gold(decisions) -> list[dict]:
    """The facts people confirmed, corrected or added (current decisions, rows of
    review.decisions) in the gold format, the article URL as "doc"."""
    gold = []
    for r in decisions:
        if r["decision"] == "reject":
            continue
        value = r["new_value"]
        value = bool(int(value)) if r["new_value_type"] == "boolean" else float(value)
        gold.append({"doc": r["article_url"], "indicator": r["new_indicator"], "value": value,
                     "unit_id": r["new_unit_id"], "period": r["new_period"], "evidence": r["evidence"]})
    return gold

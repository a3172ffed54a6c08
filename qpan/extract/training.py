"""Fitting the learned scorer (qpan/extract/scoring.py) and measuring it by cross-validation.

Examples are the facts the rules propose (every candidate, before any threshold), each with
its features and a label:
  - on a corpus with gold (../shared/corpus): 1 when the fact states a required gold fact, 0
    when it states none, left out when it only states an optional one (the scoring rules count
    those neither way, so the model is not taught either way on them);
  - on the articles people reviewed (review.decisions): 1 when the fact states what people
    confirmed, corrected or added, 0 when it was judged (rejected, or corrected to something
    else: as stated, it was wrong) and states none of those; the article's unjudged facts are
    left out. An added fact the rules never proposed teaches the scorer nothing (it can only
    rate candidates): `train` counts those, as work for the rules.

The model is scikit-learn's logistic regression on one-hot features, fitted deterministically
(lbfgs, no random state involved); a Platt map fitted on its out-of-fold scores (documents in
seeded folds) calibrates it, and the threshold that keeps a candidate is the one that gives the
best out-of-fold F1 of the whole extractor (misses of the rules included). The export is a
small JSON (sorted keys, floats rounded), the same bytes from the same inputs.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from .scoring import article_features, calibrate, probability, use_model

SEED = 25
FOLDS = 5
C = 1.0  # L2 strength of the logistic model (inverse); few examples, many features: keep it simple
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(19))  # 0.0 (keep all) .. 0.9
DIGITS = 4


@dataclass
class Example:
    doc: str                # the document (corpus file or article URL): folds never split one
    fact: object            # the engine's Fact, with its features
    features: list[str]
    label: int | None       # 1 right, 0 wrong, None not judged
    source: str             # "corpus" or "review"


@dataclass
class TrainingSet:
    examples: list[Example]
    gold: list[dict]        # the gold facts (corpus gold and reviewed facts), for whole-extractor scores
    misses: int             # required gold facts no candidate states (the rules' misses)
    inputs: dict            # what the set was made of (written into the model file)


def _candidates(title: str, body: str, published, source_unit_id, url) -> list:
    from .engine import extract_article

    with use_model(None):
        return extract_article(title, body, published, source_unit_id, url=url)


def _examples(doc: str, facts: list, labels: list[int | None], source: str) -> list[Example]:
    return [Example(doc, f, feats, y, source) for f, feats, y in zip(facts, article_features(facts), labels)]


def corpus_examples(folder: str | Path, only: set[str] | None = None) -> tuple[list[Example], list[dict], str]:
    """Every candidate of a corpus laid out as ../shared/corpus, labelled by its gold; the gold;
    the SHA-256 of the texts, sources and gold read (the inputs of the model file)."""
    from .evaluate import labels, load_jsonl, open_corpus, read_article

    texts, gold_path, sources = open_corpus(folder)
    gold = [g for g in load_jsonl(gold_path) if only is None or g["doc"] in only]
    digest = hashlib.sha256(gold_path.read_bytes())
    examples = []
    for doc in sorted({g["doc"] for g in gold}):
        path = texts / doc
        digest.update(path.read_bytes())
        title, body = read_article(path)
        src = sources.get(doc)
        facts = _candidates(title, body, src.published if src else None, None, src.url if src else None)
        if src:
            digest.update(f"{src.url}|{src.published}".encode())
        preds = [f.to_json(doc=doc) for f in facts]
        examples += _examples(doc, facts, labels(preds, gold), "corpus")
    return examples, gold, digest.hexdigest()


def review_examples(decisions: list[dict], articles: dict[str, dict]) -> tuple[list[Example], list[dict]]:
    """Candidates of the reviewed articles labelled by the current decisions (rows of
    review.decisions); `articles` maps an article URL to its title, body_text, published_at and
    source_unit_id. Also the reviewed facts as gold."""
    from .evaluate import decision_gold, values_equal

    gold = decision_gold(decisions)
    # a candidate is judged when a decision names its span (the review key hashes the same four)
    judged = {(d["article_url"], d["indicator"], d["span_start"], d["span_end"]) for d in decisions}
    examples = []
    for url in sorted({d["article_url"] for d in decisions}):
        a = articles.get(url)
        if a is None:
            continue  # the article is not in the warehouse any more
        facts = _candidates(a["title"], a["body_text"], a.get("published_at"), a.get("source_unit_id"), url)
        mine = [g for g in gold if g["doc"] == url]
        labels: list[int | None] = []
        for f in facts:
            right = any(g["indicator"] == f.indicator and g["unit_id"] == f.unit_id and g["period"] == f.period
                        and values_equal(f.value, g["value"]) for g in mine)
            labels.append(1 if right else 0 if (url, f.indicator, f.span_start, f.span_end) in judged else None)
        examples += _examples(url, facts, labels, "review")
    return examples, gold


def training_set(corpus: str | Path | None, decisions: list[dict] | None = None,
                 articles: dict[str, dict] | None = None, only: set[str] | None = None) -> TrainingSet:
    """The examples of a corpus (its documents in `only`, else all) and of review decisions."""
    examples, gold, inputs = [], [], {}
    if corpus is not None:
        ex, g, digest = corpus_examples(corpus, only)
        examples += ex
        gold += g
        inputs["corpus_sha256"] = digest
        inputs["corpus_documents"] = len({x["doc"] for x in g})
    if decisions:
        ex, g = review_examples(decisions, articles or {})
        examples += ex
        gold += g
        inputs["review_decisions"] = len(decisions)
        inputs["review_sha256"] = hashlib.sha256(json.dumps(
            sorted([d["review_key"], d["decision"], str(d.get("new_indicator")), str(d.get("new_value")),
                    str(d.get("new_unit_id")), str(d.get("new_period"))] for d in decisions)).encode()).hexdigest()
    return TrainingSet(examples, gold, count_misses(examples, gold), inputs)


def count_misses(examples: list[Example], gold: list[dict]) -> int:
    """Required gold facts that no candidate states."""
    from .evaluate import score

    return len(score([x.fact.to_json(doc=x.doc) for x in examples], gold).misses)


# -- fitting ------------------------------------------------------------------------------
def doc_folds(docs: list[str], k: int, seed: int = SEED) -> list[set[str]]:
    """k folds of documents, shuffled with a fixed seed (the same folds from the same docs)."""
    order = sorted(set(docs))
    random.Random(seed).shuffle(order)
    return [set(order[i::k]) for i in range(k)]


def _logistic(rows: list[list[str]], y: list[int]) -> tuple[float, dict[str, float]]:
    """Bias and weights of an L2 logistic regression on one-hot features."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer(sort=True)
    x = vec.fit_transform([dict.fromkeys(r, 1) for r in rows])
    lr = LogisticRegression(C=C, solver="lbfgs", max_iter=2000).fit(x, y)
    return float(lr.intercept_[0]), dict(zip(vec.get_feature_names_out(), map(float, lr.coef_[0])))


def _platt(z: list[float], y: list[int]) -> tuple[float, float]:
    """Platt's map (a, b) of scores z to probabilities: P(right) = 1 / (1 + exp(-(a z + b)));
    the identity when the held-out scores are all of one class (nothing to fit it on)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if len(set(y)) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4, solver="lbfgs", max_iter=2000).fit(np.array(z).reshape(-1, 1), y)
    return float(lr.coef_[0][0]), float(lr.intercept_[0])


def _prior_model(right: int, n: int, misses: int, folds: int, seed: int) -> dict:
    """A model that gives every fact the (smoothed) share right and keeps them all."""
    import math

    return {"about": "qpan extractor scorer: the share right only (the examples were all of one class)",
            "format": 1, "bias": round(math.log((right + 1) / (n - right + 1)), DIGITS), "weights": {},
            "platt": [1.0, 0.0], "threshold": 0.0,
            "fit": {"examples": n, "right": right, "wrong": n - right, "rule_misses": misses, "folds": folds,
                    "seed": seed, "C": C, "out_of_fold_f1": None}}


def _raw_score(bias: float, weights: dict[str, float], feats: list[str]) -> float:
    return bias + sum(weights.get(f, 0.0) for f in feats)


def _best_threshold(p: list[float], y: list[int], misses: int) -> tuple[float, float]:
    """The threshold with the best F1 of the whole extractor on these (held-out) probabilities
    (the rules' misses count as misses at every threshold); ties keep more."""
    best = (-1.0, 0.0)
    for t in THRESHOLDS:
        tp = sum(1 for pi, yi in zip(p, y) if pi >= t and yi == 1)
        fp = sum(1 for pi, yi in zip(p, y) if pi >= t and yi == 0)
        fn = sum(1 for pi, yi in zip(p, y) if pi < t and yi == 1) + misses
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best[0] + 1e-12:
            best = (f1, t)
    return best[1], best[0]


def fit(examples: list[Example], misses: int = 0, folds: int = FOLDS, seed: int = SEED) -> dict:
    """The model (a dict, as scorer.json holds it) fitted on the judged examples."""
    judged = [x for x in examples if x.label is not None]
    y = [x.label for x in judged]
    if not y:
        raise ValueError("cannot fit the scorer: no judged facts (a corpus with gold, or review decisions)")
    if len(set(y)) < 2:  # all right (or all wrong): nothing to weigh, only the share
        return _prior_model(sum(y), len(y), misses, folds, seed)
    # out-of-fold scores: documents in folds, each scored by a model that never saw it
    oof: list[float | None] = [None] * len(judged)
    for fold in doc_folds([x.doc for x in judged], folds, seed):
        train = [i for i, x in enumerate(judged) if x.doc not in fold]
        if len({y[i] for i in train}) < 2:
            continue
        bias, w = _logistic([judged[i].features for i in train], [y[i] for i in train])
        for i, x in enumerate(judged):
            if x.doc in fold:
                oof[i] = _raw_score(bias, w, x.features)
    scored = [(z, yi) for z, yi in zip(oof, y) if z is not None]
    a, b = _platt([z for z, _ in scored], [yi for _, yi in scored])
    p = [calibrate(z, [a, b]) for z, _ in scored]
    threshold, oof_f1 = _best_threshold(p, [yi for _, yi in scored], misses)
    bias, w = _logistic([x.features for x in judged], y)
    r = DIGITS
    return {
        "about": "qpan extractor scorer: logistic weights of fact features, Platt map, keep threshold "
                 "(written by `qpan extract train`; see docs/extraction.md)",
        "format": 1,
        "bias": round(bias, r),
        "weights": {k: round(v, r) for k, v in sorted(w.items()) if round(v, r) != 0},
        "platt": [round(a, r), round(b, r)],
        "threshold": threshold,
        "fit": {"examples": len(judged), "right": sum(y), "wrong": len(y) - sum(y), "rule_misses": misses,
                "folds": folds, "seed": seed, "C": C, "out_of_fold_f1": round(oof_f1, r)},
    }


def model_bytes(model: dict) -> bytes:
    """The model file's bytes: sorted keys, one line per weight, a final newline."""
    return (json.dumps(model, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode("utf-8")


def train(ts: TrainingSet, rules_version: str) -> dict:
    model = fit(ts.examples, ts.misses)
    model["inputs"] = dict(sorted(ts.inputs.items()))
    model["rules_version"] = rules_version
    return model


# -- cross-validation of the whole extractor -----------------------------------------------
@dataclass
class HeldOut:
    example: Example
    p: float        # the probability a model that never saw the document gives the fact
    kept: bool      # above that model's threshold


def cross_validate(ts: TrainingSet, k: int, seed: int = SEED) -> list[HeldOut]:
    """Every candidate scored by the model fitted on the other folds (documents in k seeded
    folds); the fitting inside (Platt map, threshold) uses only those other folds too."""
    out: list[HeldOut] = []
    docs = {g["doc"] for g in ts.gold} | {x.doc for x in ts.examples}
    for fold in doc_folds(sorted(docs), k, seed):
        train_ex = [x for x in ts.examples if x.doc not in fold]
        train_gold = [g for g in ts.gold if g["doc"] not in fold]
        model = fit(train_ex, count_misses(train_ex, train_gold), seed=seed)
        for x in ts.examples:
            if x.doc in fold:
                p = probability(model, x.features)
                out.append(HeldOut(x, p, p >= model["threshold"]))
    return out

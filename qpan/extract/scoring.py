"""The learned part of the extractor: a calibrated probability that a fact is right, and the
threshold below which a candidate is not kept.

The rules propose facts with their evidence (qpan/extract/features.py); a logistic model,
fitted by `qpan extract train` (qpan/extract/training.py, scikit-learn) and exported to the
small JSON file scorer.json beside this module, weighs that evidence; a Platt map fitted on
cross-validated scores turns it into a probability ("of the facts given 0.9, about nine in ten
are right"). Scoring here is pure Python (a few dict look-ups per fact, no scikit-learn at
extraction time), so the CLI starts fast and extraction keeps its speed.

The model file names the extractor: EXTRACTOR_VERSION is the rules' version plus "+m" and
the first 8 hex digits of the file's SHA-256.
"""
from __future__ import annotations

import hashlib
import json
import math
from contextlib import contextmanager
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("scorer.json")


def short_hash(data: bytes) -> str:
    """The model's name in EXTRACTOR_VERSION: the first 8 hex digits of its file's SHA-256."""
    return hashlib.sha256(data).hexdigest()[:8]


def _load(path: Path) -> tuple[dict | None, str]:
    try:
        raw = path.read_bytes()
    except OSError:
        return None, "mnone"
    return json.loads(raw), "m" + short_hash(raw)


_model, _tag = _load(MODEL_PATH)


def model_tag() -> str:
    """"m" + the model file's short hash ("mnone" without a model file: rule confidences kept)."""
    return _tag


def active_model() -> dict | None:
    return _model


@contextmanager
def use_model(model: dict | None):
    """Extract with another model for a while: None gives every candidate the rules propose,
    unscored (training and cross-validation read the candidates that way)."""
    global _model
    saved, _model = _model, model
    try:
        yield
    finally:
        _model = saved


def _magnitude(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if value < 10:
        return "1"
    if value < 100:
        return "2"
    if value < 1000:
        return "3"
    return "4+"


def _count_bucket(n: int) -> str:
    return "1" if n == 1 else "2-3" if n <= 3 else "4-9" if n <= 9 else "10+"


def article_features(facts: list) -> list[list[str]]:
    """Each fact's features, "name=value" strings: the rule's evidence (fact.features), what
    the fact says, and what the article's other facts say about it (how many of its indicator,
    another value for the same indicator, unit and period)."""
    per_indicator: dict[str, int] = {}
    values: dict[tuple, set] = {}
    for f in facts:
        per_indicator[f.indicator] = per_indicator.get(f.indicator, 0) + 1
        values.setdefault((f.indicator, f.unit_id, f.period), set()).add((type(f.value), f.value))
    out = []
    for f in facts:
        out.append([
            *_named(f.features),
            "indicator=" + f.indicator,
            "comparator=" + f.comparator,
            "magnitude=" + _magnitude(f.value),
            "qualified=True" if f.qualifiers else "qualified=False",
            "same_indicator=" + _count_bucket(per_indicator[f.indicator]),
            "conflict=True" if len(values[(f.indicator, f.unit_id, f.period)]) > 1 else "conflict=False",
        ])
    return out


def _named(features: dict) -> list[str]:
    """A fact's evidence as "name=value" strings: strings (cut to 60 characters) and booleans as
    they are, whole numbers by their order of magnitude in powers of two ("b0" for 0, "b3" for
    4-7, ... "b8" for 128 and more)."""
    out = []
    for k, v in features.items():
        t = type(v)
        if t is str:
            out.append(k + "=" + v[:60])
        elif t is bool:
            out.append(k + "=True" if v else k + "=False")
        elif t is int:
            out.append(f"{k}=b{min(v.bit_length(), 8) if v >= 0 else '-'}")
        else:
            out.append(f"{k}={v}")
    return out


def probability(model: dict, feats: list[str]) -> float:
    """The calibrated probability: Platt's map of the logistic score."""
    w = model["weights"]
    z = model["bias"]
    for name in feats:
        z += w.get(name, 0.0)
    return calibrate(z, model["platt"])


def calibrate(z: float, platt: list[float]) -> float:
    """Platt's map of a logistic score z: 1 / (1 + exp(-(a z + b)))."""
    a, b = platt
    t = a * z + b
    return 1.0 / (1.0 + math.exp(-t)) if t > -700 else 0.0


def score_facts(facts: list) -> list:
    """The facts of one article, each with its calibrated confidence; those below the model's
    threshold are not kept. Without a model (or with use_model(None)) the facts as the rules
    made them."""
    model = _model
    if model is None or not facts:
        return facts
    threshold = model["threshold"]
    kept = []
    for f, feats in zip(facts, article_features(facts)):
        p = probability(model, feats)
        f.confidence = round(p, 3)
        if p >= threshold:
            kept.append(f)
    return kept

"""The learned scorer (qpan/extract/scoring.py, training.py): the committed model is what
`qpan extract train --no-reviews` makes from the committed inputs, review decisions teach it,
`qpan eval --cv/--calibration` report it, and extraction never loads scikit-learn."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from qpan.core import config
from qpan.extract import EXTRACTOR_VERSION, training
from qpan.extract.cli import main
from qpan.extract.engine import RULES_VERSION, extract_article
from qpan.extract.scoring import MODEL_PATH, article_features, probability, short_hash, use_model
from qpan.review.catalog import review_key
from qpan.report.review import LOW_CONFIDENCE, figure_mark

CORPUS = config.SHARED_DIR / "corpus"
pytestmark = pytest.mark.skipif(not (CORPUS / "gold.jsonl").is_file(), reason="no ../shared/corpus")


@pytest.fixture(scope="module")
def corpus_set() -> training.TrainingSet:
    return training.training_set(CORPUS)


def test_committed_model_is_what_train_makes_from_the_committed_inputs(corpus_set):
    made = training.model_bytes(training.train(corpus_set, RULES_VERSION))
    assert made == MODEL_PATH.read_bytes(), \
        "the rules or the corpus changed: retrain with `.venv/bin/qpan extract train --no-reviews` and commit"
    assert EXTRACTOR_VERSION == f"{RULES_VERSION}+m{short_hash(made)}"


# Articles of a kind the test's reviewers reject ("tổ chức N cuộc diễn tập" read as the
# district's drills) beside a kind they confirm (recruits); the last one nobody reviewed.
def _article(district: str, drills: int, recruits: int) -> dict:
    return {"title": f"Huyện {district} tổng kết công tác quốc phòng năm 2025",
            "body_text": (f"Năm 2025, huyện {district} giao {recruits} công dân nhập ngũ. "
                          f"Huyện tổ chức {drills} cuộc diễn tập chiến đấu trị an."),
            "published_at": date(2025, 12, 20), "source_unit_id": None}


REVIEWED = {f"https://review.example.test/{i}.html": _article(d, n, r) for i, (d, n, r) in enumerate(
    [("Nga Sơn", 3, 167), ("Hậu Lộc", 2, 120), ("Hoằng Hóa", 4, 210), ("Quảng Xương", 5, 190)])}
UNSEEN = _article("Nông Cống", 6, 150)


def _decisions(articles: dict[str, dict]) -> list[dict]:
    out = []
    for url, a in articles.items():
        with use_model(None):
            facts = extract_article(a["title"], a["body_text"], a["published_at"], None, url=url)
        for f in facts:
            reject = f.indicator == "drills_held"
            out.append({"review_key": review_key(url, f.indicator, f.span_start, f.span_end), "article_url": url,
                        "indicator": f.indicator, "span_start": f.span_start, "span_end": f.span_end,
                        "decision": "reject" if reject else "confirm", "evidence": f.evidence,
                        "new_indicator": None if reject else f.indicator, "new_value": None if reject else f.value,
                        "new_value_type": None if reject else "number", "new_unit_id": None if reject else f.unit_id,
                        "new_period": None if reject else f.period})
    assert {d["decision"] for d in out} == {"reject", "confirm"}, "the rules no longer read the test's articles"
    return out


def _unseen_scores(model: dict) -> dict[str, float]:
    a = UNSEEN
    with use_model(None):
        facts = extract_article(a["title"], a["body_text"], a["published_at"], None)
    return {f.indicator: probability(model, feats) for f, feats in zip(facts, article_features(facts))}


def test_rejected_kind_scores_lower_after_retraining_on_an_unreviewed_sentence(corpus_set):
    decisions = _decisions(REVIEWED)
    reviews = training.training_set(None, decisions, REVIEWED)
    assert sorted(x.label for x in reviews.examples) == [0, 0, 0, 0, 1, 1, 1, 1]
    before = _unseen_scores(training.fit(corpus_set.examples, corpus_set.misses))
    after = _unseen_scores(training.fit(corpus_set.examples + reviews.examples, corpus_set.misses))
    assert after["drills_held"] < before["drills_held"] - 0.05
    assert after["recruits_enlisted"] >= before["recruits_enlisted"] - 0.01  # the confirmed kind is not dragged down


def test_review_labels_follow_the_decisions():
    url, a = next(iter(REVIEWED.items()))
    decisions = _decisions({url: a})
    drills = next(d for d in decisions if d["decision"] == "reject")
    recruits = next(d for d in decisions if d["decision"] == "confirm")
    # a correction to another value: the fact as extracted was wrong
    corrected = {**recruits, "decision": "correct", "new_value": recruits["new_value"] + 1}
    labels = {x.fact.indicator: x.label for x in training.review_examples([drills, corrected], {url: a})[0]}
    assert labels == {"drills_held": 0, "recruits_enlisted": 0}
    # only the recruits judged: the drills are no example either way; an added fact a candidate states is right
    added = {**recruits, "decision": "add", "review_key": "added-by-hand"}
    labels = {x.fact.indicator: x.label for x in training.review_examples([added], {url: a})[0]}
    assert labels == {"drills_held": None, "recruits_enlisted": 1}


def test_folds_and_fit_are_deterministic(corpus_set):
    docs = sorted({x.doc for x in corpus_set.examples})
    folds = training.doc_folds(docs, 4)
    assert folds == training.doc_folds(list(reversed(docs)), 4)
    assert sorted(d for f in folds for d in f) == docs and all(len(f) >= len(docs) // 4 for f in folds)
    small = [x for x in corpus_set.examples if x.doc in folds[0] | folds[1]]
    assert training.model_bytes(training.fit(small)) == training.model_bytes(training.fit(list(small)))


def test_eval_cv_and_calibration_report(capsys):
    assert main(["eval", str(CORPUS), "--docs", "c01-c40", "--cv", "3", "--calibration", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cv, cal = out["cv"], out["calibration"]
    assert cv["folds"] == 3 and cv["seed"] == 25 and cv["gold"] == out["gold"]
    assert cv["f1"] == pytest.approx(2 * cv["precision"] * cv["recall"] / (cv["precision"] + cv["recall"]))
    assert cal["held_out"] and sum(b["facts"] for b in cal["bands"]) == cal["facts"] > 0
    assert all(b["low"] <= b["predicted"] <= b["high"] and 0 <= b["observed"] <= 1 for b in cal["bands"])
    assert 0 < cal["brier"] < 0.25 and 0 < cal["rules_constant_brier"] < 0.25
    kept = [t["predicted"] for t in cal["thresholds"]]
    assert kept == sorted(kept, reverse=True) and cal["thresholds"][0]["threshold"] == 0.0
    assert main(["eval", str(CORPUS), "--docs", "c01-c40", "--cv", "3", "--calibration"]) == 0
    text = capsys.readouterr().out
    assert "cross-validated (3 folds of documents, seed 25" in text
    assert "confidence band" in text and "Brier score" in text and "keep at or above" in text


def test_every_fact_gets_the_models_probability_and_the_low_ones_are_marked():
    a = UNSEEN
    facts = extract_article(a["title"], a["body_text"], a["published_at"], None)
    with use_model(None):
        raw = extract_article(a["title"], a["body_text"], a["published_at"], None)
    model = json.loads(MODEL_PATH.read_bytes())
    expected = {f.indicator: round(probability(model, feats), 3) for f, feats in zip(raw, article_features(raw))}
    assert {f.indicator: f.confidence for f in facts} == {k: v for k, v in expected.items() if v >= model["threshold"]}
    assert "uncertain (55%)" in figure_mark({"review_status": "unreviewed", "confidence": 0.55})
    assert figure_mark({"review_status": "unreviewed", "confidence": LOW_CONFIDENCE}) == ""
    assert "reviewed" in figure_mark({"review_status": "confirmed", "confidence": 0.55})


def test_extraction_never_imports_scikit_learn():
    code = ("import sys; from qpan.extract import extract_article; "
            "extract_article('Huyện Nga Sơn', 'Năm 2025, huyện Nga Sơn giao 167 công dân nhập ngũ.'); "
            "import qpan.extract.cli; print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

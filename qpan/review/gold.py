"""`qpan eval --gold-from-reviews`: every fact people confirmed, corrected or added is gold; the
current extractor is run again on the reviewed articles' stored text and scored against it.

Only what people judged is scored: a prediction counts when its indicator and evidence span were
reviewed (a rejected one is a false hit) or when it states a gold fact; the extractor's other,
unreviewed facts in those articles are neither right nor wrong yet."""
from __future__ import annotations

from qpan.extract.evaluate import decision_gold
from qpan.review.catalog import review_key
from qpan.review.store import CURRENT_DECISIONS


def gold_and_predictions(conn) -> tuple[list[dict], list[dict], int]:
    from qpan.extract.engine import extract_article

    rows = conn.execute(
        f"select d.*, a.title, a.body_text, a.published_at, a.source_unit_id "
        f"from ({CURRENT_DECISIONS}) d join raw.articles a on a.url = d.article_url").fetchall()
    reviewed_keys = {r["review_key"] for r in rows}
    articles = {r["article_url"]: r for r in rows}
    gold = decision_gold(rows)
    gold_buckets = {(g["doc"], g["indicator"], g["unit_id"], g["period"]) for g in gold}
    predictions = []
    for url, a in articles.items():
        for fact in extract_article(a["title"], a["body_text"], a["published_at"], a["source_unit_id"], url=url):
            p = fact.to_json(doc=url)
            judged = review_key(url, p["indicator"], p["span_start"], p["span_end"]) in reviewed_keys
            if judged or (url, p["indicator"], p["unit_id"], p["period"]) in gold_buckets:
                predictions.append(p)
    return gold, predictions, len(articles)


def evaluate(as_json: bool) -> int:
    import json

    from qpan.core import db
    from qpan.extract import EXTRACTOR_VERSION
    from qpan.extract.evaluate import score
    from qpan.review.store import connect

    db.require_reachable()
    with connect() as conn:
        gold, predictions, n_articles = gold_and_predictions(conn)
    if not gold:
        raise RuntimeError("no reviewed facts yet: confirm, correct or add some with `qpan review`")
    s = score(predictions, gold)
    result = {"extractor_version": EXTRACTOR_VERSION, "articles": n_articles, "gold": s.n_gold,
              "predicted": s.n_pred, "tp": s.tp, "precision": s.precision, "recall": s.recall, "f1": s.f1,
              "misses": s.misses, "false_hits": s.false_hits}
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    else:
        print(f"gold from reviews: {s.n_gold} facts people confirmed, corrected or added in {n_articles} articles")
        print(f"extractor {EXTRACTOR_VERSION}: precision {s.precision:.3f}  recall {s.recall:.3f}  F1 {s.f1:.3f}  "
              f"(tp {s.tp}, predicted {s.n_pred}, gold {s.n_gold})")
        for g in s.misses:
            print(f"  missed  {g['indicator']} = {g['value']} {g['unit_id']} {g['period']}: “{g['evidence']}”")
        for p in s.false_hits:
            print(f"  wrong   {p['indicator']} = {p['value']} {p['unit_id']} {p['period']}: “{p['evidence']}”")
    return 0


def warehouse_reviews() -> tuple[list[dict], dict[str, dict]]:
    """The current review decisions and their articles, from the warehouse (what
    `qpan extract train` learns from besides the corpus)."""
    from qpan.review.store import connect

    with connect() as conn:
        decisions = conn.execute(f"select * from ({CURRENT_DECISIONS}) d order by review_key").fetchall()
        urls = sorted({d["article_url"] for d in decisions})
        rows = conn.execute("select url, title, body_text, published_at, source_unit_id from raw.articles "
                            "where url = any(%s)", (urls,)).fetchall() if urls else []
    return decisions, {r["url"]: r for r in rows}

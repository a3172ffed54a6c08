"""Correctness of the benchmark corpus generator and of the COPY-based bulk loader
(no timings here: benchmarks are not tests)."""
from __future__ import annotations

import inspect

from bench.corpus import SYNTHETIC_META, iter_corpus, make_page, parse_page
from qpan.extract import extract_article
from qpan.extract.evaluate import score


def test_corpus_is_reproducible_streaming_and_prefix_stable():
    gen = iter_corpus(20, seed=3)
    assert inspect.isgenerator(gen)
    a = [(p.url, p.html, p.gold) for p in gen]
    b = [(p.url, p.html, p.gold) for p in iter_corpus(20, seed=3)]
    assert a == b
    assert [p.url for p in iter_corpus(5, seed=4)] != [p.url for p in iter_corpus(5, seed=3)]
    # the 10-article corpus is the start of the 20-article one; article k stands alone
    assert [p.html for p in iter_corpus(10, seed=3)] == [h for _, h, _ in a[:10]]
    assert make_page(7, seed=3).html == a[7][1]
    assert len({u for u, _, _ in a}) == 20


def test_every_page_is_marked_and_parses_synthetic():
    templates = set()
    for p in iter_corpus(60, seed=5):
        head = p.html[:p.html.index("</head>")]
        assert SYNTHETIC_META in head
        art = parse_page(p)
        assert art.synthetic is True
        assert art.title == p.title
        templates.add((p.template, p.layout))
    assert len(templates) >= 4  # every sample template (and layout) shows up


def test_known_facts_are_recoverable():
    preds, gold = [], []
    for p in iter_corpus(150, seed=11):
        art = parse_page(p)
        body = (art.lead + "\n" if art.lead else "") + art.body_text
        for f in extract_article(art.title, body, published_at=art.published_at, source_unit_id=art.source_unit_id):
            preds.append(f.to_json(doc=p.doc))
        gold += p.gold
        assert p.gold and all(g["doc"] == p.doc for g in p.gold)
    s = score(preds, gold)
    assert s.precision >= 0.95 and s.recall >= 0.85, s


# -- bulk loader ------------------------------------------------------------------------------
def _articles(n, seed=21):
    return [parse_page(p) for p in iter_corpus(n, seed=seed)]


ROW_SQL = """select source, url, title, published_at, author, lead, body_text, captions, body_variant,
                    source_unit_id, template, content_hash, page_sha256, synthetic, removed_at
             from raw.articles where url = any(%s) order by url"""


def test_bulk_load_matches_row_by_row_and_is_idempotent(admin_conn, store):
    from qpan.landing.bulk import bulk_load_articles

    arts = _articles(30)
    urls = [a.url for a in arts]
    for a in arts:
        store.save_article(a)
    by_store = admin_conn.execute(ROW_SQL, (urls,)).fetchall()
    admin_conn.execute("delete from raw.articles where url = any(%s)", (urls,))

    st = bulk_load_articles(admin_conn, iter(arts), batch_size=7)
    assert st.rows == 30 and st.batches == 5
    by_bulk = admin_conn.execute(ROW_SQL, (urls,)).fetchall()
    assert by_bulk == by_store
    assert all(r[13] is True for r in by_bulk)  # synthetic everywhere it lands

    before = admin_conn.execute("select url, article_id, loaded_at from raw.articles where url = any(%s) order by url",
                                (urls,)).fetchall()
    bulk_load_articles(admin_conn, arts + arts[:5], batch_size=50)  # a rerun, with duplicates in a batch
    after = admin_conn.execute("select url, article_id, loaded_at from raw.articles where url = any(%s) order by url",
                               (urls,)).fetchall()
    assert after == before
    assert admin_conn.execute(ROW_SQL, (urls,)).fetchall() == by_store
    admin_conn.execute("delete from raw.articles where url = any(%s)", (urls,))


def test_replace_mentions_is_idempotent_and_replaces(admin_conn):
    from qpan.landing.bulk import bulk_load_articles, replace_mentions
    from qpan.extract import EXTRACTOR_VERSION

    arts = _articles(8, seed=33)
    urls = [a.url for a in arts]
    bulk_load_articles(admin_conn, arts)
    ids = dict(admin_conn.execute("select url, article_id from raw.articles where url = any(%s)", (urls,)).fetchall())
    batch = [(ids[a.url], extract_article(a.title, a.body_text, a.published_at, a.source_unit_id)) for a in arts]
    n = replace_mentions(admin_conn, batch, EXTRACTOR_VERSION)
    q = ("select article_id, indicator, value, unit_id, period, qualifiers, evidence from raw.indicator_mentions "
         "where article_id = any(%s) order by 1, 2, 3, 4, 5, 7")
    first = admin_conn.execute(q, (list(ids.values()),)).fetchall()
    assert n == sum(len(f) for _, f in batch) and len(first) == len({(a, f.key(), f.span_start, str(f.qualifiers))
                                                                    for a, fs in batch for f in fs})
    replace_mentions(admin_conn, batch, EXTRACTOR_VERSION)
    assert admin_conn.execute(q, (list(ids.values()),)).fetchall() == first
    # an article re-extracted with no facts loses its old ones
    replace_mentions(admin_conn, [(batch[0][0], [])], EXTRACTOR_VERSION)
    left = admin_conn.execute("select count(*) from raw.indicator_mentions where article_id = %s", (batch[0][0],)).fetchone()[0]
    assert left == 0
    n_ex = admin_conn.execute("select n_facts from raw.article_extractions where article_id = %s", (batch[0][0],)).fetchone()[0]
    assert n_ex == 0
    admin_conn.execute("delete from raw.articles where url = any(%s)", (urls,))


def test_extract_pending_with_copy_is_idempotent(admin_conn):
    """extract_pending (COPY per batch of articles) extracts each article once, and a rerun finds
    nothing pending and leaves the same mentions."""
    from qpan.landing.bulk import bulk_load_articles
    from qpan.ingest.extraction import extract_pending

    arts = _articles(12, seed=44)
    urls = [a.url for a in arts]
    bulk_load_articles(admin_conn, arts)
    first = extract_pending(batch_size=5)
    assert first.articles >= 12 and first.facts > 0
    q = ("select m.article_id, m.indicator, m.value, m.unit_id, m.period from raw.indicator_mentions m "
         "join raw.articles a using (article_id) where a.url = any(%s) order by 1, 2, 3, 4, 5")
    rows = admin_conn.execute(q, (urls,)).fetchall()
    assert rows
    again = extract_pending(batch_size=5)
    assert again.articles == 0
    assert admin_conn.execute(q, (urls,)).fetchall() == rows
    admin_conn.execute("delete from raw.articles where url = any(%s)", (urls,))

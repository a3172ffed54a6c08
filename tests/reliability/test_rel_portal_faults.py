"""Portal-side faults over real HTTP (the local portal server), each crawl landing in a database
of its own: what was kept, retried, quarantined, and that nothing was lost (a rerun lands it).

Already proven in tests/scrapers/test_crawl.py and not repeated here: 500/503/429 with
Retry-After, persistent 5xx / timeout / truncated body, wrong declared charset, redirect loops
and off-site redirects, robots.txt disallowing from the start or unreachable, bodies too large,
an article answering 410 after it landed, a 200 error page among the fixtures."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from qpan.landing.store import PostgresStore
from scrapers.crawl import crawl_source

from helpers.relutil import src

NL_SEED = "/portal/Pages/2023-12-20/Ngoc-Lac-tong-ket-cong-tac-Quoc-phong-An-ninh-nam-2023-e5f1c2.aspx"
NL_GQ = "/portal/Pages/2023-2-14/Ngoc-Lac-giao-quan-nam-2023-a11b22.aspx"
NL_BAO = "/portal/Pages/2023-9-7/Ngoc-Lac-chu-dong-phong-chong-bao-so-3-b22c33.aspx"
NL_ARTICLES = {NL_SEED, NL_GQ, NL_BAO}
DCS_SEED = "/xay-dung-dang/nang-cao-hieu-qua-cong-tac-lanh-dao-cua-dang-voi-phong-trao-toan-dan-bao-ve-antq-633117.html"


def landed(store, source) -> set[str]:
    return {urlsplit(u).path for u in store.known_urls(source)}


def quarantined(store, source) -> dict[str, str]:
    rows = store.conn.execute(
        "select url, reason from raw.quarantine where source = %s and resolved_at is null", (source,)).fetchall()
    return {urlsplit(u).path: r for u, r in rows}


@pytest.mark.parametrize("kind,reason", [("502", "http 502"), ("reset", "connection error"),
                                         ("bad_gzip", "undecodable body")])
def test_transient_fault_is_retried_and_persistent_fault_quarantined_then_recovered(
        portal, make_reg, scratch_db, kind, reason):
    reg, _ = make_reg(retries=2)
    s = src(reg, "ngoclac")
    portal.set_fault(NL_SEED, kind, times=1)    # transient: the retry lands it
    portal.set_fault(NL_GQ, kind, times=100)    # persistent: quarantined with its reason
    with scratch_db(), PostgresStore() as store:
        st = crawl_source(s, store, registry=reg)
        assert not st.failed
        assert landed(store, s.name) == {NL_SEED, NL_BAO}            # kept
        assert st.retried >= 1 + 2                                   # one retry for the seed, two for the other
        q = quarantined(store, s.name)
        assert q[NL_GQ] == reason                                    # quarantined, with the reason
        assert len(portal.requests_to("ngoclac", NL_GQ)) == 3        # 1 + retries, then given up
        # the fault ends: the next run lands the quarantined article and resolves its quarantine
        portal.clear_faults()
        st2 = crawl_source(s, store, registry=reg)
        assert landed(store, s.name) == NL_ARTICLES                  # lost = 0
        assert st2.articles_new == 1 and NL_GQ not in quarantined(store, s.name)


def test_error_page_over_a_landed_article_quarantines_and_keeps_the_article(portal, make_reg, scratch_db):
    reg, _ = make_reg()
    s = src(reg, "dangcongsan")
    with scratch_db(), PostgresStore() as store:
        crawl_source(s, store, registry=reg)
        before = store.conn.execute("select title, body_text, content_hash from raw.articles where source = %s",
                                    (s.name,)).fetchall()
        assert len(before) == 1
        portal.set_fault(DCS_SEED, "error_page", times=1)  # the site answers 200 with an error page
        st = crawl_source(s, store, registry=reg, since="2023-03-01", until="2023-03-31")
        assert st.quarantined == 1 and st.articles_updated == 0
        assert quarantined(store, s.name) == {DCS_SEED: "error page: no article"}
        after = store.conn.execute("select title, body_text, content_hash from raw.articles where source = %s",
                                   (s.name,)).fetchall()
        assert after == before  # the landed article was not overwritten by the error page


def test_article_removed_404_is_kept_marked_and_comes_back(portal, make_reg, scratch_db):
    reg, _ = make_reg()
    s = src(reg, "dangcongsan")
    with scratch_db(), PostgresStore() as store:
        crawl_source(s, store, registry=reg)
        body = store.conn.execute("select body_text from raw.articles where source = %s", (s.name,)).fetchone()[0]
        portal.set_fault(DCS_SEED, "404", times=1)
        st = crawl_source(s, store, registry=reg, since="2023-03-01", until="2023-03-31")
        assert st.removed == 1 and st.quarantined == 0
        row = store.conn.execute("select body_text, removed_at is not null from raw.articles where source = %s",
                                 (s.name,)).fetchone()
        assert row == (body, True)  # kept (not deleted), marked removed
        pages = store.conn.execute("select count(*) from raw.pages where url like %s and status = 200",
                                   ("%" + DCS_SEED,)).fetchone()[0]
        assert pages == 1  # the raw page that proves what the article said is kept too
        # the article is back: the mark goes away
        crawl_source(s, store, registry=reg, since="2023-03-01", until="2023-03-31")
        assert store.conn.execute("select removed_at from raw.articles where source = %s",
                                  (s.name,)).fetchone()[0] is None


def test_robots_turning_to_disallow_mid_crawl(portal, make_reg, scratch_db):
    """robots.txt is read once per host per run (RFC 9309 allows caching it): a run that started
    under "allow" finishes consistently; the next run honours "Disallow: /" and fetches nothing
    but robots.txt, and what was landed before stays landed (not deleted, not marked removed)."""
    reg, _ = make_reg()
    s = src(reg, "ngoclac")
    flipped = []

    def progress(decision=None, **_):
        if not flipped:  # the first article decided: robots.txt now disallows everything
            portal.set_fault("/robots.txt", "robots_disallow", times=100, site="ngoclac")
            flipped.append(decision)

    with scratch_db(), PostgresStore() as store:
        st = crawl_source(s, store, registry=reg, progress=progress)
        assert flipped and not st.failed and landed(store, s.name) == NL_ARTICLES
        portal.reset_log()
        st2 = crawl_source(s, store, registry=reg, since="2023-01-01", until="2023-12-31")  # would refetch all
        assert st2.skipped_robots >= 1 and st2.fetched == 0 and st2.removed == 0
        assert {r["path"] for r in portal.requests_to("ngoclac")} == {"/robots.txt"}
        assert landed(store, s.name) == NL_ARTICLES
        assert store.conn.execute("select count(*) from raw.articles where source = %s and removed_at is not null",
                                  (s.name,)).fetchone()[0] == 0

"""Crawl the local portal server over real HTTP into the real Postgres store."""
from __future__ import annotations

import time

from scrapers.crawl import crawl, crawl_source
from scrapers.reparse import reparse
from scrapers.fetch import Fetcher

NL_SEED = "/portal/Pages/2023-12-20/Ngoc-Lac-tong-ket-cong-tac-Quoc-phong-An-ninh-nam-2023-e5f1c2.aspx"
NL_LIST = "/portal/KenhTin/Tin-tuc-su-kien.aspx"
BTT_RSS = "/rss/thoi-su.xml"
DCS_SEED = "/xay-dung-dang/nang-cao-hieu-qua-cong-tac-lanh-dao-cua-dang-voi-phong-trao-toan-dan-bao-ve-antq-633117.html"


def counts(conn, prefix):
    q = lambda t: conn.execute(f"select count(*) from raw.{t} where source like %s", (prefix + "%",)).fetchone()[0]  # noqa: E731
    return {t: q(t) for t in ("pages", "articles", "quarantine")}


def prefix_of(registry):
    return registry.sources[0].name.split("_")[0] + "_"


def test_full_crawl_then_rerun_is_idempotent(registry, portal, store, admin_conn, make_reg, sample_source):
    res = crawl(registry, store)
    tx, nl, btt, dcs, gen = (res[sample_source(registry, n).name] for n in ("thoxuan", "ngoclac", "baothanhhoa", "dangcongsan", "generic"))
    # Báo Thanh Hóa: 3 from its news pages + 3 of its QP-AN section written for the sample (issue 29)
    assert [tx.articles_new, nl.articles_new, btt.articles_new, dcs.articles_new, gen.articles_new] == [2, 3, 6, 1, 1]
    assert tx.quarantined == 1 and nl.quarantined == 1          # template change, 200 error page
    assert nl.skipped_irrelevant == 1 and dcs.skipped_irrelevant == 2 and btt.skipped_irrelevant == 1  # "báo" items
    assert tx.skipped_robots == 1 and tx.skipped_offsite == 3
    assert not any(s.failed for s in res.values())
    p = prefix_of(registry)
    rows = admin_conn.execute(
        "select url, body_variant, source_unit_id from raw.articles where source like %s", (p + "%",)).fetchall()
    variants = {v for _, v, _ in rows}
    assert variants == {"html", "decoded", "rss"}
    q = dict(admin_conn.execute("select url, reason from raw.quarantine where source like %s", (p + "%",)).fetchall())
    assert sorted(q.values()) == ["error page: no article", "title selector matched nothing"]
    # the raw pages were saved (including those that failed to parse)
    assert all(admin_conn.execute("select count(*) from raw.pages where url = %s", (u,)).fetchone()[0] == 1 for u in q)
    before = counts(admin_conn, p)
    hits_before = len(portal.requests)

    res2 = crawl(registry, store)
    assert counts(admin_conn, p) == before
    assert sum(s.articles_new + s.articles_updated + s.fetched for s in res2.values()) == 0
    assert sum(s.not_modified for s in res2.values()) >= 5 and sum(s.skipped_known for s in res2.values()) == 12  # page 2 of Ngọc Lặc not revisited
    second = portal.requests[hits_before:]
    assert all(r["status"] == 304 for r in second if r["path"] != "/robots.txt")


def test_politeness_delay_per_host_and_hosts_in_parallel(tmp_path, portal, store, make_reg, sample_source):
    reg = make_reg(delay=0.15)
    t0 = time.monotonic()
    with Fetcher(reg, store) as f:
        crawl(reg, store, only=[sample_source(reg, "ngoclac").name, sample_source(reg, "baothanhhoa").name], fetcher=f)
        sent = f.sent_log
    wall = time.monotonic() - t0
    per_host = {}
    for site in ("ngoclac", "baothanhhoa"):
        host = portal.sites[site]["host"]
        client = sorted(t for h, t in sent if h == host)
        assert min(b - a for a, b in zip(client, client[1:])) >= 0.15  # as sent by the crawler
        starts = sorted(r["start"] for r in portal.requests_to(site))
        per_host[site] = starts
        gaps = sorted(b - a for a, b in zip(starts, starts[1:]))
        # as seen by the server: the same spacing, give or take its thread scheduling on a busy machine
        assert len(starts) == len(client) >= 5 and gaps[len(gaps) // 2] >= 0.15 - 0.01 and gaps[0] >= 0.05, (site, gaps)
    a, b = per_host["ngoclac"], per_host["baothanhhoa"]
    assert max(a[0], b[0]) < min(a[-1], b[-1])  # the two hosts overlap in time
    # faster than one host after the other: the crawl took less than the two hosts' spans end to
    # end (measured spans, so a pause of the whole machine, which stretches both, cannot fail it)
    assert wall < (a[-1] - a[0]) + (b[-1] - b[0]) + 0.15
    assert all(r["ua"] == reg.user_agent for r in portal.requests)


def test_retries_on_5xx_429_and_retry_after(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg()
    portal.set_fault(BTT_RSS, "503", times=1, retry_after=1)  # capped at 0.3 s by the test registry
    portal.set_fault(NL_SEED, "500", times=2)
    portal.set_fault("/thoi-su.htm", "429", times=1, retry_after=1)
    res = crawl(reg, store, only=[sample_source(reg, "baothanhhoa").name, sample_source(reg, "ngoclac").name])
    btt, nl = res[sample_source(reg, "baothanhhoa").name], res[sample_source(reg, "ngoclac").name]
    assert btt.retried == 2 and btt.articles_new == 6
    assert nl.retried == 2 and nl.articles_new == 3
    rss_hits = portal.requests_to("baothanhhoa", BTT_RSS)
    assert 0.3 <= rss_hits[1]["start"] - rss_hits[0]["start"] < 0.9  # Retry-After honoured, capped


def test_persistent_5xx_timeout_truncated_are_quarantined(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg(timeout=0.5, retries=1)
    s = sample_source(reg, "ngoclac")
    portal.set_fault(NL_SEED, "500", times=10)
    portal.set_fault("/portal/Pages/2023-9-7/Ngoc-Lac-chu-dong-phong-chong-bao-so-3-b22c33.aspx", "slow", times=10, seconds=1.0)
    portal.set_fault("/portal/Pages/2023-2-14/Ngoc-Lac-giao-quan-nam-2023-a11b22.aspx", "truncated", times=10)
    st = crawl_source(s, store, registry=reg)
    reasons = dict(admin_conn.execute("select url, reason from raw.quarantine where source = %s", (s.name,)).fetchall())
    by_path = {u.split(":", 2)[2].split("/", 1)[1]: r for u, r in reasons.items()}
    assert by_path["portal/Pages/2023-12-20/Ngoc-Lac-tong-ket-cong-tac-Quoc-phong-An-ninh-nam-2023-e5f1c2.aspx"] == "http 500"
    assert by_path["portal/Pages/2023-9-7/Ngoc-Lac-chu-dong-phong-chong-bao-so-3-b22c33.aspx"] == "timeout"
    assert by_path["portal/Pages/2023-2-14/Ngoc-Lac-giao-quan-nam-2023-a11b22.aspx"] == "truncated body"
    assert st.retried == 3 and st.articles_new == 0 and st.errors == 3
    # a transient truncation is retried and lands
    portal.clear_faults()
    portal.set_fault(NL_SEED, "truncated", times=1)
    reg2 = make_reg(timeout=0.5, retries=1)
    st2 = crawl_source(sample_source(reg2, "ngoclac"), store, registry=reg2)
    assert st2.retried == 1 and st2.articles_new == 3


def test_wrong_declared_charset_is_recovered(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg()
    s = sample_source(reg, "ngoclac")
    portal.set_fault(NL_SEED, "cp1258_as_utf8", times=1)
    portal.set_fault("/portal/Pages/2023-9-7/Ngoc-Lac-chu-dong-phong-chong-bao-so-3-b22c33.aspx", "utf8_as_cp1258", times=1)
    crawl_source(s, store, registry=reg)
    titles = {r[0] for r in admin_conn.execute("select title from raw.articles where source = %s", (s.name,))}
    assert "Ngọc Lặc tổng kết công tác Quốc phòng – An ninh năm 2023" in titles
    assert "Ngọc Lặc chủ động phòng, chống bão số 3" in titles


def test_redirects_loop_offsite_and_within(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg()
    s = sample_source(reg, "ngoclac")
    portal.set_fault(NL_SEED, "redirect_loop", times=1)
    portal.set_fault("/portal/Pages/2023-9-7/Ngoc-Lac-chu-dong-phong-chong-bao-so-3-b22c33.aspx", "redirect_offsite", times=1)
    gq = "/portal/Pages/2023-2-14/Ngoc-Lac-giao-quan-nam-2023-a11b22.aspx"
    portal.put("ngoclac", "/portal/Pages/2023-2-14/moved.aspx", portal.content("ngoclac", gq)[2])
    portal.set_fault(gq, "redirect", times=1, to=portal.url("ngoclac", "/portal/Pages/2023-2-14/moved.aspx"))
    st = crawl_source(s, store, registry=reg)
    reasons = {r[0] for r in admin_conn.execute("select reason from raw.quarantine where source = %s", (s.name,))}
    assert {"redirect loop", "redirect refused"} <= reasons
    assert not portal.requests_to(path="/bai-viet.html")  # offsite target never requested
    assert st.articles_new == 1 and st.skipped_offsite >= 4


def test_private_and_scheme_refused_without_opt_in(registry, make_reg, sample_source):
    from dataclasses import replace

    s = replace(sample_source(registry, "ngoclac"), allow_private=False)
    with Fetcher(registry) as f:
        assert f.refusal("ftp://127.0.0.3/x", s)[1].startswith("scheme")
        assert "private" in f.refusal("http://127.0.0.3/x", s)[1]
        assert "allow-list" in f.refusal("http://10.0.0.1/x", s)[1]
        assert f.refusal("http://127.0.0.3/x", sample_source(registry, "ngoclac")) is None


def test_robots_disallow_and_unreachable_robots(tmp_path, portal, store, make_reg, sample_source):
    reg = make_reg()
    portal.set_fault("/robots.txt", "robots_disallow", times=1, site="ngoclac")
    st = crawl_source(sample_source(reg, "ngoclac"), store, registry=reg)
    assert st.skipped_robots == 1 and st.fetched == 0 and st.failed
    assert [r["path"] for r in portal.requests_to("ngoclac")] == ["/robots.txt"]
    reg2 = make_reg(retries=1)
    portal.set_fault("/robots.txt", "500", times=5, site="dangcongsan")
    st2 = crawl_source(sample_source(reg2, "dangcongsan"), store, registry=reg2)
    assert st2.skipped_robots == 1 and st2.articles_new == 0
    assert {r["path"] for r in portal.requests_to("dangcongsan")} == {"/robots.txt"}


def test_body_too_large_is_quarantined(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg(max_body_bytes=50_000)
    s = sample_source(reg, "dangcongsan")
    portal.set_fault(DCS_SEED, "big", times=1, size=200_000)
    crawl_source(s, store, registry=reg)
    assert admin_conn.execute("select reason from raw.quarantine where source = %s", (s.name,)).fetchall() == [("body too large",)]


def test_removed_article_is_marked(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg()
    s = sample_source(reg, "dangcongsan")
    crawl_source(s, store, registry=reg)
    portal.set_fault(DCS_SEED, "410", times=1)
    st = crawl_source(s, store, registry=reg, since="2023-03-01", until="2023-03-31")
    assert st.removed == 1
    assert admin_conn.execute("select removed_at is not null from raw.articles where source = %s", (s.name,)).fetchone()[0]


def test_incremental_run_fetches_only_the_new_article(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg()
    s = sample_source(reg, "ngoclac")
    crawl_source(s, store, registry=reg)
    new = "/portal/Pages/2024-1-5/Ngoc-Lac-ra-quan-huan-luyen-nam-2024-f66a77.aspx"
    html = portal.content("ngoclac", NL_SEED)[2].decode().replace("20/12/2023", "05/01/2024")
    portal.put("ngoclac", new, html)
    listing = portal.content("ngoclac", NL_LIST)[2].decode().replace(
        '<div class="news-list">', f'<div class="news-list"><div class="news-item"><a class="news-title" href="{new}">'
        'Ngọc Lặc ra quân huấn luyện quân sự năm 2024</a><div class="news-date">05/01/2024</div></div>')
    portal.put("ngoclac", NL_LIST, listing)
    portal.reset_log()
    st = crawl_source(s, store, registry=reg)
    assert st.articles_new == 1 and st.skipped_known == 3
    fetched = [r["path"] for r in portal.requests_to("ngoclac") if r["status"] == 200 and r["path"] != "/robots.txt"]
    assert fetched == [NL_LIST, new]  # nothing else refetched in full (304s)


def test_reparse_lands_pages_after_a_template_fix(tmp_path, portal, store, admin_conn, make_reg, sample_source):
    reg = make_reg()
    s = sample_source(reg, "thoxuan")
    crawl_source(s, store, registry=reg)
    assert admin_conn.execute("select count(*) from raw.articles where source = %s", (s.name,)).fetchone()[0] == 2
    s.selectors["title"] = list(s.selectors.get("title") or [".article-detail h1", ".news-detail h1"]) + [".news-detail .tieu-de"]
    st = reparse(store, source=s.name, registry=reg)
    assert st.articles_new == 1 and st.quarantined == 0
    assert admin_conn.execute(
        "select count(*) from raw.quarantine where source = %s and resolved_at is null", (s.name,)).fetchone()[0] == 0


def test_cli_scrape_and_reparse(tmp_path, portal, store, admin_conn, capsys, make_reg, sample_source):
    import argparse

    from scrapers import cli

    reg = make_reg()
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers()
    cli.register(sub)
    args = ap.parse_args(["scrape", "--sources", reg.path, "--only", sample_source(reg, "generic").name, "--json"])
    assert args.func(args) == 0
    assert '"articles_new": 1' in capsys.readouterr().out
    portal.set_fault("/phong-su", "500", times=10)
    args = ap.parse_args(["scrape", "--sources", reg.path, "--only", sample_source(reg, "generic").name])
    assert args.func(args) == 1  # the source failed entirely
    args = ap.parse_args(["reparse", "--source", sample_source(reg, "generic").name, "--sources", reg.path])
    assert args.func(args) == 0
    bad = tmp_path / "bad.yml"
    bad.write_text(reg.path and open(reg.path).read().replace("template: generic", "template: nope"))
    args = ap.parse_args(["scrape", "--sources", str(bad)])
    assert args.func(args) == 2

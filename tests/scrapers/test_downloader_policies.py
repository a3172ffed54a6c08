"""Each downloader policy alone (scrapers/downloader/): composed with nothing but the real transport
and sent to the local portal server over real HTTP on loopback hosts. The server's request log
shows what reached it; scrapers/fetch.py declares the order the crawler uses them in."""
from __future__ import annotations

import hashlib
import random
import time
from dataclasses import replace

import pytest

from scrapers.crawl_stats import CrawlStats
from scrapers.downloader.allow_list import AllowList
from scrapers.downloader.base import FetchError, Request, Skipped, chain
from scrapers.downloader.conditional import ConditionalGet
from scrapers.downloader.host_gate import HostGates, PerHostGate
from scrapers.downloader.raw_save import RawSave
from scrapers.downloader.redirects import Redirects
from scrapers.downloader.retry import Retry
from scrapers.downloader.robots import RobotsTxt
from scrapers.downloader.transport import Transport

NL_LIST = "/portal/KenhTin/Tin-tuc-su-kien.aspx"
NL_PAGE_2 = "/portal/KenhTin/Tin-tuc-su-kien.aspx?Page=2"
NL_PRINT = "/portal/pages/print.aspx"  # Disallowed by Ngọc Lặc's robots.txt


@pytest.fixture()
def transport(registry):
    t = Transport(registry.user_agent)
    yield t
    t.close()


@pytest.fixture()
def ngoclac(registry, sample_source):
    return sample_source(registry, "ngoclac")


def get(portal, source, path, site="ngoclac", **kw) -> Request:
    return Request(portal.url(site, path), source, **kw)


def paths_asked(portal, site="ngoclac"):
    return [r["path"] for r in portal.requests_to(site)]


# -- allow-list ------------------------------------------------------------------------------
def test_allow_list_sends_allowed_hosts_on_and_refuses_the_rest_before_the_wire(portal, registry, ngoclac, transport):
    send = chain([AllowList(registry)], transport)
    assert send(get(portal, ngoclac, NL_LIST)).status == 200
    registry.allowed_hosts.remove(portal.sites["baothanhhoa"]["host"])
    with pytest.raises(Skipped) as off_list:
        send(get(portal, ngoclac, "/", site="baothanhhoa"))
    with pytest.raises(Skipped) as private:  # a loopback host without allow_private
        send(get(portal, replace(ngoclac, allow_private=False), NL_LIST))
    with pytest.raises(Skipped) as scheme:
        send(Request(portal.url("ngoclac", NL_LIST).replace("http://", "ftp://"), ngoclac))
    assert off_list.value.kind == private.value.kind == scheme.value.kind == "offsite"
    assert "outside the allow-list" in off_list.value.reason and "private/loopback" in private.value.reason
    assert "scheme 'ftp'" in scheme.value.reason
    assert portal.requests_to("baothanhhoa") == [] and paths_asked(portal) == [NL_LIST]


# -- robots.txt ------------------------------------------------------------------------------
def robots_alone(registry, transport, gates=None):
    robots = RobotsTxt(registry.user_agent, gates or HostGates(), fetch=transport)
    return robots, chain([robots], transport)


def test_robots_is_fetched_once_per_host_and_its_disallow_holds(portal, registry, ngoclac, transport):
    _, send = robots_alone(registry, transport)
    assert send(get(portal, ngoclac, NL_LIST)).status == 200
    assert send(get(portal, ngoclac, NL_PAGE_2)).status == 200
    with pytest.raises(Skipped) as refused:
        send(get(portal, ngoclac, NL_PRINT))
    assert refused.value.kind == "robots"
    assert paths_asked(portal) == ["/robots.txt", NL_LIST, NL_PAGE_2]  # robots.txt once, print.aspx never


def test_robots_answering_5xx_disallows_the_host_for_the_run(portal, registry, ngoclac, transport):
    _, send = robots_alone(registry, transport)
    portal.set_fault("/robots.txt", "503", times=1, site="ngoclac")
    stats = CrawlStats()
    for path in (NL_LIST, NL_PAGE_2):
        with pytest.raises(Skipped):
            send(get(portal, ngoclac, path, stats=stats))
    assert paths_asked(portal) == ["/robots.txt"] and stats.http_errors == {"5xx": 1}


def test_robots_crawl_delay_slows_the_hosts_gate(portal, registry, ngoclac, transport):
    gates = HostGates()
    _, send = robots_alone(registry, transport, gates)
    portal.put("ngoclac", "/robots.txt", "User-agent: *\nCrawl-delay: 3\nDisallow:\n")
    send(get(portal, ngoclac, NL_LIST))
    assert gates.get(portal.sites["ngoclac"]["host"], ngoclac.politeness).delay == 3.0


# -- per-host gate ---------------------------------------------------------------------------
def test_per_host_gate_spaces_requests_as_the_server_sees_them(portal, make_reg, sample_source, transport):
    source = sample_source(make_reg(delay=0.3), "ngoclac")
    send = chain([PerHostGate(HostGates())], transport)
    for _ in range(3):
        send(get(portal, source, NL_LIST))
    starts = [r["start"] for r in portal.requests_to("ngoclac")]
    assert len(starts) == 3 and min(b - a for a, b in zip(starts, starts[1:])) >= 0.3 - 0.02


def test_per_host_gate_holds_the_host_for_its_retry_after(portal, make_reg, sample_source, transport):
    source = sample_source(make_reg(delay=0.0, retry_after_cap=1.0), "ngoclac")
    gates = HostGates()
    send = chain([PerHostGate(gates)], transport)
    portal.set_fault(NL_LIST, "503", times=1, retry_after=30)
    assert send(get(portal, source, NL_LIST)).status == 503
    send(get(portal, source, NL_LIST))
    starts = [r["start"] for r in portal.requests_to("ngoclac")]
    assert 1.0 - 0.02 <= starts[1] - starts[0] < 3  # the 30 s asked for, capped at retry_after_cap


# -- retry -----------------------------------------------------------------------------------
def retry_alone(transport):
    waits: list[float] = []
    return chain([Retry(random.Random(7), sleep=waits.append)], transport), waits


def test_retry_backs_off_on_5xx_and_429_then_gets_the_page(portal, make_reg, sample_source, transport):
    source = sample_source(make_reg(retries=3, backoff=0.5, retry_after_cap=2), "ngoclac")
    send, waits = retry_alone(transport)
    portal.set_fault(NL_LIST, "503", times=1, retry_after=0)
    portal.set_fault(NL_PAGE_2, "429", times=1, retry_after=2)
    stats = CrawlStats()
    resp = send(get(portal, source, NL_LIST, stats=stats))
    assert resp.status == 200 and resp.attempts == 2 and stats.retried == 1
    assert 0.5 <= waits[0] < 1.0  # backoff * 2**0 + jitter in [0, backoff)
    assert send(get(portal, source, NL_PAGE_2)).status == 200 and waits[1] == 2  # Retry-After over the back-off


def test_retry_gives_up_after_its_budget_and_hands_back_the_last_answer(portal, make_reg, sample_source, transport):
    source = sample_source(make_reg(retries=2, backoff=0.01), "ngoclac")
    send, waits = retry_alone(transport)
    portal.set_fault(NL_LIST, "500", times=5)
    resp = send(get(portal, source, NL_LIST))
    assert resp.status == 500 and resp.attempts == 3 and len(waits) == 2
    portal.set_fault(NL_PAGE_2, "reset", times=5)
    with pytest.raises(FetchError) as reset:
        send(get(portal, source, NL_PAGE_2))
    assert reset.value.reason == "connection error"
    assert paths_asked(portal).count(NL_LIST) == 3 and paths_asked(portal).count(NL_PAGE_2) == 3


def test_retry_does_not_retry_what_would_fail_the_same(portal, make_reg, sample_source, transport):
    source = sample_source(make_reg(retries=3, max_body_bytes=10_000), "ngoclac")
    send, waits = retry_alone(transport)
    portal.set_fault(NL_LIST, "big", times=5, size=50_000)
    with pytest.raises(FetchError) as big:
        send(get(portal, source, NL_LIST))
    assert big.value.reason == "body too large" and waits == [] and paths_asked(portal) == [NL_LIST]


# -- redirects -------------------------------------------------------------------------------
def redirects_alone(registry, transport):
    robots = RobotsTxt(registry.user_agent, HostGates(), fetch=transport)
    return chain([Redirects(AllowList(registry), robots)], transport)


def test_redirects_are_followed_by_hand_within_the_allow_list(portal, registry, ngoclac, transport):
    send = redirects_alone(registry, transport)
    portal.set_fault("/moved", "redirect", to=NL_LIST)
    resp = send(get(portal, ngoclac, "/moved", headers={"If-None-Match": '"stale"'}))
    assert resp.status == 200 and resp.url.endswith("/moved") and resp.final_url == portal.url("ngoclac", NL_LIST)
    assert resp.redirects == [portal.url("ngoclac", NL_LIST)]
    hops = {r["path"]: r["inm"] for r in portal.requests_to("ngoclac")}
    assert hops["/moved"] == '"stale"' and hops[NL_LIST] is None  # the validators stay on the URL asked for


def test_redirects_refused_offsite_looping_too_deep_or_disallowed(portal, registry, ngoclac, transport):
    send = redirects_alone(registry, transport)
    stats = CrawlStats()
    portal.set_fault("/away", "redirect_offsite", to="http://offsite.example.com/x")
    with pytest.raises(FetchError) as offsite:
        send(get(portal, ngoclac, "/away", stats=stats))
    assert offsite.value.reason == "redirect refused" and stats.offsite_links == {"http://offsite.example.com/x"}
    portal.set_fault("/loop", "redirect_loop")
    with pytest.raises(FetchError) as loop:
        send(get(portal, ngoclac, "/loop"))
    assert loop.value.reason == "redirect loop"
    portal.set_fault("/a", "redirect", to="/b")
    portal.set_fault("/b", "redirect", to=NL_LIST)
    with pytest.raises(FetchError) as deep:
        send(get(portal, ngoclac, "/a", politeness=replace(ngoclac.politeness, max_redirects=1)))
    assert deep.value.reason == "too many redirects"
    portal.set_fault("/to-print", "redirect", to=NL_PRINT)
    with pytest.raises(Skipped) as disallowed:
        send(get(portal, ngoclac, "/to-print"))
    assert disallowed.value.kind == "robots" and NL_PRINT not in paths_asked(portal)


# -- conditional GET and raw save (the real Postgres store) ------------------------------------
def test_conditional_get_keeps_validators_and_sends_them_next_time(portal, registry, ngoclac, transport, store):
    send = chain([ConditionalGet(store)], transport)
    assert send(get(portal, ngoclac, NL_LIST)).status == 200
    assert store.validators(portal.url("ngoclac", NL_LIST))[0]
    assert send(get(portal, ngoclac, NL_LIST)).status == 304
    assert send(get(portal, ngoclac, NL_LIST, conditional=False)).status == 200
    sent = [r["inm"] for r in portal.requests_to("ngoclac")]
    assert sent[0] is None and sent[1] and sent[2] is None


def test_raw_save_keeps_every_final_response_before_parsing(portal, registry, ngoclac, transport, store, admin_conn):
    send = chain([RawSave(store), Redirects(AllowList(registry), RobotsTxt(registry.user_agent, HostGates(), transport))],
                 transport)
    page = send(get(portal, ngoclac, NL_LIST))
    missing = send(get(portal, ngoclac, "/no-such-page.aspx"))
    portal.set_fault("/moved-" + ngoclac.name, "redirect", to=NL_PAGE_2)
    moved = send(get(portal, ngoclac, "/moved-" + ngoclac.name))
    unsaved = send(get(portal, ngoclac, NL_PAGE_2, save=False))
    rows = {url: (status, headers, bytes(body), sha) for url, status, headers, body, sha in admin_conn.execute(
        "select url, status, headers, body, sha256 from raw.pages where source = %s", (ngoclac.name,)).fetchall()}
    assert rows[page.url][:1] == (200,) and rows[page.url][2] == page.body
    assert page.page_sha256 == rows[page.url][3] == hashlib.sha256(page.body).hexdigest()
    assert rows[missing.url][0] == 404
    assert rows[moved.url][1]["x-qpan-final-url"] == portal.url("ngoclac", NL_PAGE_2)
    assert unsaved.page_sha256 is None and set(rows) == {page.url, missing.url, moved.url}


def test_each_request_connects_anew_and_records_when_it_left(portal, registry, ngoclac, transport):
    t0 = time.monotonic()
    transport(get(portal, ngoclac, NL_LIST))
    assert [h for h, _ in transport.sent_log] == [portal.sites["ngoclac"]["host"]]
    assert t0 <= transport.sent_log[0][1] <= portal.requests_to("ngoclac")[0]["start"] + 0.05

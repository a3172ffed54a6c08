"""Per-host spacing is anchored on the moment a request leaves, not on the gate (issue 17,
item 11): a pause between the gate and the socket (a GC pause, a thread that lost the GIL) must
not shorten the next gap below the configured delay. Real HTTP to the local portal server; the
pause is injected as an httpx request hook, which runs after the gate and before the socket."""
from __future__ import annotations

import time

from scrapers.fetch import Fetcher

DELAY = 0.5
PAUSE = 0.3


def test_a_pause_before_the_send_does_not_shorten_the_next_gap(portal, make_reg, sample_source):
    reg = make_reg(delay=DELAY)
    source = sample_source(reg, "ngoclac")
    paths = ["/portal/KenhTin/Tin-tuc-su-kien.aspx", "/portal/KenhTin/Tin-tuc-su-kien.aspx?Page=2",
             "/portal/KenhTin/Tin-tuc-su-kien.aspx?Page=3"]
    portal.reset_log()
    paused: list[str] = []

    def pause(request):
        if request.url.path != "/robots.txt" and len(paused) % 2 == 0:
            time.sleep(PAUSE)  # after the gate let the request go, before it reaches the socket
        paused.append(str(request.url))

    with Fetcher(reg, None) as fetcher:
        fetcher.client(source.allow_private).event_hooks["request"] = [pause]
        for path in paths:
            fetcher.fetch(portal.url("ngoclac", path), source, save=False, conditional=False)
    assert len(paused) >= len(paths)
    starts = sorted(r["start"] for r in portal.requests_to("ngoclac"))
    gaps = [round(b - a, 3) for a, b in zip(starts, starts[1:])]
    assert len(starts) >= len(paths) and min(gaps) >= DELAY - 0.02, gaps  # as the server saw them

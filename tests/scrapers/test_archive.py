"""Archive backfill (issue 30) against a local archive on 127.0.0.1 (scrapers/archive_server.py):
CDX listing + `id_` replay, politeness read from the server's own request log, landing as the
same pages and articles, attribution by date, exactly-once after a kill and a rerun."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import pytest

from scrapers import fixtures_build as fb
from scrapers.archive import ArchiveSettings, backfill, settings_from_env, ts_to_utc, unlisted_ranges
from scrapers.archive_registry import archive_sources, load_archives
from scrapers.archive_server import ArchiveServer
from scrapers.registry import RegistryError, load_registry

REPO = Path(__file__).resolve().parents[2]
SITE = ("Cổng thông tin điện tử huyện Thử Nghiệm - Thanh Hóa", "THỬ NGHIỆM - ĐOÀN KẾT, PHÁT TRIỂN")

REGISTRY = """
user_agent: "qpan-test/0.1 (+https://example.org/qpan)"
allowed_hosts: ["*.thanhhoa.gov.vn"]
sources:
  - name: live_{s}
    template: thanhhoa_portal
    base_url: https://{host}/
    unit_id: "38.395"
    discovery: {{list_pages: [{{url: /portal/KenhTin/Quoc-phong-an-ninh.aspx}}]}}
archives:
  - name: district_{s}
    prefix: {host}/portal/
    from: 2019-01-01
    to: 2025-06-30
    unit_id: "38.395"
    valid_to: 2025-06-30
    templates:
      - {{template: thanhhoa_portal, to: 2021-12-31}}
      - {{template: thanhhoa_portal, from: 2022-01-01, selectors: {{title: [".tieu-de"]}}}}
  - name: commune_{s}
    prefix: {host}/portal/
    from: 2025-07-01
    to: 2025-12-31
    unit_id: "38.15499"
    valid_from: 2025-07-01
    templates:
      - {{template: thanhhoa_portal, selectors: {{title: [".tieu-de"]}}}}
"""


def old_article(title, day, lead, paras):
    return fb.portal_old_article(title, f"08:30:00 {day}", "Quốc phòng - An ninh", lead, paras,
                                 "Phóng viên thử nghiệm", "Ảnh minh họa", site=SITE)


def new_article(title, day, paras):
    return fb.portal_new_article(title, day, "Quốc phòng - An ninh", paras, "Phóng viên thử nghiệm",
                                 "Ảnh minh họa", changed=True)


def build_archive(arc: ArchiveServer, host: str) -> dict:
    """Captures of one district portal: what each is for is said next to it."""
    a = f"http://{host}/portal/Pages/2020-12-18/Tong-ket-quoc-phong-2020-a1.aspx"
    a1 = old_article("Huyện Thử Nghiệm tổng kết công tác quốc phòng năm 2020", "18/12/2020",
                     "Sáng 18/12, Ban Chỉ huy Quân sự huyện tổng kết nhiệm vụ quốc phòng.",
                     ["Năm 2020, huyện giao 120 thanh niên nhập ngũ, đạt 100% chỉ tiêu.",
                      "Lực lượng dân quân được huấn luyện đầy đủ."])
    a2 = a1.replace("được huấn luyện đầy đủ.", "được huấn luyện đầy đủ, an toàn tuyệt đối.")
    arc.add(a, "20201219083000", a1)
    arc.add(a, "20210301000000", a1)            # same digest, adjacent: collapsed by the CDX
    arc.add(a, "20210601000000", a2)            # edited: a second page, the article updated
    arc.add(a, "20211001000000", a1)            # same digest as the first, not adjacent: landed once
    lst = f"http://{host}/portal/KenhTin/Quoc-phong-an-ninh.aspx"
    arc.add(lst, "20210105000000", fb.portal_list([(a, "Tổng kết quốc phòng 2020", "18/12/2020", "")], [],
                                                  site=SITE))
    arc.add(lst, "20220105000000", fb.portal_list([(a, "Tổng kết quốc phòng 2020", "18/12/2020", ""),
                                                   (a, "Giao quân 2021", "5/11/2021", "")], [], site=SITE))
    # the template changed between captures: the 2022 capture is read with the 2022 period's selectors
    b = f"http://{host}/portal/Pages/2021-11-5/Giao-quan-nam-2021-b2.aspx"
    arc.add(b, "20211110000000", old_article("Huyện Thử Nghiệm giao quân năm 2021", "05/11/2021",
                                             "Sáng 5/11, huyện tổ chức lễ giao nhận quân.",
                                             ["Huyện giao 95 công dân nhập ngũ."]))
    arc.add(b, "20220315000000", new_article("Huyện Thử Nghiệm giao quân năm 2021", "05/11/2021",
                                             ["Sáng 5/11, huyện tổ chức lễ giao nhận quân.",
                                              "Huyện giao 95 công dân nhập ngũ, đạt chỉ tiêu."]))
    c = f"http://{host}/portal/Pages/2021-3-3/Duong-dan-cu-c3.aspx"
    arc.add(c, "20210304000000", b"", status=302, headers={"Location": f"http://{host}/"})
    d = f"http://{host}/portal/Pages/2021-6-6/Dien-tap-phong-thu-d4.aspx"
    arc.add(d, "20210607000000", old_article("Diễn tập khu vực phòng thủ huyện", "06/06/2021",
                                             "Huyện tổ chức diễn tập.", ["Diễn tập đạt kết quả tốt."]),
            truncated=True)
    e = f"http://{host}/portal/Pages/2021-8-8/Trang-loi-e5.aspx"
    arc.add(e, "20210809000000", fb.portal_error_page(SITE), status=404)
    f = f"http://{host}/portal/Pages/2022-4-4/Huan-luyen-dan-quan-f6.aspx"
    arc.add(f, "20220405000000", new_article("Huyện Thử Nghiệm ra quân huấn luyện dân quân", "04/04/2022",
                                             ["Sáng 4/4, huyện ra quân huấn luyện dân quân tự vệ."]))
    arc.fail_once(f"/web/20220405000000id_/{f}", 503)   # retried with back-off, then landed
    arc.add(f"http://{host}/portal/Photos/2022-04/anh.jpg", "20220405000001", b"\xff\xd8", mimetype="image/jpeg")
    # published before the reform, captured after it: the district's article (commune's window)
    g = f"http://{host}/portal/Pages/2025-6-20/Tong-ket-6-thang-g7.aspx"
    arc.add(g, "20250720000000", new_article("Huyện Thử Nghiệm sơ kết quốc phòng 6 tháng", "20/06/2025",
                                             ["Sáng 20/6, huyện sơ kết công tác quốc phòng 6 tháng."]))
    h = f"http://{host}/portal/Pages/2025-8-10/Xa-ra-quan-h8.aspx"
    arc.add(h, "20250815000000", new_article("Xã Thử Nghiệm ra quân huấn luyện dân quân", "10/08/2025",
                                             ["Sáng 10/8, xã ra quân huấn luyện dân quân."]))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "h": h, "list": lst}


@pytest.fixture()
def archive(tmp_path, monkeypatch):
    s = uuid.uuid4().hex[:6]
    host = f"t{s}.thanhhoa.gov.vn"
    path = tmp_path / "sources.yml"
    path.write_text(REGISTRY.format(s=s, host=host), encoding="utf-8")
    with ArchiveServer() as arc:
        urls = build_archive(arc, host)
        monkeypatch.setenv("QPAN_ARCHIVE_URL", arc.base_url)
        monkeypatch.setenv("QPAN_ARCHIVE_RATE", "600")          # 0.1 s between requests (down is the rule;
        monkeypatch.setenv("QPAN_ARCHIVE_ALLOW_FASTER", "1")    # up is allowed for a local archive only)
        monkeypatch.setenv("QPAN_ARCHIVE_BACKOFF", "0.3")
        monkeypatch.setenv("QPAN_ARCHIVE_RETRY_BACKOFF", "0.2")
        registry, entries = load_archives(path)
        yield {"arc": arc, "registry": registry, "entries": entries, "urls": urls, "s": s, "path": path,
               "district": entries[0], "commune": entries[1]}


def gaps(log):
    starts = sorted(r["start"] for r in log)
    return [b - a for a, b in zip(starts, starts[1:])]


def test_settings_rate_is_capped_unless_allowed():
    assert settings_from_env({}).rate_per_minute == 24
    assert settings_from_env({}).base_url == "https://web.archive.org"
    assert settings_from_env({"QPAN_ARCHIVE_RATE": "6"}).interval == 10
    with pytest.raises(ValueError, match="ALLOW_FASTER"):
        settings_from_env({"QPAN_ARCHIVE_RATE": "30"})
    assert settings_from_env({"QPAN_ARCHIVE_RATE": "30"}, allow_faster=True).rate_per_minute == 30
    assert ts_to_utc("20201219083000").isoformat() == "2020-12-19T08:30:00+00:00"


def test_registry_archive_entries_validated(tmp_path):
    reg, entries = load_archives(REPO / "scrapers" / "sources.yml")
    districts = [e for e in entries if e.unit_id and e.unit_id.count(".") == 1 and e.valid_from is None]
    assert len({e.unit_id for e in districts}) == 27 and any(e.unit_id == "38" for e in entries)
    assert {e.name for e in entries if e.host_known} >= {"thoxuan_archive", "ngoclac_archive", "thanhhoa_archive"}
    # a reused host: the district until 30 June 2025, the commune after it
    tx = [e for e in entries if e.host == "thoxuan.thanhhoa.gov.vn"]
    assert {(e.unit_id, e.valid_from, e.valid_to) for e in tx} == {("38.395", None, date(2025, 6, 30)),
                                                                   ("38.15499", date(2025, 7, 1), None)}
    assert all(e.start == date(2019, 1, 1) and e.end == date(2025, 6, 30) for e in districts)
    bad = tmp_path / "bad.yml"
    bad.write_text(REGISTRY.format(s="x", host="example.com"), encoding="utf-8")
    with pytest.raises(RegistryError, match="outside the allow-list"):
        archive_sources(load_registry(bad))


def test_backfill_lands_each_capture_once_politely(archive, store):
    arc, urls, district = archive["arc"], archive["urls"], archive["district"]
    arc.rate_limit_after = 6          # the 7th request is answered 429 (Retry-After: 1 s)
    t0 = time.monotonic()
    lines = []
    stats = backfill(district, archive["entries"], store, archive["registry"], progress=lines.append)
    took = time.monotonic() - t0
    log = arc.log
    # politeness, from the server's log: one request at a time, >= 0.1 s apart, nothing sent during the 429 pause
    assert arc.max_active == 1
    assert min(gaps(log)) >= 0.09, gaps(log)
    i429 = next(i for i, r in enumerate(sorted(log, key=lambda r: r["start"])) if r["status"] == 429)
    ordered = sorted(log, key=lambda r: r["start"])
    assert ordered[i429 + 1]["start"] - ordered[i429]["end"] >= 0.95   # Retry-After: 1 honoured
    assert sum(r["status"] == 429 for r in log) == 1
    cdx = [r for r in log if r["path"].startswith("/cdx/")]
    assert len(cdx) == 1 and "collapse=digest" in cdx[0]["path"] and "from=20190101" in cdx[0]["path"]
    assert any(r["status"] == 503 for r in log)  # and it was retried:
    assert sum(urls["f"] in r["path"] for r in log) == 2
    # listed: a (3: one collapsed), list (2), b (2), c, d, e, f (the jpg is filtered), not g/h (later)
    assert stats.listed == 11 and stats.duplicates == 1 and stats.stopped is None
    assert stats.quarantined == 3 and stats.failed == 0
    assert lines and "ETA" in lines[-1] and "landed" in lines[-1]
    conn = store.conn
    pages = dict(conn.execute("select url, count(*) from raw.pages where url like %s group by url",
                              (f"%{archive['s']}%",)).fetchall())
    assert pages[urls["a"]] == 2 and pages[urls["list"]] == 2 and pages[urls["b"]] == 2
    assert urls["c"] not in pages and urls["e"] not in pages        # quarantined from the CDX status
    cap = conn.execute("select captured_at, archive_digest from raw.pages where url = %s order by captured_at",
                       (urls["a"],)).fetchall()
    assert cap[0][0].isoformat() == "2020-12-19T08:30:00+00:00" and cap[0][1]
    q = dict(conn.execute("select url, reason from raw.quarantine where url like %s and resolved_at is null",
                          (f"%{archive['s']}%",)).fetchall())
    assert q == {urls["c"]: "redirect capture", urls["d"]: "truncated body", urls["e"]: "archived http 404"}
    arts = {r[0]: r[1:] for r in conn.execute(
        "select url, source, source_unit_id, title, body_text from raw.articles where url like %s",
        (f"%{archive['s']}%",)).fetchall()}
    assert set(arts) == {urls["a"], urls["b"], urls["f"]}
    assert "an toàn tuyệt đối" in arts[urls["a"]][3]                 # the newest capture's text
    assert arts[urls["b"]][2] == "Huyện Thử Nghiệm giao quân năm 2021"  # the 2022 capture, read with the
    assert "đạt chỉ tiêu" in arts[urls["b"]][3]                        # 2022 period's title selector
    assert {a[0] for a in arts.values()} == {district.name} and {a[1] for a in arts.values()} == {"38.395"}
    assert took < 15
    # a rerun asks the archive nothing: the window is listed and every capture is done
    arc.log.clear()
    again = backfill(district, archive["entries"], store, archive["registry"])
    assert arc.log == [] and again.todo == 0
    # widening the window lists only the new days
    assert unlisted_ranges(conn, district, date(2019, 1, 1), date(2025, 6, 30)) == []


def test_attribution_by_publication_date(archive, store):
    commune, urls = archive["commune"], archive["urls"]
    stats = backfill(commune, archive["entries"], store, archive["registry"])
    assert stats.listed == 2
    rows = dict((r[0], r[1:]) for r in store.conn.execute(
        "select url, source, source_unit_id from raw.articles where url = any(%s)",
        ([urls["g"], urls["h"]],)).fetchall())
    # published 20 June 2025, captured in July: the district's; published in August: the commune's
    assert rows[urls["g"]] == (archive["district"].name, "38.395")
    assert rows[urls["h"]] == (commune.name, "38.15499")


def test_429_streak_stops_the_run_and_a_rerun_resumes(archive, store):
    arc, district = archive["arc"], archive["district"]
    settings = settings_from_env()
    settings.max_429 = 1              # the first 429 stops the run
    arc.rate_limit_after = 3
    first = backfill(district, archive["entries"], store, archive["registry"], settings=settings)
    assert first.stopped and "429" in first.stopped
    ordered = sorted(arc.log, key=lambda r: r["start"])
    assert ordered[-1]["status"] == 429                      # nothing was sent after it
    arc.rate_limit_after = None
    second = backfill(district, archive["entries"], store, archive["registry"], settings=settings)
    assert second.stopped is None and second.todo == first.todo - first.fetched - first.quarantined - first.duplicates
    n = store.conn.execute("select count(*) from raw.articles where source = %s", (district.name,)).fetchone()[0]
    assert n == 3


def test_kill_and_rerun_lands_nothing_twice(archive, store, warehouse_url):
    arc, district = archive["arc"], archive["district"]
    env = {**os.environ, "QPAN_ARCHIVE_RATE": "300"}        # 0.2 s apart: time to kill it mid-way
    proc = subprocess.Popen([str(Path(sys.executable).parent / "qpan"), "sources", "backfill", district.name, "--archive",
                             "--sources", str(archive["path"]), "--allow-faster"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90  # the CLI's start-up on a loaded machine
    while time.monotonic() < deadline:
        done = store.conn.execute("select count(*) from raw.archive_captures where archive_source = %s "
                                  "and state <> 'listed'", (district.name,)).fetchone()[0]
        if done >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert 3 <= done < 11, "killed mid-way"
    replays_before = [r["path"] for r in arc.log if r["path"].startswith("/web/") and r["status"] == 200]
    stats = backfill(district, archive["entries"], store, archive["registry"])
    assert stats.stopped is None
    replays_after = [r["path"] for r in arc.log if r["path"].startswith("/web/") and r["status"] == 200]
    # at most the capture in flight at the kill is asked twice; none landed twice
    assert len(replays_after) - len(set(replays_after)) <= 1
    assert len(replays_before) >= 2
    conn = store.conn
    assert conn.execute("select count(*) from raw.articles where source = %s", (district.name,)).fetchone()[0] == 3
    pages = conn.execute("select count(*), count(distinct (url, sha256)) from raw.pages where url like %s",
                         (f"%{archive['s']}%",)).fetchone()
    assert pages == (7, 7)  # a x2, list x2, b x2, f: each distinct body once
    states = dict(conn.execute("select state, count(*) from raw.archive_captures where archive_source = %s "
                               "group by state", (district.name,)).fetchall())
    assert states == {"landed": 7, "duplicate": 1, "quarantined": 3}


def test_status_shows_archive_sources(archive, store):
    from qpan.health.cli import latest_status

    backfill(archive["district"], archive["entries"], store, archive["registry"])
    rows = {r["source"]: r for r in latest_status()}
    assert rows[archive["district"].name]["articles_landed"] == 3
    from scrapers.archive_cli import archive_progress

    line = next(ln for ln in archive_progress(store.conn).splitlines() if ln.startswith(archive["district"].name))
    assert line.split()[1:6] == ["11", "7", "3", "1", "0"]   # listed, landed, quarantined, duplicates, to fetch


def test_default_settings_never_touch_the_archive():
    """`make run` uses the sample registry: no archive entries, so no archive traffic on that path."""
    reg, entries = load_archives(REPO / "scrapers" / "sample_sources.yml")
    assert entries == []
    assert ArchiveSettings().rate_per_minute == 24


def test_list_only_asks_the_cdx_alone(archive, store):
    stats = backfill(archive["district"], archive["entries"], store, archive["registry"], list_only=True)
    assert stats.todo == 11 and stats.fetched == 0
    assert [r["path"][:16] for r in archive["arc"].log] == ["/cdx/search/cdx?"]


def test_dag_param_and_cli_refuse_an_unknown_archive_source(tmp_path, capsys):
    from qpan.cli import main
    from scrapers.archive_cli import archive_source_names

    path = tmp_path / "sources.yml"
    path.write_text(REGISTRY.format(s="k", host="k.thanhhoa.gov.vn"), encoding="utf-8")
    assert archive_source_names(str(path), "district_k") == ["district_k"]
    with pytest.raises(KeyError, match="district_k, commune_k|commune_k, district_k"):
        archive_source_names(str(path), "live_k")            # a live source is not an archive source
    assert main(["sources", "backfill", "nope", "--archive", "--sources", str(path)]) == 2
    assert "unknown archive source 'nope'" in capsys.readouterr().err
    assert main(["sources", "backfill", "district_k", "--sources", str(path)]) == 2   # --archive is required


def test_a_live_copy_and_an_archived_copy_are_one_article(archive, store):
    from qpan.landing.store import ParsedArticle

    urls, s = archive["urls"], archive["s"]
    live = ParsedArticle(source=f"live_{s}", url=urls["a"], title="Bản trực tiếp của bài tổng kết quốc phòng",
                         body_text="Nội dung bài viết lấy trực tiếp từ cổng thông tin.", published_at=None,
                         template="thanhhoa_portal", source_unit_id="38.395")
    store.save_article(live)
    backfill(archive["district"], archive["entries"], store, archive["registry"])
    rows = store.conn.execute("select source, title from raw.articles where url = %s", (urls["a"],)).fetchall()
    assert rows == [(f"live_{s}", live.title)]              # one article: the live copy stays it
    pages = store.conn.execute("select count(*) from raw.pages where url = %s and captured_at is not null",
                               (urls["a"],)).fetchone()[0]
    assert pages == 2                                        # the archived bodies are kept beside it

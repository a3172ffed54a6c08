"""Archived articles in the marts (issue 30): captures backfilled from a local archive go through
the real extraction step, landing gate, one dbt build, candidate gate and publish, and count for
the unit and year they are about, like live articles; several captures of one article are one."""
from __future__ import annotations

import uuid

import pytest

from qpan.core import config, db
from qpan.gate import validate as gate
from qpan.ingest import extraction as pipeline
from qpan.gate import publish
from qpan.transform import warehouse
from qpan.landing.store import PostgresStore
from scrapers import fixtures_build as fb
from scrapers.archive import backfill, settings_from_env
from scrapers.archive_registry import load_archives
from scrapers.archive_server import ArchiveServer

pytestmark = pytest.mark.slow

S = uuid.uuid4().hex[:6]
HOST = f"m{S}.thanhhoa.gov.vn"
REGISTRY = f"""
user_agent: "qpan-test/0.1 (+https://example.org/qpan)"
allowed_hosts: ["*.thanhhoa.gov.vn"]
sources:
  - {{name: live_{S}, template: thanhhoa_portal, base_url: "https://{HOST}/", unit_id: "38.395",
     discovery: {{list_pages: [{{url: /portal/KenhTin/Quoc-phong-an-ninh.aspx}}]}}}}
archives:
  - {{name: district_{S}, prefix: "{HOST}/", from: 2019-01-01, to: 2025-06-30, unit_id: "38.395",
     valid_to: 2025-06-30}}
  - {{name: commune_{S}, prefix: "{HOST}/", from: 2025-07-01, to: 2025-12-31, unit_id: "38.15499",
     valid_from: 2025-07-01, templates: [{{template: thanhhoa_portal, selectors: {{title: [".tieu-de"]}}}}]}}
"""
SITE = ("Cổng thông tin điện tử huyện Thử Nghiệm - Thanh Hóa", "THỬ NGHIỆM - ĐOÀN KẾT, PHÁT TRIỂN")


def _old(title, day, lead, paras):
    return fb.portal_old_article(title, f"08:30:00 {day}", "Quốc phòng - An ninh", lead, paras,
                                 "Phóng viên thử nghiệm", "Ảnh minh họa", site=SITE)


def _new(title, day, paras):
    return fb.portal_new_article(title, day, "Quốc phòng - An ninh", paras, "Phóng viên thử nghiệm",
                                 "Ảnh minh họa", changed=True)


@pytest.fixture(scope="module")
def published(warehouse_url, tmp_path_factory):
    path = tmp_path_factory.mktemp("archive") / "sources.yml"
    path.write_text(REGISTRY, encoding="utf-8")
    registry, entries = load_archives(path)
    review = f"http://{HOST}/portal/Pages/2020-12-18/Tong-ket-quoc-phong-2020-r1.aspx"
    text = ["Năm 2020, huyện đã giao 120 công dân nhập ngũ, đạt 100% chỉ tiêu; tổ chức 1 cuộc diễn tập.",
            "Năm 2021, huyện phấn đấu giao 125 công dân nhập ngũ."]
    title = "Hội nghị tổng kết công tác quốc phòng - an ninh năm 2020, triển khai nhiệm vụ năm 2021"
    lead = "Sáng 18/12, huyện tổ chức hội nghị tổng kết công tác quốc phòng - an ninh năm 2020."
    with ArchiveServer() as arc:
        arc.add(review, "20201219083000", _old(title, "18/12/2020", lead, text))
        arc.add(review, "20210501000000", _old(title, "18/12/2020", lead, text + ["Hội nghị khen thưởng tập thể."]))
        arc.add(f"http://{HOST}/portal/Pages/2025-6-20/So-ket-6-thang-s2.aspx", "20250720000000",
                _new("Huyện sơ kết công tác quốc phòng 6 tháng đầu năm", "20/06/2025",
                     ["Sáng 20/6, huyện sơ kết công tác quốc phòng - an ninh 6 tháng đầu năm 2025.",
                      "Các đơn vị đã hoàn thành kế hoạch huấn luyện dân quân và bảo đảm an ninh trật tự."]))
        arc.add(f"http://{HOST}/portal/Pages/2025-8-10/Xa-ra-quan-x3.aspx", "20250815000000",
                _new("Xã ra quân huấn luyện dân quân năm 2025", "10/08/2025",
                     ["Sáng 10/8, xã ra quân huấn luyện dân quân tự vệ năm 2025.",
                      "Lực lượng dân quân của xã được huấn luyện theo chương trình mới, an toàn tuyệt đối."]))
        settings = settings_from_env({"QPAN_ARCHIVE_URL": arc.base_url, "QPAN_ARCHIVE_RATE": "1200"},
                                     allow_faster=True)
        with PostgresStore() as store:
            for entry in entries:
                stats = backfill(entry, entries, store, registry, settings=settings)
                assert stats.stopped is None and stats.quarantined == 0
    pipeline.extract_pending()
    gate.run_landing_gate("issue30")
    warehouse.build()
    gate.run_candidate_gate("issue30")
    publish.publish("issue30")
    return warehouse_url


def _ask(sql, params=()):
    import psycopg

    with psycopg.connect(config.database_url("qpan_analyst"), autocommit=True, connect_timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def test_archived_articles_count_for_their_unit_and_year(published):
    with db.connect() as conn:
        assert conn.execute("select count(*) from raw.pages where url like %s", (f"%{S}%",)).fetchone()[0] == 4
        assert conn.execute("select count(*) from raw.articles where url like %s", (f"%{S}%",)).fetchone()[0] == 3
    rows = dict(((u, y), (n, rev)) for u, y, n, rev in _ask(
        "select unit_id, year, n_articles, has_year_end_review from marts.mart_reporting_coverage "
        "where (unit_id, year) in (('38.395', 2020), ('38.395', 2025))"))
    # two captures of the 2020 review: one article, the district's review of 2020
    assert rows[("38.395", 2020)] == (1, True)
    # published 20 June 2025, captured after the reform: still the district's; the commune's
    # article of August 2025 (attributed to 38.15499) is not counted for the district
    assert rows[("38.395", 2025)][0] == 1

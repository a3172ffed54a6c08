"""List pages are not articles, and an error page is quarantined as one (issue 17, item 10):
`qpan scrape` then `qpan reparse` as typed, over the sample portals served on real HTTP."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qpan.core import config
from scrapers.fixtures_build import NL_NAME, NL_SLOGAN, portal_chrome
from scrapers.registry import load_registry
from scrapers.discovery import discovery_urls
from scrapers.templates import ParseError, parse_article

BIN = Path(sys.executable).parent
SAMPLE = "scrapers/sample_sources.yml"


def qpan(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "qpan"), *args], cwd=config.REPO_ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.slow
def test_reparse_skips_list_pages_and_quarantines_nothing_new(portal, warehouse_url, admin_conn):
    scraped = qpan("scrape", "--sources", SAMPLE, "--only", "sample_baothanhhoa")
    assert scraped.returncode == 0, scraped.stderr[-3000:]
    source = load_registry(config.REPO_ROOT / SAMPLE).get("sample_baothanhhoa")
    list_pages = discovery_urls(source)
    fetched = {r[0] for r in admin_conn.execute("select url from raw.pages where source = 'sample_baothanhhoa'")}
    assert any("/thoi-su/trang-" in url for url in fetched & list_pages), fetched  # a later list page was kept
    before = admin_conn.execute("select count(*) from raw.quarantine where resolved_at is null").fetchone()[0]

    res = qpan("reparse", "--source", "sample_baothanhhoa")
    assert res.returncode == 0, res.stderr[-3000:]
    open_reasons = admin_conn.execute(
        "select url, reason from raw.quarantine where resolved_at is null and source = 'sample_baothanhhoa'").fetchall()
    assert not [url for url, _ in open_reasons if url in list_pages], open_reasons
    after = admin_conn.execute("select count(*) from raw.quarantine where resolved_at is null").fetchone()[0]
    assert after == before, open_reasons


def test_a_no_data_page_is_an_error_page_not_a_template_change():
    html = portal_chrome(NL_NAME, NL_SLOGAN, '<div class="news-detail"><div>Không có dữ liệu</div></div>', "Tin tức")
    with pytest.raises(ParseError) as err:
        parse_article("thanhhoa_portal", html, "http://127.0.0.3/portal/Pages/2024-1-2/Khong-co-a11b22.aspx",
                      source="sample_ngoclac")
    assert err.value.reason == "error page: no article", (err.value.reason, err.value.detail)

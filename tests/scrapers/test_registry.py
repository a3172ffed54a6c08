"""Registry validation refuses at start with file:line and the reason."""
from __future__ import annotations

import pytest

from scrapers.registry import RegistryError, load_registry

HEAD = """user_agent: "qpan-scraper/0.1 (+https://example.org/contact)"
allowed_hosts: ["*.thanhhoa.gov.vn", "baothanhhoa.vn"]
sources:
"""
OK = """  - name: thoxuan
    template: thanhhoa_portal
    base_url: https://thoxuan.thanhhoa.gov.vn/
    unit_id: "38.395"
    discovery:
      list_pages: [{url: /portal/KenhTin/A.aspx, pagination: "?Page={page}"}]
"""


def load(tmp_path, body):
    p = tmp_path / "s.yml"
    p.write_text(HEAD + body, encoding="utf-8")
    return p, load_registry(p)


def error(tmp_path, body) -> RegistryError:
    p = tmp_path / "s.yml"
    p.write_text(HEAD + body, encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_registry(p)
    assert str(e.value).startswith(f"{p}:{e.value.line}: ")
    return e.value


def test_valid_registry_loads(tmp_path):
    _, reg = load(tmp_path, OK)
    s = reg.get("thoxuan")
    assert s.unit_id == "38.395" and s.politeness.delay == 1.0 and s.politeness.concurrency == 1
    assert s.list_pages[0].page_url(2) == "https://thoxuan.thanhhoa.gov.vn/portal/KenhTin/A.aspx?Page=2"
    assert reg.user_agent.startswith("qpan-scraper")


def test_unknown_template_with_line(tmp_path):
    e = error(tmp_path, OK.replace("thanhhoa_portal", "sharepoint2007"))
    assert e.line == 5 and "unknown template 'sharepoint2007'" in e.reason


def test_duplicate_source_name_with_line(tmp_path):
    e = error(tmp_path, OK + OK)
    assert e.line == 10 and "duplicate source name 'thoxuan'" in e.reason


def test_host_outside_allow_list(tmp_path):
    e = error(tmp_path, OK.replace("https://thoxuan.thanhhoa.gov.vn/", "https://evil.example.com/"))
    assert e.line == 6 and "outside the allow-list" in e.reason
    e = error(tmp_path, OK.replace("url: /portal/KenhTin/A.aspx", "url: https://other.example.net/list"))
    assert e.line == 9 and "outside the allow-list" in e.reason


def test_loopback_needs_opt_in(tmp_path):
    body = OK.replace("https://thoxuan.thanhhoa.gov.vn/", "http://127.0.0.2:8765/")
    p = tmp_path / "s.yml"
    p.write_text(HEAD.replace('"baothanhhoa.vn"]', '"baothanhhoa.vn", "127.0.0.2"]') + body, encoding="utf-8")
    with pytest.raises(RegistryError) as e:
        load_registry(p)
    assert e.value.line == 6 and "allow_private" in e.value.reason
    p.write_text(HEAD.replace('"baothanhhoa.vn"]', '"baothanhhoa.vn", "127.0.0.2"]') + body + "    allow_private: true\n")
    assert load_registry(p).get("thoxuan").allow_private


def test_malformed_values(tmp_path):
    e = error(tmp_path, OK + "    politeness: {delay: fast}\n")
    assert e.line == 10 and "politeness.delay" in e.reason
    e = error(tmp_path, OK.replace('"38.395"', '"Thọ Xuân"'))
    assert e.line == 7 and "unit_id" in e.reason
    e = error(tmp_path, OK.replace('"?Page={page}"', '"?Page=2"'))
    assert "pagination" in e.reason
    e = error(tmp_path, OK + "    colour: blue\n")
    assert e.line == 10 and "unknown source key" in e.reason


def test_env_substitution(tmp_path, monkeypatch):
    monkeypatch.setenv("QPAN_T_HOST", "thoxuan.thanhhoa.gov.vn")
    _, reg = load(tmp_path, OK.replace("thoxuan.thanhhoa.gov.vn", "${QPAN_T_HOST}"))
    assert reg.get("thoxuan").host == "thoxuan.thanhhoa.gov.vn"
    e = error(tmp_path, OK.replace("thoxuan.thanhhoa.gov.vn", "${QPAN_T_UNSET_VAR}"))
    assert e.line == 6 and "QPAN_T_UNSET_VAR" in e.reason


def test_production_and_sample_registries_load(monkeypatch):
    from scrapers.registry import DEFAULT_SOURCES, SAMPLE_SOURCES

    prod = load_registry(DEFAULT_SOURCES)
    districts = [s for s in prod.sources if s.unit_id and s.unit_id.startswith("38.")]
    import csv
    from pathlib import Path

    gaz = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "admin_units.csv"
    with gaz.open(encoding="utf-8") as fh:
        expected = {r["unit_id"] for r in csv.DictReader(fh) if r["level"] == "district" and r["parent_id"] == "38"}
    assert {s.unit_id for s in districts} == expected and len(districts) == len(expected)
    assert not any(s.allow_private for s in prod.sources)
    assert {"thanhhoa", "baothanhhoa", "dangcongsan"} <= {s.name for s in prod.sources}
    assert prod.get("dangcongsan").unit_id is None and prod.get("thoxuan").unit_id == "38.395"
    assert "http" in prod.user_agent
    monkeypatch.setenv("QPAN_SAMPLE_PORT", "8799")
    sample = load_registry(SAMPLE_SOURCES)
    assert all(s.allow_private and s.base_url.endswith(":8799/") for s in sample.sources)
    assert len({s.host for s in sample.sources}) == len(sample.sources)

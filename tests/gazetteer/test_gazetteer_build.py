"""`qpan gazetteer build|diff` (issue 29): the seeds from the pinned vietnam-provinces wheel
(downloaded through the package index, hash-checked, read without importing) and the hand-kept
files; a changed package shows as a reviewed diff; the extractor follows the built seed."""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest

from qpan.core import config
from qpan.extract.engine import extract_article
from qpan.extract.gazetteer import default_gazetteer
from qpan.gazetteer import build as gbuild
from qpan.gazetteer import cli
from qpan.gazetteer.diff import diff_seeds
from qpan.gazetteer.fetch import pinned_wheel
from qpan.gazetteer.source import read_wheel

SEEDS = config.REPO_ROOT / "dbt_project" / "seeds"
SHARED_GAZETTEER = config.SHARED_DIR / "domain" / "admin_units.csv"
NEW_COMMUNE = {"name": "Xã Thanh Lâm Nam", "code": 99991, "codename": "xa_thanh_lam_nam",
               "division_type": "xã", "short_codename": "thanh_lam_nam"}


@pytest.fixture(scope="module")
def wheel() -> Path:
    return pinned_wheel()


@pytest.fixture(scope="module")
def data(wheel):
    return read_wheel(wheel)


@pytest.fixture(scope="module")
def built(data):
    return gbuild.build(data, gbuild.load_history(), gbuild.load_amendments())


@pytest.fixture(scope="module")
def upgraded(wheel, tmp_path_factory):
    """(wheel, build) of a later release made here from the pinned one."""
    path = _upgraded_wheel(wheel, tmp_path_factory.mktemp("upgraded"))
    return path, gbuild.build(read_wheel(path), gbuild.load_history(), gbuild.load_amendments())


def _qpan(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qpan.cli", "gazetteer", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def _upgraded_wheel(wheel: Path, out_dir: Path) -> Path:
    """A copy of the wheel as a later release might be: a new commune in Thanh Hóa, xã Hà Long
    renamed, xã Lĩnh Toại gone (merged)."""
    out = out_dir / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith("data/nested-divisions.json"):
                provinces = json.loads(data)
                thanh_hoa = next(p for p in provinces if p["code"] == 38)
                for ward in thanh_hoa["wards"]:
                    if ward["code"] == 15274:
                        ward["name"] = "Xã Hà Long Sơn"
                thanh_hoa["wards"] = [w for w in thanh_hoa["wards"] if w["code"] != 15298] + [NEW_COMMUNE]
                data = json.dumps(provinces, ensure_ascii=False).encode("utf-8")
            if item.filename.endswith("_ward_conversion_2025.py"):
                # the old communes that made xã Lĩnh Toại now go to xã Hà Long (Sơn)
                data = data.replace(b"NewWardRef(15298, 38)", b"NewWardRef(15274, 38)")
            dst.writestr(item, data)
    return out


def test_the_build_reproduces_the_committed_seeds_byte_for_byte(tmp_path, wheel):
    done = _qpan("build", "--seeds-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for name in ("admin_units.csv", "admin_unit_lineage.csv"):
        assert (tmp_path / name).read_bytes() == (SEEDS / name).read_bytes(), name


def test_every_unit_of_the_shared_gazetteer_keeps_its_id_and_validity():
    def versions(path):
        with open(path, newline="", encoding="utf-8") as fh:
            return {(r["unit_id"], r["valid_from"], r["valid_to"]) for r in csv.DictReader(fh)}

    shared, seed = versions(SHARED_GAZETTEER), versions(SEEDS / "admin_units.csv")
    assert shared - seed == set()
    assert seed - shared == set()


def test_the_thanh_hoa_divided_communes_are_partial(built):
    lineage = {(r["old_unit_id"], r["new_unit_id"]): r["is_partial"] for r in built.lineage}
    for old, news in {"38.392.15271": ("38.15271", "38.15286"),   # thị trấn Hà Trung
                      "38.392.15328": ("38.15271", "38.15286"),   # xã Hà Bình
                      "38.398.15772": ("38.15772", "38.15796", "38.15835")}.items():  # thị trấn Thiệu Hóa
        assert sorted(n for (o, n) in lineage if o == old) == list(news)
        assert all(lineage[(old, n)] == "true" for n in news)
    assert lineage[("38.392.15304", "38.15271")] == "false"  # xã Hà Ngọc went whole into xã Hà Trung


def test_the_diff_shows_what_an_upgraded_package_changes(built, upgraded, capsys):
    committed = gbuild.read_seed(SEEDS / "admin_units.csv")
    assert diff_seeds(committed, built.units).empty
    assert cli.cmd_diff(argparse.Namespace(wheel=upgraded[0], seeds_dir=str(SEEDS))) == 0
    out = capsys.readouterr().out
    assert out.startswith("added 1, retired 0, renamed 1, moved 0, gone from the source 1, other changes 1;")
    assert "+ added    38.99991 xã Thanh Lâm Nam (commune, from 2025-07-01)" in out
    assert "~ renamed  38.15274 xã Hà Long (commune, from 2025-07-01) -> xã Hà Long Sơn" in out
    assert "! gone     38.15298 xã Lĩnh Toại (commune, from 2025-07-01)" in out
    # the diff only reads: the committed seed is left as it was
    assert gbuild.read_seed(SEEDS / "admin_units.csv") == committed


def test_an_amendment_the_package_no_longer_matches_stops_the_build(data):
    stale = gbuild.Amendment("current", "38.15274", "name", "Hà Long (old spelling)", "Hà Long")
    with pytest.raises(gbuild.StaleAmendment, match="review it"):
        gbuild.build(data, gbuild.load_history(), [*gbuild.load_amendments(), stale])


def test_the_extractor_resolves_a_unit_the_package_added_after_a_build(tmp_path, upgraded):
    """No code change: the seed built from the upgraded package is what the extractor reads."""
    seed = tmp_path / "admin_units.csv"
    seed.write_text(gbuild.to_csv(upgraded[1].units, gbuild.COLUMNS), encoding="utf-8", newline="")
    title = "Xã Thanh Lâm Nam giao quân năm 2027"
    body = ("Sáng 20/2/2027, xã Thanh Lâm Nam tổ chức lễ giao nhận quân. Xã Thanh Lâm Nam đã giao 25 công dân "
            "nhập ngũ, đạt 100% chỉ tiêu.")

    def units_of_facts() -> set[str]:
        default_gazetteer.cache_clear()
        return {f.unit_id for f in extract_article(title, body, published_at=date(2027, 2, 20))}

    assert "38.99991" not in units_of_facts()     # the committed seed does not know it
    os.environ["QPAN_GAZETTEER_SEED"] = str(seed)
    try:
        assert "38.99991" in units_of_facts()
    finally:
        del os.environ["QPAN_GAZETTEER_SEED"]
        default_gazetteer.cache_clear()


def test_the_diff_of_two_seed_versions_names_each_kind_of_change():
    row = dict(unit_id="38.1", level="commune", type="xã", name="A", aliases="", parent_id="38",
               valid_from="2025-07-01", valid_to="", successor_id="")
    old = [row, {**row, "unit_id": "38.2", "name": "B"}, {**row, "unit_id": "38.3"}]
    new = [{**row, "valid_to": "2026-04-29"}, {**row, "unit_id": "38.2", "name": "B2"},
           {**row, "unit_id": "38.3", "parent_id": "37"}, {**row, "unit_id": "38.4"}]
    d = diff_seeds(old, new)
    assert [r["unit_id"] for r in d.added] == ["38.4"]
    assert [a["unit_id"] for a, _ in d.retired] == ["38.1"]
    assert [a["unit_id"] for a, _ in d.renamed] == ["38.2"]
    assert [a["unit_id"] for a, _ in d.moved] == ["38.3"]
    assert d.gone == [] and not d.empty

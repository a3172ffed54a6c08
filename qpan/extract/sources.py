"""The source prior: which unit an article's publisher stands for, from its URL.

A provincial newspaper's "toàn tỉnh" is its province; a district portal's "huyện" is its
district. The prior is read off the host name, as data:
- `source_hosts.csv`: hosts whose name does not say the place (or says one that is not the
  publisher's) -> unit_id, or an empty unit for national outlets and aggregators (no prior).
  Units are written as they were before the 2025 reform; a unit that no longer exists at
  the article's date is followed to its successor (Báo Gia Lai 2026 -> the new Gia Lai).
- any other host is matched against the gazetteer's names written as host labels are
  (no diacritics, no spaces: "Thọ Xuân" -> "thoxuan"):
  * government hosts, right to left: `<district>.<province>.gov.vn`,
    `<commune>.<district>.<province>.gov.vn`, `<commune>.<province>.gov.vn` (after the
    reform), `<district>.gov.vn` when the name is unique in the country;
  * newspaper, TV and portal hosts named after a province or a district: `bao<province>`,
    `truyenhinh<province>`, `<province>tv`, `trungtamvanhoa<province>`, `<district>.vn`.
"""
from __future__ import annotations

import csv
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from .gazetteer import Gazetteer, Unit, default_gazetteer
from .normalize import strip_diacritics

HOSTS_PATH = Path(__file__).with_name("source_hosts.csv")

# Words around a place name in a publisher's host label: "baothanhhoa", "bacninhtv".
_LABEL_PREFIXES = ("truyenhinh", "trungtamvanhoa", "congthongtin", "ptth", "bao", "dai", "tv", "cand", "cong")
_LABEL_SUFFIXES = ("online", "news", "tv", "rtv", "portal")
_IP_RE = re.compile(r"[\d.]+|\[?[0-9a-f:]+\]?")
_IGNORED_LABELS = {"www", "m", "demo", "mobile", "amp", "en", "vn", "com", "org", "net", "gov", "edu", "info"}


_NOT_SLUG_RE = re.compile(r"[^a-z0-9]")


def slug(name: str) -> str:
    """A place name as host labels write it: "Thọ Xuân" -> "thoxuan"."""
    return _NOT_SLUG_RE.sub("", strip_diacritics(name).lower())


class HostIndex:
    def __init__(self, gaz: Gazetteer, table: dict[str, str | None]):
        self.gaz = gaz
        self.table = table
        self.provinces: dict[str, list[Unit]] = {}
        self.children: dict[tuple[str, str], list[Unit]] = {}  # (parent unit_id, slug) -> units
        self.districts: dict[str, list[Unit]] = {}
        slugs: dict[str, str] = {}  # many units share a name (versions, namesakes): each slugged once
        for u in gaz.units:
            s = slugs.get(u.name)
            if s is None:
                s = slugs[u.name] = slug(u.name)
            if not s:
                continue
            if u.level == "province":
                self.provinces.setdefault(s, []).append(u)
            else:
                province_id = u.unit_id.partition(".")[0]
                self.children.setdefault((u.parent_id or province_id, s), []).append(u)
                if u.parent_id != province_id:  # a commune: also under its province (post-reform hosts)
                    self.children.setdefault((province_id, s), []).append(u)
                if u.level == "district":
                    self.districts.setdefault(s, []).append(u)

    # -------------------------------------------------------------- resolution
    def _at(self, units: list[Unit], on: date | None) -> Unit | None:
        """The one unit of `units` at the date (following a merged unit to its successor)."""
        ids = {u.unit_id for u in units}
        if len(ids) != 1:
            valid = [u for u in units if u.valid_at(on)]
            ids = {u.unit_id for u in valid}
            if len(ids) != 1 and on is None:
                # no date: a portal named after a district is the district's (the commune of
                # the same name after the reform is the later reading)
                top = min(u.unit_id.count(".") for u in valid)
                valid = [u for u in valid if u.unit_id.count(".") == top and u.level != "commune"] or valid
                ids = {u.unit_id for u in valid}
            if len(ids) != 1:
                return None
            units = valid
        return self._current(units[0].unit_id, on)

    def _current(self, unit_id: str, on: date | None) -> Unit | None:
        for _ in range(4):  # a short successor chain at most
            u = self.gaz.unit(unit_id, on)
            if u is None:
                return None
            if u.valid_at(on) or not u.successor_id:
                return u
            unit_id = u.successor_id
        return None

    def _province(self, label: str, on: date | None) -> Unit | None:
        units = self.provinces.get(label)
        return self._at(units, on) if units else None

    def _publisher_label(self, label: str, on: date | None) -> Unit | None:
        """A newspaper / TV / portal label naming a province or district ("baonghean")."""
        cands = [label]
        for p in _LABEL_PREFIXES:
            if label.startswith(p) and len(label) > len(p) + 3:
                cands.append(label[len(p):])
        for c in list(cands):
            for s in _LABEL_SUFFIXES:
                if c.endswith(s) and len(c) > len(s) + 3:
                    cands.append(c[: -len(s)])
        for c in cands:
            u = self._province(c, on)
            if u is not None:
                return u
        for c in cands:
            units = self.districts.get(c)
            if units and len({u.unit_id for u in units}) == 1:
                return self._current(units[0].unit_id, on)
        return None

    def unit_for_host(self, host: str, on: date | None) -> Unit | None:
        host = host.lower().strip(".").split(":")[0]
        for h in (host, host[4:] if host.startswith("www.") else host):
            if h in self.table:
                uid = self.table[h]
                return self._current(uid, on) if uid else None
        if _IP_RE.fullmatch(host):
            return None  # an address says nothing of a place ("127.0.0.1" is not Quận 1)
        # a label shorter than a place name's slug ("m", "1", "ttxvn") names no place
        labels = [x for x in host.split(".") if x and x not in _IGNORED_LABELS and len(x) >= 3 and not x.isdigit()]
        if not labels:
            return None
        if host.endswith(".gov.vn"):
            return self._government(labels, on)
        # a publisher's host: its first meaningful label names the place (if any)
        return self._publisher_label(labels[-1], on) if len(labels) == 1 else \
            self._publisher_label(labels[-1], on) or self._publisher_label(labels[0], on)

    def _government(self, labels: list[str], on: date | None) -> Unit | None:
        """Right to left: province, then district or commune under it, then commune."""
        labels = list(reversed(labels))
        unit = self._province(labels[0], on)
        rest = labels[1:]
        if unit is None:
            # "<district>.gov.vn": a district (or province) portal without the province label
            u = self._publisher_label(labels[0], on)
            if u is None:
                return None
            unit, rest = u, labels[1:]
        for label in rest:
            kids = self.children.get((unit.unit_id, label))
            if not kids:
                break  # a department's sub-site ("hoinongdan.thanhhoa"): the unit above
            direct = [k for k in kids if k.parent_id == unit.unit_id]  # a district before a commune of its name
            nxt = self._at(direct, on) if direct else None
            nxt = nxt or self._at(kids, on)
            if nxt is None:
                break
            unit = nxt
        return unit


def _read_table(path: Path) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            out[row["host"].strip().lower()] = (row.get("unit_id") or "").strip() or None
    return out


@lru_cache(maxsize=1)
def default_index() -> HostIndex:
    return HostIndex(default_gazetteer(), _read_table(HOSTS_PATH))


def unit_for_url(url: str | None, on: date | None = None) -> str | None:
    """The unit_id the URL's publisher stands for at date `on`, or None (no prior)."""
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return None
    u = default_index().unit_for_host(host, on) if host else None
    return u.unit_id if u else None

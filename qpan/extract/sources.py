"""The source prior: which unit an article's publisher stands for, from its URL.

A provincial newspaper's "toàn tỉnh" is its province; a district portal's "huyện" is its
district. Two ways to know it, both data:
- `source_hosts.csv`: a maintained table of hosts (newspapers, TV stations, portals whose
  name is not a place) -> unit, with the unit as it was before the 2025 reform; a unit
  that was merged is followed to its successor for articles dated after its end;
  national outlets are listed with no unit (no prior).
- government hosts named after places (`<district>.<province>.gov.vn`,
  `<commune>.<district>.<province>.gov.vn`, `<district>.gov.vn`), matched against the
  gazetteer's names with diacritics and spaces removed.
"""
from __future__ import annotations

from urllib.parse import urlsplit


def unit_for_url(url: str | None, on=None) -> str | None:
    """The unit_id the URL's publisher stands for, or None."""
    return None

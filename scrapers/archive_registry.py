"""Archive sources: the `archives:` entries of the registry (scrapers/sources.yml).

An archive entry names a host or URL prefix whose captures a web archive holds, the capture
window to list (`from`/`to`), the unit its pages are about while the entry is valid
(`valid_from`/`valid_to`: a host that served a district until 30 June 2025 and the commune of
the same name after it is two entries, one per period) and the template of each period of the
site (`templates:`, a portal that changed layout gets one item per period, with its own
`selectors:`). Validated like the live sources: file:line and reason on any error.

    archives:
      - name: thoxuan_archive
        prefix: thoxuan.thanhhoa.gov.vn/
        from: 2019-01-01
        to: 2025-06-30
        unit_id: "38.395"
        valid_to: 2025-06-30
        templates:
          - {template: thanhhoa_portal}
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from scrapers.registry import TEMPLATES, Registry, RegistryError, Relevance, load_registry

_KEYS = {"name", "prefix", "from", "to", "unit_id", "valid_from", "valid_to", "templates", "host_known",
         "description", "notes", "enabled"}
_PERIOD_KEYS = {"template", "from", "to", "selectors"}


@dataclass
class TemplatePeriod:
    template: str
    start: date | None = None
    end: date | None = None
    selectors: dict = field(default_factory=dict)

    def covers(self, day: date) -> bool:
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)


@dataclass
class ArchiveSource:
    name: str
    prefix: str            # host or URL prefix, without scheme (the CDX `url` with matchType=prefix)
    start: date            # capture window to list
    end: date
    unit_id: str | None
    valid_from: date | None
    valid_to: date | None
    templates: list[TemplatePeriod]
    relevance: Relevance
    host_known: bool = True
    enabled: bool = True
    line: int = 0

    @property
    def host(self) -> str:
        return self.prefix.split("/", 1)[0].lower()

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (self.valid_to is None or day <= self.valid_to)

    def period(self, day: date) -> TemplatePeriod | None:
        """The template in force on `day` (the capture's date)."""
        return next((p for p in self.templates if p.covers(day)), None)


def _plain(obj):
    """YAML values as plain str/list/dict (the loader's line-carrying subclasses are not accepted
    by the HTML parser's C extension)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return str(obj) if isinstance(obj, str) else obj


def _day(err, value, line, what) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise err(line, f"{what} must be a date YYYY-MM-DD, not {value!r}") from None


def archive_sources(registry: Registry) -> list[ArchiveSource]:
    """The registry's archive entries, validated (RegistryError with file:line otherwise)."""
    def err(line, reason):
        return RegistryError(registry.path, line, reason)

    live = {s.name for s in registry.sources}
    out: list[ArchiveSource] = []
    seen: set[str] = set()
    base_rel = registry.sources[0].relevance if registry.sources else Relevance([])
    lines = getattr(registry.archive_entries, "item_lines", [0] * len(registry.archive_entries))
    for entry, line in zip(registry.archive_entries, lines):
        if not isinstance(entry, dict):
            raise err(line, "an archive entry must be a mapping")
        kl = getattr(entry, "key_lines", {})
        for k in entry:
            if k not in _KEYS:
                raise err(kl.get(k, line), f"unknown archive key {k!r}")
        name = entry.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
            raise err(kl.get("name", line), "name must be lower-case letters, digits, _ . -")
        if name in seen or name in live:
            raise err(kl.get("name", line), f"duplicate source name {name!r}")
        seen.add(name)
        prefix = entry.get("prefix")
        prefix = str(prefix) if isinstance(prefix, str) else prefix
        if not isinstance(prefix, str) or "://" in prefix or not prefix.strip("/"):
            raise err(kl.get("prefix", line), "prefix must be a host or host/path, without scheme")
        host = prefix.split("/", 1)[0].lower()
        if not registry.host_allowed(host):
            raise err(kl.get("prefix", line), f"host {host!r} outside the allow-list")
        start = _day(err, entry.get("from"), kl.get("from", line), "from")
        end = _day(err, entry.get("to"), kl.get("to", line), "to")
        if start is None or end is None or end < start:
            raise err(line, "from and to are required, from <= to")
        periods = []
        for p in entry.get("templates") or [{"template": "thanhhoa_portal"}]:
            if not isinstance(p, dict) or set(p) - _PERIOD_KEYS:
                raise err(kl.get("templates", line), f"a template period has keys {sorted(_PERIOD_KEYS)}")
            if p.get("template") not in TEMPLATES:
                raise err(kl.get("templates", line), f"unknown template {p.get('template')!r}")
            # the registry's selectors of the template, then the period's own (a redesign's)
            selectors = _plain({**registry.templates.get(p["template"], {}), **dict(p.get("selectors") or {})})
            periods.append(TemplatePeriod(p["template"], _day(err, p.get("from"), line, "from"),
                                          _day(err, p.get("to"), line, "to"), selectors))
        unit = entry.get("unit_id")
        out.append(ArchiveSource(
            str(name), prefix, start, end, None if unit is None else str(unit),
            _day(err, entry.get("valid_from"), kl.get("valid_from", line), "valid_from"),
            _day(err, entry.get("valid_to"), kl.get("valid_to", line), "valid_to"),
            periods, base_rel, bool(entry.get("host_known", True)), bool(entry.get("enabled", True)), line))
    return out


def load_archives(path: str | Path) -> tuple[Registry, list[ArchiveSource]]:
    registry = load_registry(path)
    return registry, archive_sources(registry)


def attribute(entries: list[ArchiveSource], host: str, day: date) -> ArchiveSource | None:
    """The entry of `host` valid on `day`: a reused host name is a district before the reform
    and a commune after it, told apart by the date the page is about."""
    return next((e for e in entries if e.host == host and e.valid_on(day)), None)

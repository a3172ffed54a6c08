"""What a rebuild would change in the committed seed: units added, retired, renamed, moved.

Rows are unit versions keyed by (unit_id, valid_from). A version present in both with a
different name or type is renamed, with a different parent moved, with an end date it did
not have retired; a version only in the rebuild is added; one only in the committed seed
is gone from the source (keep it as a retired version in history.csv, with its last day).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SeedDiff:
    added: list[dict] = field(default_factory=list)
    gone: list[dict] = field(default_factory=list)
    retired: list[tuple[dict, dict]] = field(default_factory=list)
    renamed: list[tuple[dict, dict]] = field(default_factory=list)
    moved: list[tuple[dict, dict]] = field(default_factory=list)
    other: list[tuple[dict, dict]] = field(default_factory=list)
    lineage_added: int = 0
    lineage_removed: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.gone or self.retired or self.renamed or self.moved or self.other
                    or self.lineage_added or self.lineage_removed)


def _key(row: dict) -> tuple[str, str]:
    return (row["unit_id"], row["valid_from"])


def diff_seeds(committed: list[dict], rebuilt: list[dict],
               committed_lineage: list[dict] = (), rebuilt_lineage: list[dict] = ()) -> SeedDiff:
    old = {_key(r): r for r in committed}
    new = {_key(r): r for r in rebuilt}
    out = SeedDiff()
    out.added = [new[k] for k in new if k not in old]
    out.gone = [old[k] for k in old if k not in new]
    for k in old.keys() & new.keys():
        a, b = old[k], new[k]
        if a == b:
            continue
        if a["valid_to"] != b["valid_to"]:
            out.retired.append((a, b))
        if (a["type"], a["name"]) != (b["type"], b["name"]):
            out.renamed.append((a, b))
        if a["parent_id"] != b["parent_id"] or a["level"] != b["level"]:
            out.moved.append((a, b))
        if (a["aliases"], a["successor_id"]) != (b["aliases"], b["successor_id"]):
            out.other.append((a, b))
    for group in (out.added, out.gone):
        group.sort(key=_key)
    for pairs in (out.retired, out.renamed, out.moved, out.other):
        pairs.sort(key=lambda p: _key(p[0]))
    as_set = lambda rows: {tuple(sorted(r.items())) for r in rows}  # noqa: E731
    out.lineage_added = len(as_set(rebuilt_lineage) - as_set(committed_lineage))
    out.lineage_removed = len(as_set(committed_lineage) - as_set(rebuilt_lineage))
    return out


def _label(row: dict) -> str:
    since = row["valid_from"] or "first list"
    return f"{row['unit_id']} {row['type']} {row['name']} ({row['level']}, from {since})"


def render(d: SeedDiff) -> str:
    lines = [
        f"added {len(d.added)}, retired {len(d.retired)}, renamed {len(d.renamed)}, moved {len(d.moved)}, "
        f"gone from the source {len(d.gone)}, other changes {len(d.other)}; "
        f"lineage +{d.lineage_added} -{d.lineage_removed}"
    ]
    lines += [f"+ added    {_label(r)}" for r in d.added]
    lines += [f"- retired  {_label(a)}: valid to {b['valid_to'] or 'today'} (was {a['valid_to'] or 'open'})"
              for a, b in d.retired]
    lines += [f"~ renamed  {_label(a)} -> {b['type']} {b['name']}" for a, b in d.renamed]
    lines += [f"> moved    {_label(a)}: parent {a['parent_id'] or '-'} -> {b['parent_id'] or '-'}"
              for a, b in d.moved]
    lines += [f"! gone     {_label(r)}: no longer in the source (keep it in history.csv with its last day)"
              for r in d.gone]
    lines += [f"  changed  {_label(a)}: aliases {a['aliases']!r} -> {b['aliases']!r}, successor "
              f"{a['successor_id'] or '-'} -> {b['successor_id'] or '-'}" for a, b in d.other]
    return "\n".join(lines)

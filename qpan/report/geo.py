"""District boundaries for the report's maps (qpan.report.page): read from the GeoJSON file and
simplified as shared arcs, so that neighbours keep exactly the same border."""
from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qpan.report.data import GEOJSON

log = logging.getLogger("qpan.report.page")
# The boundaries file has ~16,000 points, far more than a 380-pixel map shows; each map
# inlines all of them. Simplifying each district on its own would open slivers between
# neighbours, so borders are simplified as shared arcs: a point where the set of districts
# owning it changes is a junction and is kept; between junctions, Douglas-Peucker runs on
# the arc in one canonical direction, so both neighbours get exactly the same border.
def _snap(ring: list, grid: float) -> list[tuple[int, int]]:
    """Integer grid coordinates, repeated points dropped, ring left open."""
    pts: list[tuple[int, int]] = []
    for x, y in ring:
        p = (round(x / grid), round(y / grid))
        if not pts or p != pts[-1]:
            pts.append(p)
    return pts[:-1] if len(pts) > 1 and pts[0] == pts[-1] else pts


def _douglas_peucker(points: list, tolerance: float) -> list:
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        (ax, ay), (bx, by) = points[i], points[j]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, index = 0.0, None
        for k in range(i + 1, j):
            px, py = points[k]
            d = abs(dx * (py - ay) - dy * (px - ax)) / norm if norm else math.hypot(px - ax, py - ay)
            if d > best:
                best, index = d, k
        if index is not None and best > tolerance:
            keep[index] = True
            stack += [(i, index), (index, j)]
    return [p for p, k in zip(points, keep) if k]


def _simplify_rings(rings: dict[Any, list], tolerance: float) -> dict[Any, list]:
    owners: dict[tuple, set] = defaultdict(set)
    for key, ring in rings.items():
        for p in ring:
            owners[p].add(key)
    out = {}
    for key, ring in rings.items():
        n = len(ring)
        fixed = [i for i in range(n) if len(owners[ring[i]]) > 2 or owners[ring[i]] != owners[ring[i - 1]]
                 or owners[ring[i]] != owners[ring[(i + 1) % n]]] or [0, n // 2]
        result: list = []
        for a, b in zip(fixed, fixed[1:] + [fixed[0] + n]):
            arc = [ring[k % n] for k in range(a, b + 1)]
            flip = arc[0] > arc[-1]  # canonical direction: the neighbour simplifies the same arc
            arc = _douglas_peucker(arc[::-1] if flip else arc, tolerance)
            result += (arc[::-1] if flip else arc)[:-1]
        out[key] = result if len(result) >= 3 else ring
    return out


def _signed_area(ring: list) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def _close(ring: list, grid: float, exterior: bool) -> list:
    """Back to degrees, closed, wound as d3-geo (used by Vega) wants: exterior rings clockwise,
    holes counter-clockwise; the other way round a district is drawn as the whole globe."""
    ring = [[round(x * grid, 6), round(y * grid, 6)] for x, y in ring + ring[:1]]
    return ring if (_signed_area(ring) < 0) == exterior else ring[::-1]


def _centroid(polygons: list) -> tuple[float, float]:
    """Centroid of the largest polygon's exterior ring, where a district's label goes."""
    ring = max((p[0] for p in polygons), key=lambda r: abs(_signed_area(r)))
    a = _signed_area(ring) or 1e-12
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / (6 * a)
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / (6 * a)
    return cx, cy


@dataclass
class District:
    unit_id: str
    name: str
    polygons: list  # MultiPolygon coordinates
    centroid: tuple[float, float]


def load_districts(path: Path = GEOJSON, grid: float = 0.0005, tolerance: float = 3) -> dict[str, District]:
    """District shapes from the boundaries file, simplified (grid in degrees, tolerance in grid
    steps: 0.0015 degrees, about a third of a pixel on the maps)."""
    if not path.exists():
        log.warning("report: no district boundaries at %s; maps skipped", path)
        return {}
    geo = json.loads(path.read_text(encoding="utf-8"))
    rings, names = {}, {}
    for feature in geo["features"]:
        props, geom = feature["properties"], feature["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        names[props["unit_id"]] = props.get("name") or props["unit_id"]
        for p, polygon in enumerate(polygons):
            for r, ring in enumerate(polygon):
                rings[(props["unit_id"], p, r)] = _snap(ring, grid)
    rings = _simplify_rings({k: v for k, v in rings.items() if len(v) >= 3}, tolerance)
    shapes: dict[str, dict[int, list]] = defaultdict(dict)
    for (unit_id, p, r), ring in sorted(rings.items()):
        if r == 0:
            shapes[unit_id][p] = [_close(ring, grid, exterior=True)]
        elif p in shapes[unit_id]:  # a hole whose exterior vanished goes with it
            shapes[unit_id][p].append(_close(ring, grid, exterior=False))
    return {u: District(u, names[u], list(polys.values()), _centroid(list(polys.values())))
            for u, polys in shapes.items()}

"""The report's "Review progress" panel (issue 18): how much of what is published a person has
checked (reviewed share per indicator and per district), the orphaned decisions, and the mark a
corrected or added figure carries in the facts tables."""
from __future__ import annotations

from typing import Any

from qpan.report.data import Warehouse, esc, fmt, indicator_name, table

REVIEWED = ("confirmed", "corrected", "added")
# Below this calibrated probability an unreviewed figure is marked uncertain (about one in three
# such figures is wrong); `qpan review list --below 0.7` lists them.
LOW_CONFIDENCE = 0.7


def figure_mark(fact: dict) -> str:
    """After a value: who changed it. A corrected figure shows the extractor's original."""
    status = fact.get("review_status")
    if status == "corrected":
        original = fmt(fact.get("value_original"))
        return (f' <span class="reviewed" title="corrected by a reviewer (qpan review); the extractor read '
                f'{esc(original)}">corrected (extractor: {esc(original)})</span>')
    if status == "added":
        return ' <span class="reviewed" title="a fact the extractor missed, added by a reviewer">added by review</span>'
    if status == "confirmed":
        return ' <span class="ok" title="confirmed by a reviewer">✓ reviewed</span>'
    confidence = fact.get("confidence")
    if confidence is not None and float(confidence) < LOW_CONFIDENCE:
        return (f' <span class="uncertain" title="the extractor gives this figure a {float(confidence):.0%} chance of '
                f'being right; check it (qpan review list --below {LOW_CONFIDENCE})">uncertain '
                f'({float(confidence):.0%})</span>')
    return ""


def _share(n: int, of: int) -> str:
    return f"{n}/{of} ({100 * n / of:.0f}%)" if of else "–"


def section(wh: Warehouse) -> str:
    by_indicator: dict[str, list[int]] = {}
    for f in wh.facts:
        counts = by_indicator.setdefault(f["indicator_code"], [0, 0, 0])
        counts[0] += 1
        counts[1] += f.get("review_status") in REVIEWED
        counts[2] += f.get("review_status") == "corrected"
    total = sum(c[0] for c in by_indicator.values())
    reviewed = sum(c[1] for c in by_indicator.values())
    indicator_rows = [[esc(indicator_name(wh, code)), _share(c[1], c[0]), str(c[2])]
                      for code, c in sorted(by_indicator.items())]
    by_district: dict[Any, list[int]] = {}
    for r in wh.district_year:
        counts = by_district.setdefault(r["unit_id"], [0, 0])
        counts[0] += r.get("n_indicators_reported") or 0
        counts[1] += r.get("n_indicators_reviewed") or 0
    district_rows = [[esc(wh.unit_names.get(u, u)), _share(c[1], c[0])]
                     for u, c in sorted(by_district.items(), key=lambda kv: str(kv[0])) if c[0]]
    orphans = [d for d in wh.review_decisions if d.get("is_orphaned")]
    orphan_html = ("<p class='ok'>No orphaned decisions.</p>" if not orphans else
                   f"<p class='bad'>{len(orphans)} decision(s) whose fact no longer exists (kept; "
                   "<code>qpan review list --orphans</code>):</p>"
                   + table(["decision", "indicator", "evidence", "article", "why"],
                           [[esc(d.get("decision")), esc(d.get("indicator_code")), f"<q>{esc(d.get('evidence'))}</q>",
                             esc(d.get("article_url")), esc(d.get("orphan_reason"))] for d in orphans]))
    body = (f"<p>{_share(reviewed, total)} published facts reviewed by a person (confirmed, corrected or added); "
            f"{len(wh.review_decisions)} reviewed facts in all. Corrected figures are marked in the tables below "
            "with the extractor's original. Review with <code>qpan review</code>.</p>"
            "<div class='grid'><div class='card'><h3>By indicator</h3>"
            + table(["indicator", "reviewed", "corrected"], indicator_rows, "num")
            + "</div><div class='card'><h3>By district (indicator-years)</h3>"
            + table(["district", "reviewed"], district_rows, "num") + "</div></div>" + orphan_html)
    return f'<section id="review"><h2>Review progress</h2>{body}</section>'

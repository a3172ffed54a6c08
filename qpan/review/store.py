"""Reading facts under review and recording decisions, as qpan_reviewer (reads facts, writes
review.decisions, nothing else). Decisions are only ever inserted: a new one supersedes the
previous one of the same review_key and the history stays."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from qpan.core import db
from qpan.review.catalog import (STATUS, ReviewError, check_indicator, check_period, check_unit, check_value,
                                 review_key)

ROLE = "qpan_reviewer"
COLUMNS = ("review_key", "article_url", "content_hash", "indicator", "span_start", "span_end", "evidence",
           "decision", "old_indicator", "old_value", "old_unit_id", "old_period", "new_indicator", "new_value",
           "new_value_type", "new_unit_id", "new_period", "note", "decided_by", "decided_at")

# The extractor's current mentions (each article's latest extractor version, as the marts count
# them) with their stable review key (stored at landing, indexed). Reads raw: a lookup works before any build.
CURRENT_MENTIONS = """
select m.review_key,
       m.article_id, a.url as article_url, a.content_hash, a.title, a.published_at, m.indicator, m.value, m.value_type,
       m.unit_id, m.period, m.evidence, m.span_start, m.span_end, m.confidence
from raw.indicator_mentions m
join raw.articles a on a.article_id = m.article_id
where m.extractor_version = (
    select latest.extractor_version from raw.indicator_mentions latest
    where latest.article_id = m.article_id
    order by latest.extracted_at desc, latest.extractor_version desc limit 1)
"""

CURRENT_DECISIONS = """
select distinct on (review_key) * from review.decisions
order by review_key, recorded_at desc, decision_id desc
"""


def connect() -> psycopg.Connection:
    return db.connect(ROLE, row_factory=dict_row)


@dataclass
class Decision:
    """One row of review.decisions, before it is written."""
    review_key: str
    article_url: str
    indicator: str
    span_start: int
    span_end: int
    evidence: str
    decision: str
    content_hash: str | None = None
    old: dict = field(default_factory=dict)   # indicator, value, unit_id, period
    new: dict = field(default_factory=dict)   # indicator, value, value_type, unit_id, period
    note: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    origin: dict = field(default_factory=dict)  # field → "given", "extractor", "previous correction" (not stored)

    def row(self) -> dict:
        return {
            "review_key": self.review_key, "article_url": self.article_url, "content_hash": self.content_hash,
            "indicator": self.indicator, "span_start": self.span_start, "span_end": self.span_end,
            "evidence": self.evidence, "decision": self.decision,
            **{f"old_{k}": self.old.get(k) for k in ("indicator", "value", "unit_id", "period")},
            **{f"new_{k}": self.new.get(k) for k in ("indicator", "value", "value_type", "unit_id", "period")},
            "note": self.note, "decided_by": self.decided_by, "decided_at": self.decided_at,
        }


def find_fact(conn: psycopg.Connection, key: str) -> dict:
    """The fact a FACT_ID names: the extractor's current mention, else the last decision on it
    (a rejected or added fact is in no mart). Unknown: a one-line error."""
    # the published mention's article first (an index), so a lookup does not hash every mention in raw
    published = conn.execute("select coalesce(has_table_privilege(to_regclass('marts.fct_indicator_mentions'), "
                             "'select'), false) as ok").fetchone()
    articles = [r["article_id"] for r in conn.execute(
        "select distinct article_id from marts.fct_indicator_mentions where review_key = %s", (key,))] \
        if published["ok"] else []
    row = conn.execute(f"select * from ({CURRENT_MENTIONS}) c where c.review_key = %s "
                       f"and (cardinality(%s::bigint[]) = 0 or c.article_id = any(%s::bigint[]))",
                       (key, articles, articles)).fetchone()
    if row:
        current = current_decision(conn, key)
        if current and current["decision"] != "reject" and current["new_indicator"]:
            row = {**row, "added": current_added(conn, key)}
        return {**row, "decision": current}
    current = current_decision(conn, key)
    if current is None:
        raise ReviewError(f"unknown fact id {key!r} (see `qpan review list`)")
    return {"review_key": key, "article_url": current["article_url"], "content_hash": current["content_hash"],
            "indicator": current["indicator"], "span_start": current["span_start"], "span_end": current["span_end"],
            "evidence": current["evidence"], "value": current["new_value"] if current["new_value"] is not None
            else current["old_value"], "value_type": current["new_value_type"],
            "unit_id": current["new_unit_id"] or current["old_unit_id"],
            "period": current["new_period"] or current["old_period"], "decision": current,
            "added": current_added(conn, key)}


def current_decision(conn: psycopg.Connection, key: str) -> dict | None:
    return conn.execute("select * from review.decisions where review_key = %s "
                        "order by recorded_at desc, decision_id desc limit 1", (key,)).fetchone()


def current_added(conn: psycopg.Connection, key: str) -> bool:
    return bool(conn.execute("select 1 from review.decisions where review_key = %s and decision = 'add'",
                             (key,)).fetchone())


def decide(conn: psycopg.Connection, key: str, decision: str, *, value=None, unit_id=None, period=None,
           indicator=None, note=None, by=None) -> Decision:
    """A confirm / correct / reject of the fact `key`, validated (nothing is written here)."""
    fact = find_fact(conn, key)
    previous = fact.get("decision")
    # what the fact says now (a correction of a corrected fact starts from the corrected values)
    now = {"indicator": fact["indicator"], "value": fact["value"], "unit_id": fact["unit_id"],
           "period": fact["period"]}
    kept_from = "extractor"
    if previous and previous["decision"] in ("correct", "add") and previous["new_indicator"]:
        now = {k: previous[f"new_{k}"] for k in ("indicator", "value", "unit_id", "period")}
        kept_from = "previous correction" if previous["decision"] == "correct" else "added fact"
    given = {"indicator": indicator, "value": value, "unit_id": unit_id, "period": period}
    # where each field of the recorded fact comes from, said by the command (nothing inherited silently)
    origin = {k: "given" if given[k] is not None else kept_from for k in given}
    new: dict = {}
    if decision == "correct":
        if value is None and unit_id is None and period is None and indicator is None:
            raise ReviewError("correct needs at least one of --value, --unit, --period, --indicator")
        if not note:
            raise ReviewError("correct needs --note (why the extractor was wrong)")
    if decision in ("confirm", "correct"):
        new_indicator = check_indicator(indicator or now["indicator"])
        new_period = period or now["period"]
        check_period(new_period)
        new_unit = unit_id or now["unit_id"]
        if new_unit is None:
            raise ReviewError("the fact has no unit: give --unit")
        check_unit(new_unit, new_period)
        new_value, value_type = check_value(new_indicator, value if value is not None else now["value"])
        new = {"indicator": new_indicator, "value": new_value, "value_type": value_type, "unit_id": new_unit,
               "period": new_period}
    if decision == "reject" and not note:
        raise ReviewError("reject needs --note (what the sentence really says)")
    old = {"indicator": fact["indicator"], "value": fact["value"], "unit_id": fact["unit_id"],
           "period": fact["period"]}
    return Decision(key, fact["article_url"], fact["indicator"], fact["span_start"], fact["span_end"],
                    fact["evidence"], decision, fact.get("content_hash"), old, new, note, by,
                    origin=origin if new else {})


def add(conn: psycopg.Connection, *, url: str, indicator: str, value, unit_id: str, period: str, evidence: str,
        note=None, by=None) -> Decision:
    """A fact the extractor missed: its evidence must be in the stored article (the span is found there)."""
    check_indicator(indicator)
    check_unit(unit_id, period)
    new_value, value_type = check_value(indicator, value)
    article = conn.execute("select url, title, body_text, content_hash from raw.articles where url = %s",
                           (url,)).fetchone()
    if article is None:
        raise ReviewError(f"no article with URL {url!r} in the warehouse")
    evidence = (evidence or "").strip()
    if not evidence:
        raise ReviewError("add needs --evidence (the sentence that states the fact)")
    # spans index title + newline + body, as the extractor's do
    start = (article["title"] + "\n" + article["body_text"]).find(evidence)
    if start < 0:
        raise ReviewError(f"the evidence {evidence[:60]!r} is not in the article's stored text")
    end = start + len(evidence)
    key = review_key(url, indicator, start, end)
    new = {"indicator": indicator, "value": new_value, "value_type": value_type, "unit_id": unit_id, "period": period}
    return Decision(key, url, indicator, start, end, evidence, "add", article["content_hash"], {}, new, note, by)


def _same_value(a, b) -> bool:
    """Stored values are text or numeric; a decision's are str/Decimal/bool: compare as text."""
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return str(a).lower() == str(b).lower()
    try:
        return Decimal(str(a)) == Decimal(str(b))
    except ArithmeticError:
        return str(a) == str(b)


def same_as_current(conn: psycopg.Connection, d: Decision) -> dict | None:
    """The fact's current decision when it already says exactly what `d` says (same decision, same
    new values, same note): recording `d` again would change nothing. Else None."""
    current = current_decision(conn, d.review_key)
    if current is None or current["decision"] != d.decision or current["note"] != d.note:
        return None
    row = d.row()
    if all(_same_value(current[f"new_{k}"], row[f"new_{k}"]) for k in ("indicator", "value", "unit_id", "period")):
        return current
    return None


def check_recordable(conn: psycopg.Connection, d: Decision, added_keys: frozenset = frozenset()) -> None:
    """The checks `qpan review confirm|correct|reject|add` make, for a decision read from elsewhere
    (a CSV row): the fact exists in the warehouse (a current mention, a previous decision, or an
    `add` in `added_keys`, e.g. earlier in the same file); an `add`'s evidence lies at its span in
    the stored article; correct and reject carry a note. A ReviewError says what is wrong."""
    if d.decision == "add":
        article = conn.execute("select title, body_text from raw.articles where url = %s",
                               (d.article_url,)).fetchone()
        if article is None:
            raise ReviewError(f"no article with URL {d.article_url!r} in the warehouse")
        text = article["title"] + "\n" + article["body_text"]
        if not 0 <= d.span_start < d.span_end <= len(text) or text[d.span_start:d.span_end] != d.evidence:
            where = "is not in the article's stored text" if d.evidence not in text else \
                f"is not at span {d.span_start}-{d.span_end} of the article's stored text"
            raise ReviewError(f"the evidence {d.evidence[:60]!r} {where}")
        return
    if d.review_key not in added_keys:
        find_fact(conn, d.review_key)  # unknown: "unknown fact id ..."
    if d.decision in ("correct", "reject") and not d.note:
        raise ReviewError(f"{d.decision} needs a note (why)")


def insert(conn: psycopg.Connection, decisions: list[Decision]) -> list[dict]:
    """Write the decisions in one transaction (all or nothing); return them as stored."""
    out = []
    with conn.transaction():
        for d in decisions:
            row = d.row()
            cols = [c for c in COLUMNS if row.get(c) is not None or c not in ("decided_by", "decided_at")]
            placeholders = ", ".join(f"%({c})s" for c in cols)
            stored = conn.execute(f"insert into review.decisions ({', '.join(cols)}) values ({placeholders}) "
                                  f"returning *", row).fetchone()
            out.append(stored)
    return out


def as_json(row: dict) -> dict:
    """A decision or fact row as JSON-ready values, with the review status."""
    out = {}
    for k, v in row.items():
        if isinstance(v, Decimal):
            v = float(v) if v != v.to_integral_value() else int(v)
        elif hasattr(v, "isoformat"):
            v = v.isoformat()
        out[k] = v
    if "decision" in out and isinstance(out["decision"], str):
        out["review_status"] = STATUS[out["decision"]]
    return out

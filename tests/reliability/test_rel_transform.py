"""Transform side, with one real dbt build shared by the module (in a database of its own):
hostile article text (SQL, HTML/JS, control characters) is landed verbatim and never executed,
reaches the marts as data, is escaped in the analyst report and absent from the dbt docs; a dbt
model failing mid-build publishes nothing (the marts keep their checksum); no password in dbt's
artefacts."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import pytest
from psycopg.types.json import Jsonb

from qpan.core import db
from qpan.transform import warehouse
from qpan.landing.store import ParsedArticle, PostgresStore
from leakscan import leaks
from helpers.relutil import scratch_database, secrets_of_every_role

pytestmark = pytest.mark.slow

SQL = "'); drop table raw.articles; --"
JS = "<script>alert(1)</script>"
CONTROL = "\x01\x07\x1b[31m\x7f"
HOSTILE_TITLE = f"Thọ Xuân tổng kết công tác quốc phòng {SQL} {JS}"
HOSTILE_BODY = (f"Năm 2023, huyện Thọ Xuân giao 226 công dân nhập ngũ, đạt 100% chỉ tiêu. {SQL}\n\n"
                f"Ghi chú {JS} và ký tự điều khiển {CONTROL} \"quoted\" \\backslash $1 %s %(x)s")
EVIDENCE = f"giao 226 công dân nhập ngũ {JS} {SQL}"
URL = "https://thoxuan.thanhhoa.gov.vn/bai-viet-hostile?q=%27);drop%20table%20x;--&<script>"


def marts_checksums(conn) -> dict[str, str]:
    tables = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
    return {t: conn.execute(f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) "
                            f"from marts.{t} t").fetchone()[0] for t in tables}


@pytest.fixture(scope="module")
def built(warehouse_url, tmp_path_factory):
    """A database of its own with the hostile article (landed through the crawler's store) and
    one fact from it, built once by dbt straight into `marts` (the published marts)."""
    target = tmp_path_factory.mktemp("dbt-target")
    previous_target = os.environ.get("DBT_TARGET_PATH")
    os.environ["DBT_TARGET_PATH"] = str(target)  # the repo's dbt_project/target is left alone
    try:
        with scratch_database():
            from qpan.extract import EXTRACTOR_VERSION

            with PostgresStore() as store:
                store.save_article(ParsedArticle(
                    source="rel_hostile", url=URL, title=HOSTILE_TITLE, body_text=HOSTILE_BODY,
                    published_at=datetime(2023, 12, 20, 2, tzinfo=timezone.utc), author=JS, lead=SQL,
                    captions=[JS, CONTROL], source_unit_id="38.395", template="thanhhoa_portal"))
            with db.connect(autocommit=True) as conn:
                article_id = conn.execute("select article_id from raw.articles where url = %s", (URL,)).fetchone()[0]
                conn.execute(
                    "insert into raw.indicator_mentions (article_id, extractor_version, indicator, value, value_type, "
                    "comparator, unit_id, period, qualifiers, evidence, span_start, span_end) values "
                    "(%s, %s, 'recruits_enlisted', 226, 'number', '=', '38.395', '2023', %s, %s, 0, %s)",
                    (article_id, EXTRACTOR_VERSION, Jsonb({"awarded_by": JS}), EVIDENCE, len(EVIDENCE)))
            warehouse.build(marts_schema="marts")
            with db.connect(autocommit=True) as conn:
                db.grant_analyst(conn)
            yield target
    finally:
        if previous_target is None:
            os.environ.pop("DBT_TARGET_PATH", None)
        else:
            os.environ["DBT_TARGET_PATH"] = previous_target


def test_hostile_text_is_stored_verbatim_and_never_executed(built):
    with db.connect(autocommit=True) as conn:
        row = conn.execute("select title, body_text, author, lead, captions from raw.articles where url = %s",
                           (URL,)).fetchone()
        assert row == (HOSTILE_TITLE, HOSTILE_BODY, JS, SQL, [JS, CONTROL])  # byte for byte
        assert conn.execute("select to_regclass('raw.articles')").fetchone()[0] == "raw.articles"  # not dropped
        evidence = conn.execute("select evidence from marts.fct_indicator_mentions").fetchall()
        assert (EVIDENCE,) in evidence  # reached the marts as data, unchanged


def test_report_shows_hostile_text_escaped(built, tmp_path):
    from qpan.report import page as report

    page = report.build_report(tmp_path).read_text(encoding="utf-8")
    assert JS not in page and "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text
    assert "drop table raw.articles" in page


def test_dbt_docs_hold_no_article_text_and_no_password(built):
    warehouse.run_dbt(["docs", "generate"], marts_schema="marts")
    catalog = (built / "catalog.json").read_text(encoding="utf-8")
    manifest = (built / "manifest.json").read_text(encoding="utf-8")
    assert json.loads(catalog)["nodes"]  # the docs were generated
    for doc in (catalog, manifest):  # metadata only: the article's text never enters the docs
        assert "alert(1)" not in doc and "drop table raw.articles" not in doc
    assert leaks([built], secrets_of_every_role()) == []


def test_failing_model_publishes_nothing(built):
    with db.connect(autocommit=True) as conn:
        before = marts_checksums(conn)
        assert before and "fct_indicator_facts" in before
        dbname = conn.execute("select current_database()").fetchone()[0]
        conn.execute("revoke select on raw.articles from qpan_transformer")  # a model now fails mid-build
        try:
            with pytest.raises(warehouse.DbtError) as e:
                warehouse.build()  # into marts_candidate, as the transform DAG does
            assert any("permission denied for table articles" in f for f in e.value.failures), e.value.failures
            assert marts_checksums(conn) == before  # nothing published: the marts are unchanged
            published = conn.execute("select count(*) from audit.publish_log where published").fetchone()[0]
            assert published == 0
        finally:
            conn.execute("grant select on raw.articles to qpan_transformer")
    assert dbname.startswith("qpan_rel_")

"""The review loop end to end on a real warehouse: decisions recorded through `qpan review` as
qpan_reviewer reach the published marts after one qpan_transform run through Airflow (`--apply`),
survive a re-extraction with a bumped extractor version, a fresh warehouse and a full refresh,
orphans are reported (list, mart, GX), the CSV round trip is lossless and idempotent, roles hold,
bad input is refused in one line with nothing written.

One module warehouse and one Airflow run; the checks without dbt share them."""
from __future__ import annotations

import os

import psycopg
import pytest

from qpan.core import config, db
from qpan.gate import validate as gate
from qpan.transform import warehouse
from qpan.cli import main
from helpers import review_data as data

pytestmark = pytest.mark.slow

A = data.ARTICLES
K = {
    "ngoclac180": data.key("province", "recruits_enlisted", "huyện Ngọc Lặc giao 180 công dân"),
    "drills3": data.key("ngoclac", "drills_held", "tổ chức 3 cuộc diễn tập"),
    "health": data.key("thoxuan", "drills_held", "tổ chức 120 lượt khám sức khỏe"),
    "thoxuan226": data.key("thoxuan", "recruits_enlisted", "giao 226 công dân nhập ngũ"),
}
GONE = "https://gone.example.test/removed.html"
FIELDS = "fact_id,decision,article_url,indicator,span_start,span_end,evidence,new_value,new_unit_id,new_period,note"


def _as(role: str):
    return psycopg.connect(config.database_url(role), autocommit=True, connect_timeout=10)


def _n_decisions() -> int:
    with db.connect() as conn:
        return conn.execute("select count(*) from review.decisions").fetchone()[0]


def _facts(conn, schema: str = "marts") -> dict:
    rows = conn.execute(f"select indicator_code, unit_id, period, value, review_status, value_original "
                        f"from {schema}.fct_indicator_facts").fetchall()
    return {(r[0], r[1], r[2]): (float(r[3]), r[4], None if r[5] is None else float(r[5])) for r in rows}


REPORT = config.state_dir() / "report" / "index.html"


@pytest.fixture(scope="module")
def applied(warehouse_url, airflow_home, tmp_path_factory):
    """The sample articles, five decisions (one superseded) and an orphan, then `--apply`."""
    REPORT.unlink(missing_ok=True)
    with db.connect(autocommit=True) as conn:
        data.load(conn)
    orphan = tmp_path_factory.mktemp("csv") / "orphan.csv"
    # a decision of an exported history whose article is gone: imported only as a kept orphan
    orphan.write_text(f"{FIELDS},decided_at\n,confirm,{GONE},recruits_enlisted,0,10,0123456789,10,38.395,2023,"
                      f"gone page,2023-12-01T10:00:00+00:00\n")
    assert main(["review", "confirm", K["ngoclac180"], "--note", "the province's table agrees", "--by", "lan"]) == 0
    assert main(["review", "confirm", K["drills3"]]) == 0
    assert main(["review", "correct", K["drills3"], "--value", "4", "--note", "the table lists four drills"]) == 0
    assert main(["review", "reject", K["health"], "--note", "a health-check count, not drills"]) == 0
    assert main(["review", "import", str(orphan)]) == 1  # its fact is not in this warehouse
    assert main(["review", "import", str(orphan), "--keep-orphans"]) == 0
    assert main(["review", "add", "--url", A["thoxuan"]["url"], "--indicator", "militia_members", "--value", "1200",
                 "--unit", "38.395", "--period", "2023", "--evidence", "dân quân tự vệ có 1.200 đồng chí",
                 "--note", "missed by the extractor", "--apply"]) == 0
    return warehouse_url


def test_decisions_reach_the_published_marts_after_one_transform_run(applied):
    with _as("qpan_analyst") as conn:
        facts = _facts(conn)
        # confirmed: the reviewed 180 wins over the more recent, unreviewed 185
        assert facts[("recruits_enlisted", "38.389", "2023")] == (180.0, "confirmed", None)
        # corrected: the reviewer's value, the extractor's kept for lineage
        assert facts[("drills_held", "38.389", "2023")] == (4.0, "corrected", 3.0)
        # rejected: gone from every mart
        assert ("drills_held", "38.395", "2023") not in facts
        assert conn.execute("select count(*) from marts.fct_indicator_mentions where review_key = %s",
                            (K["health"],)).fetchone()[0] == 0
        # added: in with its evidence
        assert facts[("militia_members", "38.395", "2023")] == (1200.0, "added", None)
        assert conn.execute("select evidence, mention_id < 0 from marts.fct_indicator_mentions "
                            "where indicator_code = 'militia_members'").fetchone() == (
            "dân quân tự vệ có 1.200 đồng chí", True)
        assert facts[("recruits_enlisted", "38.395", "2023")][1] == "unreviewed"
        share = conn.execute("select reviewed_share from marts.fct_indicator_facts where indicator_code = "
                             "'recruits_enlisted' and unit_id = '38.389'").fetchone()[0]
        assert float(share) == 0.5  # 180 reviewed, 185 not
        rows = {r[0]: r[1:] for r in conn.execute(
            "select unit_id, drills_held, recruits_enlisted, militia_members, review_status, reviewed_share, "
            "corrected_indicators, added_indicators from marts.mart_district_year where year = 2023").fetchall()}
        assert rows["38.389"][:5] == (4, 180, None, "corrected", 1)
        assert rows["38.389"][5] == ["drills_held"]
        assert rows["38.395"][0] is None and rows["38.395"][2] == 1200
        assert rows["38.395"][3] == "added" and float(rows["38.395"][4]) == pytest.approx(1 / 3, abs=1e-3)
        assert rows["38.395"][6] == ["militia_members"]
        # the gate decided the publish, and checked the orphans against their threshold
        assert conn.execute("select published from audit.publish_log order by at desc limit 1").fetchone()[0]
        assert conn.execute("select success, observed_value from audit.validation_results "
                            "where suite = 'candidate__review_orphans'").fetchall() == [(True, "1")]
        orphaned = conn.execute("select article_url, orphan_reason from marts.mart_review_decisions "
                                "where is_orphaned").fetchall()
        assert orphaned == [(GONE, "article not in the warehouse")]
    with db.connect() as conn:  # nothing overwritten: the confirm before the correction stays
        history = conn.execute("select decision, decided_by = 'qpan_reviewer' from review.decisions "
                               "where review_key = %s order by decision_id", (K["drills3"],)).fetchall()
        assert history == [("confirm", True), ("correct", True)]
        assert conn.execute("select decided_by, db_role from review.decisions where review_key = %s",
                            (K["ngoclac180"],)).fetchone() == ("lan", "qpan_reviewer")


def test_apply_rewrites_the_report_from_the_marts_it_published(applied):
    """Issue 27, point 1: after `--apply` the report is the published marts' (as after `make run`)."""
    page = REPORT.read_text(encoding="utf-8")
    progress = page.split('id="review"', 1)[1].split("</section>", 1)[0]
    assert "corrected (extractor: 3)" in page and "added by review" in page and "Ngọc Lặc" in progress


def test_review_list_shows_what_to_decide_and_the_orphans(applied, capsys):
    import json

    assert main(["review", "list", "--json", "--year", "2023"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["has_conflict"] and all(r["has_conflict"] for r in listed[:2])  # conflicts first
    by_key = {r["fact_id"]: r for r in listed}
    row = by_key[K["thoxuan226"]]
    assert row["review_status"] == "unreviewed" and "226" in row["sentence"]
    assert row["title"] == A["thoxuan"]["title"] and row["url"] == A["thoxuan"]["url"]
    assert row["published_date"] == "2023-12-20"
    assert by_key[K["health"]]["review_status"] == "rejected-hidden"
    assert main(["review", "list", "--json", "--status", "corrected", "--unit", "38.389"]) == 0
    assert [r["fact_id"] for r in json.loads(capsys.readouterr().out)] == [K["drills3"]]
    assert main(["review", "list", "--orphans"]) == 0
    out = capsys.readouterr().out
    assert "ORPHANED" in out and GONE in out and "article not in the warehouse" in out


def test_reviewer_writes_only_reviews_and_analyst_cannot_review(applied):
    with _as("qpan_reviewer") as conn:
        for statement in ("insert into raw.articles (source, url, title, body_text, content_hash) "
                          "values ('x', 'http://x', 't', 'b', 'h')",
                          "delete from raw.indicator_mentions",
                          "delete from marts.fct_indicator_facts",
                          "update review.decisions set note = 'rewritten'",  # append-only
                          "create table review.mine (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        assert conn.execute("select count(*) from marts.fct_indicator_facts").fetchone()[0] > 0
    with _as("qpan_analyst") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into review.decisions (review_key, article_url, indicator, span_start, span_end, "
                          "evidence, decision) values ('k', 'u', 'i', 0, 1, 'e', 'reject')")


@pytest.mark.parametrize("argv, says", [
    (["confirm", "0000000000000000"], "unknown fact id '0000000000000000'"),
    (["correct", K["thoxuan226"], "--value", "two hundred", "--note", "n"], "is not a number"),
    (["correct", K["thoxuan226"], "--value", "226.5", "--note", "n"], "not a whole number"),
    (["correct", K["thoxuan226"], "--unit", "24.224", "--note", "n"], "unit 24.224 is not valid in 2023"),
    (["add", "--url", A["thoxuan"]["url"], "--indicator", "militia_members", "--value", "5", "--unit", "38.395",
      "--period", "2023", "--evidence", "not in the article"], "is not in the article's stored text"),
    # issue 27, point 5: a filter that names nothing is a typo, not "no facts match"; 1e3 is not a count
    (["list", "--indicator", "nope"], "unknown indicator 'nope'"),
    (["list", "--unit", "99.9"], "unknown unit '99.9'"),
    (["correct", K["thoxuan226"], "--value", "1e3", "--note", "n"], "'1e3' is not a number written out"),
])
def test_bad_input_is_one_line_and_writes_nothing(applied, capsys, argv, says):
    before = _n_decisions()
    assert main(["review", *argv]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("qpan review: error: ") and says in err and "\n" not in err
    assert _n_decisions() == before


def test_malformed_csv_row_is_named_and_nothing_is_imported(applied, tmp_path, capsys):
    good = f",confirm,{A['thoxuan']['url']},recruits_enlisted,0,5,aaaaa,226,38.395,2023,"
    for bad, says in ((f",confirm,{A['thoxuan']['url']},recruits_enlisted,0,5,aaaaa,lots,38.395,2023,",
                       "row 3: value 'lots' is not a number"),
                      (f",maybe,{A['thoxuan']['url']},recruits_enlisted,0,5,aaaaa,1,38.395,2023,",
                       "row 3: decision 'maybe'"),
                      (f",confirm,{A['thoxuan']['url']},recruits_enlisted,0,5", "row 3: wrong number of columns")):
        path = tmp_path / "bad.csv"
        path.write_text(f"{FIELDS}\n{good}\n{bad}\n")
        before = _n_decisions()
        assert main(["review", "import", str(path)]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("qpan review: error: ") and says in err and "\n" not in err, err
        assert _n_decisions() == before


def test_decisions_survive_reextraction_a_fresh_warehouse_and_full_refresh(applied, warehouse_factory, tmp_path,
                                                                         capsys):
    exported = tmp_path / "reviews.csv"
    assert main(["review", "export", str(exported)]) == 0
    with _as("qpan_analyst") as conn:
        before = _facts(conn)
    with warehouse_factory():
        # the same raw pages, re-extracted by a bumped extractor that no longer reads the health check
        with db.connect(autocommit=True) as conn:
            data.load(conn, version="rules-99-test", skip=("tổ chức 120 lượt khám sức khỏe",))
        assert main(["review", "import", str(exported), "--keep-orphans"]) == 0
        assert main(["review", "import", str(exported), "--json"]) == 0  # idempotent
        assert '"inserted": 0' in capsys.readouterr().out
        again = tmp_path / "again.csv"
        assert main(["review", "export", str(again)]) == 0
        assert again.read_text() == exported.read_text()  # lossless
        # `qpan build --full-refresh` without the data tests (the DAG run above ran them on these models)
        warehouse.run_dbt(["build", "--full-refresh", "--exclude", "resource_type:test"], marts_schema="marts")
        with db.connect() as conn:
            assert _facts(conn) == before
            orphaned = dict(conn.execute("select review_key, orphan_reason from marts.mart_review_decisions "
                                         "where is_orphaned").fetchall())
            assert orphaned[K["health"]] == "no mention at this span in the current extraction"
            # a re-extraction in place (another version, same spans) and a new decision: incremental
            article_id = conn.execute("select article_id from raw.articles where url = %s",
                                      (A["ngoclac"]["url"],)).fetchone()[0]
            data.extract(conn, article_id, A["ngoclac"], "rules-100-test")
            conn.commit()
        assert main(["review", "confirm", K["thoxuan226"]]) == 0
        warehouse.run_dbt(["build", "--exclude", "resource_type:test", "resource_type:seed"], marts_schema="marts")
        with db.connect() as conn:
            after = _facts(conn)
        assert after[("drills_held", "38.389", "2023")] == (4.0, "corrected", 3.0)
        assert after[("recruits_enlisted", "38.395", "2023")] == (226.0, "confirmed", None)
        assert {k: v for k, v in after.items() if k != ("recruits_enlisted", "38.395", "2023")} == {
            k: v for k, v in before.items() if k != ("recruits_enlisted", "38.395", "2023")}
        assert main(["review", "list", "--orphans", "--json"]) == 0
        assert K["health"] in capsys.readouterr().out
    # the orphan expectation's threshold (evaluated by the DAG's candidate gate above) is configurable
    os.environ["QPAN_GATE_MAX_ORPHANED_REVIEWS"] = "0"
    try:
        assert gate._parameters()["max_orphaned_reviews"] == 0
    finally:
        os.environ.pop("QPAN_GATE_MAX_ORPHANED_REVIEWS")


def test_report_shows_review_progress_and_marks_corrected_figures(applied, tmp_path):
    from qpan.report.page import build_report

    page = build_report(tmp_path).read_text()
    progress = page.split('id="review"', 1)[1].split("</section>", 1)[0]
    assert "Review progress" in page and "Ngọc Lặc" in progress and "2/2 (100%)" in progress  # its two values
    assert "article not in the warehouse" in progress and GONE in progress  # the orphan, reported
    assert "corrected (extractor: 3)" in page and "added by review" in page


def test_eval_scores_the_extractor_against_reviewed_facts(applied, capsys):
    import json

    assert main(["eval", "--gold-from-reviews", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    # gold: the confirmed 180, the corrected 4 drills, the added 1,200 militia (the orphan's article is gone)
    assert result["gold"] == 3 and result["articles"] == 3
    assert 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert {(m["indicator"], m["value"]) for m in result["misses"]} <= {
        ("recruits_enlisted", 180.0), ("drills_held", 4.0), ("militia_members", 1200.0)}
    assert main(["eval", "--gold-from-reviews"]) == 0
    assert "precision" in capsys.readouterr().out


def test_confidence_reaches_the_marts_and_review_list_filters_on_it(applied, capsys):
    import json

    with _as("qpan_analyst") as conn:
        confidence = {(r[0], r[1]): r[2] for r in conn.execute(
            "select indicator_code, unit_id, confidence from marts.fct_indicator_facts where period = '2023'")}
    with _as("qpan_analyst") as conn:
        extracted = {r[0] for r in conn.execute(
            "select confidence from marts.fct_indicator_mentions where indicator_code = 'recruits_enlisted' "
            "and unit_id = '38.395' and period = '2023'")}
    # unreviewed: the extractor's own probability, below certainty
    assert confidence[("recruits_enlisted", "38.395")] in extracted and confidence[("recruits_enlisted", "38.395")] < 1
    assert confidence[("drills_held", "38.389")] == 1.0  # corrected by a person
    assert confidence[("recruits_enlisted", "38.389")] == 1.0  # its value is the confirmed 180
    assert main(["review", "list", "--json", "--below", "0.95"]) == 0
    below = json.loads(capsys.readouterr().out)
    assert below and all(r["confidence"] < 0.95 for r in below)
    assert K["thoxuan226"] in {r["fact_id"] for r in below} and K["drills3"] not in {r["fact_id"] for r in below}
    assert main(["review", "list", "--json"]) == 0
    calm = [r["confidence"] for r in json.loads(capsys.readouterr().out)
            if not r["has_conflict"] and r["confidence"] is not None]
    assert calm == sorted(calm)  # uncertain first


def test_train_reads_the_review_decisions_of_the_warehouse(applied, tmp_path, capsys):
    import json


    from qpan.review.gold import warehouse_reviews

    decisions, articles = warehouse_reviews()
    assert {d["decision"] for d in decisions} == {"confirm", "correct", "reject", "add"}
    assert set(articles) == {d["article_url"] for d in decisions} - {GONE}
    # a two-article corpus of our own beside the decisions (the shared corpus would only cost time)
    corpus = tmp_path / "corpus"
    (corpus / "texts").mkdir(parents=True)
    for name, district, unit in (("t1", "Nông Cống", "38.404"), ("t2", "Nga Sơn", "38.401")):
        (corpus / "texts" / f"{name}.txt").write_text(
            f"Huyện {district} tổng kết năm 2025\nNăm 2025, huyện {district} giao 150 công dân nhập ngũ. "
            f"Huyện tổ chức 6 cuộc diễn tập chiến đấu trị an.\n")
        with open(corpus / "gold.jsonl", "a") as f:
            f.write(json.dumps({"doc": f"{name}.txt", "indicator": "recruits_enlisted", "value": 150,
                                "unit_id": unit, "period": "2025"}) + "\n")
    out = tmp_path / "scorer.json"
    assert main(["extract", "train", "--corpus", str(corpus), "--output", str(out)]) == 0
    assert f"from 2 corpus documents and {len(decisions)} review decisions" in capsys.readouterr().out
    model = json.loads(out.read_text())
    assert model["inputs"]["review_decisions"] == len(decisions) and model["fit"]["wrong"] >= 2


# -- issue 27, points 5 and 6 (last in the module: they record decisions the tests above do not expect)
def test_review_list_names_units_and_indicators_and_shows_rejected_and_pending_facts(applied, capsys):
    import json

    assert main(["review", "list", "--unit", "38.395", "--year", "2023"]) == 0
    out = capsys.readouterr().out
    assert "huyện Thọ Xuân (38.395)" in out and "(Citizens enlisted" in out, out
    assert main(["review", "list", "--status", "rejected-hidden"]) == 0
    out = capsys.readouterr().out
    assert K["health"] in out and "None" not in out, out
    assert "rejected-hidden by qpan_reviewer: a health-check count, not drills" in out, out
    # an added fact is listed (as pending) before the next transform builds it
    assert main(["review", "add", "--url", A["ngoclac"]["url"], "--indicator", "recruits_enlisted", "--value", "185",
                 "--unit", "38.389", "--period", "2023", "--evidence", "với 185 tân binh"]) == 0
    capsys.readouterr()
    assert main(["review", "list", "--status", "added", "--json"]) == 0
    added = {r["indicator"]: r for r in json.loads(capsys.readouterr().out)}
    assert added["militia_members"]["pending"] is False  # applied by the fixture's run
    assert added["recruits_enlisted"]["pending"] is True and added["recruits_enlisted"]["value"] == 185
    assert added["recruits_enlisted"]["unit_name"] == "huyện Ngọc Lặc"
    assert main(["review", "list", "--status", "added"]) == 0
    assert "[added, pending the next qpan_transform run]" in capsys.readouterr().out


def test_a_second_correction_says_where_each_field_comes_from(applied, capsys):
    import json

    key = K["thoxuan226"]
    assert main(["review", "correct", key, "--unit", "38.389", "--note", "the wrong district"]) == 0
    first = capsys.readouterr().out
    assert "unit_id given; indicator, value, period from the extractor" in first, first
    assert main(["review", "correct", key, "--value", "225", "--note", "a typo", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    # the first correction's unit is kept, and the command says so
    assert second["new_unit_id"] == "38.389" and second["new_value"] == 225
    assert second["fields_from"] == {"indicator": "previous correction", "value": "given",
                                     "unit_id": "previous correction", "period": "previous correction"}
    assert main(["review", "correct", key, "--period", "2023", "--note", "same period, said again"]) == 0
    third = capsys.readouterr().out
    assert "recruits_enlisted = 225 unit 38.389 period 2023" in third
    assert "period given; indicator, value, unit_id from the previous correction" in third, third

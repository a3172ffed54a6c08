from datetime import datetime, timezone

from qpan.landing.store import ParsedArticle


def _article(url="http://h/a1", body="Nội dung bài viết về quốc phòng."):
    return ParsedArticle(source="s1", url=url, title="Tiêu đề", body_text=body,
                         published_at=datetime(2023, 12, 5, 1, 0, tzinfo=timezone.utc))


def test_pages_keep_every_distinct_body_and_dedupe_identical(store, admin_conn):
    store.save_page("s1", "http://h/p", 200, {"content-type": "text/html"}, b"<html>v1</html>")
    store.save_page("s1", "http://h/p", 200, {"content-type": "text/html"}, b"<html>v1</html>")
    store.save_page("s1", "http://h/p", 200, {"content-type": "text/html"}, b"<html>v2</html>")
    n = admin_conn.execute("select count(*) from raw.pages where url = 'http://h/p'").fetchone()[0]
    assert n == 2


def test_article_upsert_by_url_is_idempotent(store, admin_conn):
    assert store.save_article(_article()) is True
    assert store.save_article(_article()) is False
    store.save_article(_article(body="Nội dung đã sửa."))
    rows = admin_conn.execute("select body_text from raw.articles where url = 'http://h/a1'").fetchall()
    assert rows == [("Nội dung đã sửa.",)]


def test_quarantine_keeps_reason_once(store, admin_conn):
    for _ in range(2):
        store.quarantine("parse", "s1", "http://h/bad", "title selector matched nothing")
    rows = admin_conn.execute("select reason from raw.quarantine where url = 'http://h/bad'").fetchall()
    assert rows == [("title selector matched nothing",)]


def test_high_water_mark_never_moves_back(store):
    late = datetime(2024, 1, 2, tzinfo=timezone.utc)
    store.set_high_water_mark("s2", late)
    store.set_high_water_mark("s2", datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert store.high_water_mark("s2") == late


def test_loader_cannot_touch_marts(warehouse_url):
    import psycopg
    import pytest
    from qpan.core import db

    with db.connect("qpan_loader") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table marts.evil (x int)")

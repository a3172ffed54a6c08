"""Upgrades lose nothing (issue 32): a warehouse built and reviewed by the previous release (tag
v0.3.0, else its commit cf1b613 in a clone without tags), from that release's own code, is
transformed by this code with every raw page and review decision kept and the marts rebuilt.

The previous release's tree is `git archive`d into a temporary folder (a worktree without the
bookkeeping a `git worktree add` leaves in the clone) and run with this venv's Python,
PYTHONPATH pointing at it (its pinned dependencies are this venv's: no second venv to build).
It crawls the sample portal over HTTP, extracts, builds its marts and records a review decision
through its own `qpan review`; then this code migrates and transforms the same database."""
from __future__ import annotations

import os
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from qpan.orchestration import backup
from qpan.core import config, db
from qpan.ingest import extraction as pipeline
from qpan.gate import publish
from qpan.transform import warehouse

pytestmark = [pytest.mark.slow, pytest.mark.upgrade]
PREVIOUS = ("v0.3.0", "cf1b613")

# Run by the previous release's code, so in its module layout (flat modules, before issue 26's packages).
OLD_SIDE = r'''
from qpan import db
from qpan.cli import main
from qpan.pipeline import extract_pending
from qpan.warehouse import run_dbt

assert main(["db", "migrate"]) == 0
assert main(["scrape", "--sources", "scrapers/sample_sources.yml"]) == 0
extract_pending()
run_dbt(["build", "--exclude", "resource_type:test"], marts_schema="marts")
with db.connect() as conn:
    key = conn.execute("select review_key from marts.fct_indicator_mentions order by review_key limit 1").fetchone()[0]
assert main(["review", "confirm", key, "--note", "checked by the previous release", "--by", "old"]) == 0
assert main(["review", "reject", key, "--note", "then rejected"]) == 0
print("OLD-KEY", key)
'''


def _previous_release(dest: Path) -> tuple[str, Path]:
    for ref in PREVIOUS:
        found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=config.REPO_ROOT,
                               capture_output=True, text=True)
        if found.returncode == 0:
            archive = subprocess.run(["git", "archive", "--format=tar", found.stdout.strip()], cwd=config.REPO_ROOT,
                                     capture_output=True, check=True).stdout
            tree = dest / "qpan-previous"
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tree, filter="data")
            return ref, tree
    pytest.fail(f"neither {' nor '.join(PREVIOUS)} is in this clone's history (a shallow clone?)")


def test_a_warehouse_of_the_previous_release_is_upgraded_with_nothing_lost(warehouse_url, portal, tmp_path):
    ref, tree = _previous_release(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(tree), "QPAN_HOME": str(tmp_path / "old-home"),
           "QPAN_SHARED_DIR": str(config.SHARED_DIR), "DBT_TARGET_PATH": str(tmp_path / "old-target")}
    for role in (config.ADMIN_ROLE, *config.ROLES):  # the same roles, the same passwords
        env[f"{role.upper()}_PASSWORD"] = config.role_password(role)
    old = subprocess.run([sys.executable, "-c", OLD_SIDE], cwd=tree, env=env, capture_output=True, text=True,
                         timeout=600)
    assert old.returncode == 0, (old.stdout + old.stderr)[-4000:]
    assert f"{tree}/qpan" in subprocess.run([sys.executable, "-c", "import qpan; print(qpan.__file__)"], cwd=tree,
                                            env=env, capture_output=True, text=True).stdout, "the old code ran"
    key = old.stdout.split("OLD-KEY ", 1)[1].split()[0]
    with db.connect() as conn:
        before = {k: v for k, v in backup.table_facts(conn).items() if k.startswith(("raw.", "review."))}
        decisions = conn.execute("select * from review.decisions order by decision_id").fetchall()
    assert before["raw.pages"]["rows"] > 0 and len(decisions) == 2

    # this code: migrate, then the transform's steps (extract what the new extractor wants, build, publish)
    db.migrate()
    pipeline.extract_pending()
    warehouse.build()
    publish.publish("upgrade")
    with db.connect() as conn:
        after = backup.table_facts(conn)
        assert after["raw.pages"] == before["raw.pages"]  # every raw page kept, byte for byte
        assert after["raw.articles"]["rows"] == before["raw.articles"]["rows"]
        kept = conn.execute("select * from review.decisions order by decision_id").fetchall()
        n = len(decisions[0])  # this code may add columns: the previous release's are kept as they were
        assert [tuple(row[:n]) for row in kept] == [tuple(row) for row in decisions]
        # marts rebuilt by this code, the decision applied
        assert conn.execute("select count(*) from marts.fct_indicator_facts").fetchone()[0] > 0
        assert conn.execute("select count(*) from marts.fct_indicator_mentions where review_key = %s",
                            (key,)).fetchone()[0] == 0  # rejected: hidden
        assert conn.execute("select decision, is_orphaned from marts.mart_review_decisions where review_key = %s",
                            (key,)).fetchone() == ("reject", False)
        assert conn.execute("select published from audit.publish_log where run_id = 'upgrade'").fetchone() == (True,)
    print(f"upgraded a warehouse of {ref}")

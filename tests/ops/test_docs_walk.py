"""README.md and docs/operations.md, re-walked (issue 17): every `make` target they name has a
recipe, every `qpan` command they name answers `--help`, the Airflow commands they show are the
tested forms (tests/ops/test_airflow_cli.py runs them), nothing destructive hides behind `clean`."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from qpan.core import config

REPO = config.REPO_ROOT
DOCS = {name: (REPO / name).read_text(encoding="utf-8") for name in ("README.md", "docs/operations.md")}
BIN = Path(sys.executable).parent


def _all() -> str:
    return "\n".join(DOCS.values())


@pytest.mark.parametrize("target", sorted(set(re.findall(r"`make ([a-z-]+)", _all()))
                                          | set(re.findall(r"^make ([a-z-]+)", _all(), re.M))))
def test_every_documented_make_target_has_a_recipe(target):
    res = subprocess.run(["make", "-n", "-B", target], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "Nothing to be done" not in res.stdout, (target, res.stdout, res.stderr)


def test_every_documented_qpan_command_answers_help(capsys):
    """`qpan COMMAND --help`, in-process (one import of the CLI instead of one per command)."""
    from qpan.cli import main

    commands = sorted(set(re.findall(r"`qpan ([a-z]+)", _all())))
    assert {"run", "db", "scrape", "check", "airflow"} <= set(commands), commands
    for command in commands:
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        assert done.value.code == 0, command
        assert f"usage: qpan {command}" in capsys.readouterr().out, command


def test_airflow_commands_are_the_tested_forms():
    text = _all()
    clears = re.findall(r"airflow tasks clear [^\n]+", text)
    assert clears and all("'^" not in c and '"^' not in c for c in clears), clears  # -t is a substring
    assert all("--only-failed" in c for c in clears), clears
    for doc, body in DOCS.items():
        unpause, trigger = body.find("dags unpause qpan_ingest"), body.find("dags trigger qpan_ingest")
        assert 0 <= unpause < trigger, f"{doc}: a trigger shown before the unpause it needs"
    assert "8765" not in text  # one sample port: QPAN_PG_PORT + 10


def test_clean_is_documented_as_keeping_the_data():
    readme = DOCS["README.md"]
    assert "make wipe" in readme and "CONFIRM=1" in readme and "`make clean` removes build artefacts only" in readme

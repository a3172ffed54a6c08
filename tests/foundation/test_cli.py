"""The CLI is a static table: `qpan --help` imports no command module, a command only its own."""
from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from collections import defaultdict

import pytest

from qpan import cli

HEAVY = ("altair", "great_expectations", "airflow", "psycopg", "dbt", "pandas")


def _imported_by(*argv: str) -> set[str]:
    code = ("import sys\nfrom qpan.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('\\n'.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60, check=True)
    return {line.split(".")[0] for line in out.stdout.splitlines()}


def test_help_imports_no_command_module_and_lists_every_command():
    loaded = _imported_by("--help")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    out = subprocess.run([sys.executable, "-m", "qpan.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for name, _, text in cli.COMMANDS:
        assert name in out.stdout and text.split(" (")[0][:40] in " ".join(out.stdout.split()), name


def test_extract_help_does_not_load_the_warehouse_or_the_report():
    loaded = _imported_by("extract", "--help")
    assert not loaded & {"altair", "great_expectations", "airflow", "psycopg"}


def test_each_module_registers_exactly_the_commands_the_table_gives_it():
    by_module: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, module, text in cli.COMMANDS:
        by_module[module].append((name, text))
    for module, commands in by_module.items():
        recorder = _Recorder()
        importlib.import_module(module).register(recorder)
        assert recorder.helps == dict(commands), module


class _Recorder:
    """Stands in for argparse's subparsers: records each command's name and help line."""

    def __init__(self):
        self.helps: dict[str, str] = {}

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        self.helps[name] = kwargs.pop("help", None)
        return argparse.ArgumentParser(prog=f"qpan {name}", **kwargs)


def test_an_unknown_command_lists_the_choices(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["nope"])
    assert done.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err

"""Every QPAN_* variable is read through qpan.core.settings, checked when read, and in the README's table."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.net import free_port
from qpan.core import settings

REPO = Path(__file__).resolve().parents[2]
QPAN = str(Path(sys.executable).parent / "qpan")


def _qpan(*argv: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = dict(os.environ, QPAN_HOME=str(tmp_path / "home"), **env)
    return subprocess.run([QPAN, *argv], env=environ, capture_output=True, text=True, timeout=60)


def test_a_transform_mode_typo_stops_qpan_run_with_one_line_before_anything_runs(tmp_path):
    # Today's main ran `QPAN_TRANSFORM_MODE=biuld qpan run` silently as `build` (here it would then
    # fail on the unreachable database below, with a message that does not name the typo).
    unreachable = f"postgresql://qpan_admin:pw@127.0.0.1:{free_port()}/qpan"
    result = _qpan("run", tmp_path=tmp_path, QPAN_TRANSFORM_MODE="biuld", QPAN_DATABASE_URL=unreachable)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "qpan run: error: QPAN_TRANSFORM_MODE must be one of: build, cosmos, got 'biuld'"]
    assert "==>" not in result.stdout  # no Postgres started, no DAG parsed
    assert not (tmp_path / "home").exists()


def test_a_malformed_port_names_the_variable(tmp_path):
    # Today's main: "qpan db: error: invalid literal for int() with base 10: '5543x'".
    result = _qpan("db", "url", tmp_path=tmp_path, QPAN_PG_PORT="5543x")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "qpan db: error: QPAN_PG_PORT must be a port number (1-65535), got '5543x'"]


def test_a_setting_read_while_building_a_commands_parser_is_one_line_too(tmp_path):
    result = _qpan("build", tmp_path=tmp_path, QPAN_MARTS_SCHEMA="marts; drop")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "qpan: error: QPAN_MARTS_SCHEMA must be a lower-case SQL identifier, got 'marts; drop'"]


@pytest.mark.parametrize("name, value", [("QPAN_PG_PORT", "70000"), ("QPAN_GATE_MAX_ROW_DROP", "half"),
                                         ("QPAN_HEALTH_BLOCKED_RUNS", "2.5"), ("QPAN_INGEST_SCHEDULE", "@daly"),
                                         ("QPAN_ANALYST_STATEMENT_TIMEOUT", "soon"), ("QPAN_DEBUG", "yse"),
                                         ("QPAN_MARTS_SCHEMA", "marts; drop")])
def test_each_setting_is_checked_when_read(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(settings.ConfigError, match=f"^{name} must be .*, got {re.escape(repr(value))}$"):
        settings.get(name)
    with pytest.raises(settings.ConfigError, match=name):
        settings.check_environment()


def test_unset_or_empty_means_the_default_and_good_values_parse(monkeypatch):
    monkeypatch.setenv("QPAN_PG_PORT", "")
    assert settings.get("QPAN_PG_PORT") == 55432
    monkeypatch.delenv("QPAN_SAMPLE_PORT", raising=False)
    assert settings.get("QPAN_SAMPLE_PORT", 123) == 123
    monkeypatch.setenv("QPAN_TRANSFORM_MODE", "cosmos")
    assert settings.get("QPAN_TRANSFORM_MODE") == "cosmos"
    monkeypatch.setenv("QPAN_INGEST_SCHEDULE", "0 3 * * *")
    assert settings.get("QPAN_INGEST_SCHEDULE") == "0 3 * * *"


def test_every_default_is_an_allowed_value():
    for s in settings.SETTINGS_LIST:
        if isinstance(s.default, (int, float, str)) and not isinstance(s.default, bool):
            assert s.parse(str(s.default)) == s.default, s.name


def test_the_readme_table_is_the_generated_one():
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- settings:begin[^>]*-->\n(.*?)<!-- settings:end -->", readme, re.S)
    assert block, "README.md lost its settings markers"
    assert block.group(1) == settings.markdown_table(), "regenerate it: .venv/bin/python -m qpan.core.settings"


CODE = [p for d in ("qpan", "scrapers", "dags", "bench", "tests", "docker") for p in (REPO / d).rglob("*.py")]
PRODUCT = [p for p in CODE if p.parts[len(REPO.parts)] in ("qpan", "scrapers", "dags", "bench")]
READ = re.compile(r"""(environ\.get|getenv)\(\s*["'](QPAN_\w+)|environ\[["'](QPAN_\w+)["']\](?!\s*=[^=])""")


def test_no_module_reads_a_qpan_variable_but_through_settings():
    reads = [f"{p.relative_to(REPO)}: {m.group(0)}" for p in PRODUCT if p.name != "settings.py"
             for m in READ.finditer(p.read_text())]
    assert reads == []


def test_every_qpan_variable_named_anywhere_is_in_the_table():
    files = CODE + [REPO / f for f in ("docker-compose.yml", "Dockerfile", ".env.example", "Makefile")]
    files += list((REPO / "dbt_project").glob("*.yml")) + list((REPO / "scrapers").glob("*.yml"))
    named = {m for p in files for m in re.findall(r"\bQPAN_[A-Z0-9_]*[A-Z0-9]\b", p.read_text())}
    named -= {n for n in named if n.startswith("QPAN_T_")}  # the registry tests' own variables
    prefixes = {n for n in named if any(k.startswith(n + "_") for k in settings.SETTINGS)}  # QPAN_HEALTH_*
    assert sorted(named - prefixes - settings.SETTINGS.keys()) == []


def test_the_webhook_url_is_judged_without_printing_it(monkeypatch):
    """Its path is the secret of a Slack/Teams webhook: qpan.health.webhook judges its shape with a
    message naming the host only (tests/health/test_webhook_security.py), not the generic one."""
    from qpan.health.webhook import WebhookError, webhook_url

    monkeypatch.setenv("QPAN_ALERT_WEBHOOK_URL", "hooks.example.org/services/T0/B0/s3cret")
    settings.check_environment()  # not the generic check, which would print the value
    with pytest.raises(WebhookError, match="must be https://") as caught:
        webhook_url()
    assert "s3cret" not in str(caught.value)

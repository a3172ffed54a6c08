"""Every environment variable qpan reads: its default, meaning and allowed values, in one table.

A setting is read through `get(NAME)`, which parses and checks the value each time (so a test or
an operator changes it without a restart): a malformed value raises `ConfigError` with one line
naming the variable, the value and what is allowed, e.g.

    QPAN_TRANSFORM_MODE must be one of: build, cosmos, got 'biuld'

An unset or empty variable means its default. Defaults computed from other settings (e.g.
`QPAN_SAMPLE_PORT` = `QPAN_PG_PORT` + 10) are passed by the caller: `get(NAME, default)`.
`qpan` checks every variable set in its environment before running a command (`check_environment`).
The README's configuration table is generated from this table (`python -m qpan.core.settings`) and
a test keeps them equal. Stdlib only: the CLI imports it before anything else.
"""
from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting from the environment is malformed; the message names the variable."""


# -- parsers: each returns the typed value or raises ValueError ---------------------------
def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(raw)
    return int(raw)


def _number(minimum: float | None = None, above: float | None = None) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if value != value or (minimum is not None and value < minimum) or (above is not None and value <= above):
            raise ValueError(raw)
        return value
    return parse


def _integer(minimum: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if minimum is not None and value < minimum:
            raise ValueError(raw)
        return value
    return parse


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(raw)
        return raw
    return parse


def _flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _text(raw: str) -> str:
    return raw


def _path(raw: str) -> Path:
    return Path(raw)


def _http_url(raw: str) -> str:
    if not re.match(r"https?://[^/\s]+", raw):
        raise ValueError(raw)
    return raw


def _duration(raw: str) -> str:
    """A positive Postgres duration: 60s, 500ms, 2min, 1h (a bare number is milliseconds)."""
    value = raw.strip()
    if not re.fullmatch(r"\d+\s*(ms|s|min|h)?", value) or value.startswith("0"):
        raise ValueError(raw)
    return value


def _identifier(raw: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", raw):
        raise ValueError(raw)
    return raw


AIRFLOW_PRESETS = ("@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly",
                   "@annually")


def _schedule(raw: str) -> str:
    if raw.lower() == "none" or raw in AIRFLOW_PRESETS or len(raw.split()) in (5, 6):
        return raw
    raise ValueError(raw)


def _profiles(raw: str) -> set[str]:
    return {p.strip() for p in raw.split(",") if p.strip()}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any          # the typed default (None: unset, or computed by the caller)
    shown_default: str    # the default as the README shows it
    allowed: str          # what a value may be, as in "NAME must be <allowed>, got ..."
    meaning: str
    parse: Callable[[str], Any] = _text
    # who sets it: "user" (the README's table), "compose" (docker-compose's .env),
    # "internal" (qpan sets it for its child processes: dbt, GX), "tests" (the test suite)
    audience: str = "user"


PORT = "a port number (1-65535)"
NUMBER = "a number ≥ 0"
TEXT = "any text"
PATH = "a directory path"


def _health(field: str, default: float, meaning: str, integer: bool = False) -> Setting:
    return Setting(f"QPAN_HEALTH_{field.upper()}", default, f"`{default:g}`",
                   "an integer ≥ 0" if integer else NUMBER, meaning,
                   _integer(0) if integer else _number(0))


def _password(name: str, who: str) -> Setting:
    return Setting(name, None, "generated", TEXT,
                   f"{who}; when unset, generated once into `.qpan/secrets.json` (mode 600, git-ignored)")


SETTINGS_LIST: tuple[Setting, ...] = (
    # -- where things are ---------------------------------------------------------------
    Setting("QPAN_HOME", None, "`.qpan`", PATH,
            "the folder of run-time state (embedded Postgres, Airflow's home, secrets, reports)", _path),
    Setting("QPAN_SHARED_DIR", None, "`../shared`", PATH,
            "the read-only domain contract (corpus, gazetteer, indicators, sources)", _path),
    Setting("AIRFLOW_HOME", None, "`.qpan/airflow`", PATH,
            "Airflow's home (SQLite metadata DB; its `airflow.cfg` gets the project's settings)", _path),
    # -- the warehouse --------------------------------------------------------------------
    Setting("QPAN_PG_PORT", 55432, "`55432`", PORT,
            "port of the embedded Postgres on 127.0.0.1 (two clones with different ports run side by side; "
            "a plain `dbt debug` in `dbt_project/` uses it too)", _port),
    Setting("QPAN_DATABASE_URL", None, "unset", "postgresql://USER:PASSWORD@HOST:PORT/DBNAME",
            "an external Postgres (compose, production) as its owner/admin URL; the embedded server is then "
            "not started"),
    _password("QPAN_ADMIN_PASSWORD", "password of `qpan_admin`"),
    _password("QPAN_LOADER_PASSWORD", "password of `qpan_loader`"),
    _password("QPAN_TRANSFORMER_PASSWORD", "password of `qpan_transformer`"),
    _password("QPAN_ANALYST_PASSWORD", "password of `qpan_analyst`"),
    _password("QPAN_REVIEWER_PASSWORD", "password of `qpan_reviewer`"),
    Setting("QPAN_ANALYST_STATEMENT_TIMEOUT", "60s", "`60s`", "a positive duration like 60s or 500ms",
            "set on the `qpan_analyst` role by every migrate: its statements are cancelled after this long "
            "([docs/security.md](docs/security.md))", _duration),
    Setting("QPAN_ANALYST_CONNECTION_LIMIT", 20, "`20`", "an integer ≥ 1",
            "set on the `qpan_analyst` role by every migrate: at most this many sessions at once", _integer(1)),
    Setting("QPAN_MARTS_SCHEMA", "marts_candidate", "`marts_candidate`", "a lower-case SQL identifier",
            "the schema dbt builds the marts in (`qpan build --marts-schema`; the gate publishes them to `marts`)",
            _identifier),
    # -- the quality gate -----------------------------------------------------------------
    Setting("QPAN_GATE_MAX_QUARANTINE_FRACTION", 0.5, "`0.5`", "a number",
            "above this share of bad rows the landing gate stops the run instead of quarantining", _number()),
    Setting("QPAN_GATE_MAX_ROW_DROP", 0.5, "`0.5`", "a number",
            "a candidate mart may have at most this fraction fewer rows than the published one", _number()),
    Setting("QPAN_GATE_MAX_ORPHANED_REVIEWS", 25.0, "`25`", NUMBER,
            "review decisions whose fact is gone that the gate accepts before refusing the candidate",
            _number(0)),
    Setting("QPAN_GATE_FRESHNESS_HOURS", 48.0, "`48`", "a number",
            "the newest article must be at most this many hours old for the freshness expectation", _number()),
    Setting("QPAN_GX_KEEP_RUNS", 30.0, "`30`", "a number ≥ 1",
            "runs of each suite kept in GX's Data Docs, `.qpan/gx/data_docs` (every result also stays in "
            "`audit.validation_results`)", _number(1)),
    # -- running ------------------------------------------------------------------------
    Setting("QPAN_TRANSFORM_MODE", "build", "`build`", "one of: build, cosmos",
            "`build`: the transform DAG runs one `dbt build` task (its incremental models scale with the change); "
            "`cosmos`: astronomer-cosmos renders one task per model (minutes more; `qpan run --transform cosmos`). "
            "Every process that parses the DAG (scheduler, `qpan run`, Airflow's CLI) must see the same value",
            _choice("build", "cosmos")),
    Setting("QPAN_RUN_LOGS_KEEP", 20, "`20`", "an integer (below 1 counts as 1)",
            "logs of `qpan run` kept in `.qpan/airflow/dags-test-logs/` (one per run)", _integer()),
    Setting("QPAN_SOURCES_FILE", "scrapers/sources.yml", "`scrapers/sources.yml`", "a file path",
            "the source registry `qpan_ingest` crawls when its run does not name one"),
    Setting("QPAN_INGEST_SCHEDULE", "@daily", "`@daily`",
            "none, an Airflow preset (@daily, @hourly, ...) or a cron expression",
            "`qpan_ingest`'s schedule; `none`: triggered runs only", _schedule),
    Setting("QPAN_SAMPLE_PORT", None, "`QPAN_PG_PORT + 10`", PORT,
            "port of the local sample portal server, the same in `make run`, `python -m scrapers.portal_server` "
            "and `scrapers/sample_sources.yml` (its URLs are the sample articles' keys, so it is fixed)", _port),
    # -- the web archive (issue 30, docs/archive.md) --------------------------------------
    Setting("QPAN_ARCHIVE_URL", "https://web.archive.org", "`https://web.archive.org`", "an http(s) URL",
            "the web archive `qpan sources backfill --archive` lists (`/cdx/search/cdx`) and replays "
            "(`/web/<ts>id_/<url>`) captures from: the Wayback Machine, a mirror, a proxy, the tests' local archive",
            _http_url),
    Setting("QPAN_ARCHIVE_RATE", 24.0, "`24`", "a number > 0",
            "requests a minute to the archive, on one connection (above 24, the Wayback Machine's limit, "
            "only with `QPAN_ARCHIVE_ALLOW_FASTER`)", _number(above=0)),
    Setting("QPAN_ARCHIVE_ALLOW_FASTER", False, "off", "one of: 1, true, yes, on, 0, false, no, off",
            "allow `QPAN_ARCHIVE_RATE` above 24 (a mirror or a local archive only; `--allow-faster`)", _flag),
    Setting("QPAN_ARCHIVE_BACKOFF", 60.0, "`60`", NUMBER,
            "seconds without sending anything after a 429 without Retry-After (doubled at each 429 in a row)",
            _number(minimum=0)),
    Setting("QPAN_ARCHIVE_RETRY_BACKOFF", 5.0, "`5`", NUMBER,
            "first back-off in seconds after an archive's 5xx or a connection error (doubled each retry)",
            _number(minimum=0)),
    Setting("QPAN_GAZETTEER_SEED", None, "`dbt_project/seeds/admin_units.csv`", "a file path",
            "the gazetteer seed the extractor reads (another one built by `qpan gazetteer build --seeds-dir`, "
            "to try it before committing)", _path),
    Setting("QPAN_DBT_EXECUTABLE", None, "`.venv/bin/dbt`", "a file path",
            "the dbt the cosmos task group runs", _path),
    Setting("QPAN_DEBUG", False, "off", "one of: 1, true, yes, on, 0, false, no, off",
            "`qpan` prints the traceback of an error instead of one line (as `-v`)", _flag),
    # -- Airflow ------------------------------------------------------------------------
    Setting("QPAN_AIRFLOW_PORT", 8080, "`8080`", PORT, "`make airflow`'s and `qpan cluster`'s UI port", _port),
    _password("QPAN_AIRFLOW_PASSWORD", "the Airflow UI's `admin` password"),
    # -- health and alerts --------------------------------------------------------------
    # Its shape is judged by qpan.health.webhook, whose message hides the URL's secret path.
    Setting("QPAN_ALERT_WEBHOOK_URL", None, "unset", "an https URL (http only to this machine, or with "
            "QPAN_ALERT_WEBHOOK_ALLOW_HTTP)", "where alerts are posted (JSON); unset: the log "
            "(logged as scheme and host only: Slack/Teams URLs carry their secret in the path)"),
    Setting("QPAN_ALERT_WEBHOOK_ALLOW_HTTP", False, "off", "one of: 1, true, yes, on, 0, false, no, off",
            "allow a plain http:// webhook on another machine (the secret and the token travel in clear)", _flag),
    Setting("QPAN_ALERT_WEBHOOK_TOKEN", None, "unset", TEXT,
            "sent as `Authorization: Bearer ...` with each alert"),
    Setting("QPAN_ALERT_WEBHOOK_TIMEOUT", 10.0, "`10`", "a number > 0",
            "seconds to wait for the webhook", _number(above=0)),
    Setting("QPAN_ALERT_RETRY_BASE_SECONDS", 30.0, "`30`", "a number > 0",
            "back-off of an alert the webhook did not accept, doubled per attempt (kept in "
            "`audit.alert_outbox` until it is accepted; `qpan sources send-alerts`)", _number(above=0)),
    Setting("QPAN_ALERT_RETRY_MAX_SECONDS", 3600.0, "`3600`", "a number > 0",
            "the longest back-off between two attempts to send one alert", _number(above=0)),
    # -- backups and publish ------------------------------------------------------------
    Setting("QPAN_BACKUP_DIR", None, "`.qpan/backups`", PATH,
            "`qpan backup` / the `qpan_backup` DAG: where backups go; set it outside `.qpan/`, which `make wipe` "
            "deletes ([Backups and recovery](docs/operations.md#backups-and-recovery))", _path),
    Setting("QPAN_BACKUP_KEEP", 7, "`7`", "an integer ≥ 1", "how many backups the `qpan_backup` DAG keeps",
            _integer(1)),
    Setting("QPAN_BACKUP_SCHEDULE", "@daily", "`@daily`",
            "none, an Airflow preset (@daily, @hourly, ...) or a cron expression",
            "the `qpan_backup` DAG's schedule (the worst-case loss, RPO, is one interval)", _schedule),
    Setting("QPAN_PUBLISH_LOCK_TIMEOUT", 5.0, "`5`", "a number > 0",
            "the publish swap waits at most this many seconds for a lock per attempt", _number(above=0)),
    Setting("QPAN_PUBLISH_ATTEMPTS", 6, "`6`", "an integer ≥ 1",
            "attempts of the publish swap, with back-off (1-10 s) between them: a publish ends within ~1 min",
            _integer(1)),
    _health("silent_floor_days", 7.0, "`silent`: no new article for longer than this many days at least"),
    _health("silent_gap_factor", 2.0, "`silent`: ... or this many times the source's usual gap"),
    _health("silent_min_gaps", 3, "gaps between days with new articles before a source's usual gap is learned",
            integer=True),
    _health("drift_min_failures", 2, "`drift`: at least this many parse failures ...", integer=True),
    _health("drift_min_rate", 0.5, "`drift`: ... this share of the pages parsed ..."),
    _health("drift_jump", 0.3, "`drift`: ... and this much above the share of the source's last good runs"),
    _health("drift_baseline_runs", 5, "`drift`: how many good runs make the baseline", integer=True),
    _health("failing_min_errors", 2, "`failing`: at least this many fetch errors ...", integer=True),
    _health("failing_min_rate", 0.5, "`failing`: ... on at least this share of the requests"),
    _health("blocked_runs", 2, "`blocked`: 403/429 on this many runs in a row", integer=True),
    _health("warn_max_quarantine_rate", 0.5, "the gate warns above this quarantine rate of a source"),
    _health("warn_max_days_silent", 30.0, "the gate warns when a source is silent longer than this (days)"),
    _health("warn_max_median_response_ms", 5000.0, "the gate warns above this median response time (ms)"),
    # -- cluster and BI -------------------------------------------------------------------
    Setting("QPAN_REDIS_PORT", None, "`QPAN_PG_PORT + 20`", PORT, "`qpan cluster`: the Redis port", _port),
    Setting("QPAN_CLUSTER_DIR", None, "`.qpan/cluster`", PATH,
            "`qpan cluster`: where its PIDs, logs and AIRFLOW_HOME live", _path),
    Setting("QPAN_CLUSTER_DB", "airflow", "`airflow`", "a database name", "`qpan cluster`: its metadata database"),
    Setting("QPAN_WORKER_HOSTNAME", None, "the host name", TEXT,
            "`qpan cluster`: a Celery worker's host name (set per worker)"),
    _password("AIRFLOW_DB_PASSWORD", "`qpan cluster`: the `airflow` metadata role's password"),
    _password("REDIS_PASSWORD", "`qpan cluster`: Redis' password"),
    Setting("QPAN_BI_PORT", 8088, "`8088`", PORT, "`qpan bi`: Superset's port on 127.0.0.1", _port),
    Setting("QPAN_BI_START_TIMEOUT", 180.0, "`180`", "a number > 0",
            "`qpan bi start`: seconds to wait for Superset", _number(above=0)),
    Setting("QPAN_SUPERSET_HOME", None, "`.qpan/superset`", PATH, "`qpan bi`: Superset's metadata and logs",
            _path),
    _password("QPAN_SUPERSET_ADMIN_PASSWORD", "`qpan bi`: Superset's `admin` password"),
    # -- docker compose (.env) ------------------------------------------------------------
    Setting("QPAN_COMPOSE_PROFILES", frozenset(), "none", "a comma-separated list of compose profiles",
            "docker compose: the profiles on (`distributed`: Celery workers)", _profiles, "compose"),
    Setting("QPAN_IMAGE", None, "`qpan-airflow:local`", TEXT, "docker compose: the Airflow image", _text, "compose"),
    Setting("QPAN_PG_PUBLISH_PORT", None, "`5432`", PORT, "docker compose: Postgres' port on the host",
            _port, "compose"),
    Setting("QPAN_ANALYST_USER", "qpan_analyst", "`qpan_analyst`", TEXT,
            "docker compose: the role Metabase connects as", _text, "compose"),
    Setting("QPAN_WAREHOUSE_HOST", "postgres", "`postgres`", TEXT, "docker compose: the warehouse host Metabase uses",
            _text, "compose"),
    Setting("QPAN_WAREHOUSE_PORT", 5432, "`5432`", PORT, "docker compose: the warehouse port Metabase uses", _port,
            "compose"),
    Setting("QPAN_WAREHOUSE_DB", "qpan", "`qpan`", TEXT, "docker compose: the warehouse database Metabase uses",
            _text, "compose"),
    Setting("QPAN_REPO", None, "`/opt/qpan`", PATH, "the Docker image: where qpan is installed", _path, "compose"),
    # -- set by qpan for its child processes ------------------------------------------------
    Setting("QPAN_DBT_HOST", None, "set by qpan", TEXT, "dbt's profile: the warehouse host", _text, "internal"),
    Setting("QPAN_DBT_PORT", None, "set by qpan", PORT, "dbt's profile: the warehouse port", _port, "internal"),
    Setting("QPAN_DBT_DBNAME", None, "set by qpan", TEXT, "dbt's profile: the database", _text, "internal"),
    Setting("QPAN_DBT_USER", None, "set by qpan", TEXT, "dbt's profile: the role", _text, "internal"),
    Setting("QPAN_DBT_PASSWORD", None, "set by qpan", TEXT, "dbt's profile: the password", _text, "internal"),
    Setting("QPAN_GX_WAREHOUSE_URL", None, "set by qpan", TEXT, "GX's datasource connection string", _text,
            "internal"),
    Setting("QPAN_INCLUDE_SYNTHETIC", False, "`false`", "true or false",
            "dbt var `include_synthetic`: synthetic articles let through (the benchmarks)", _flag, "internal"),
    # -- the test suite -----------------------------------------------------------------------
    Setting("QPAN_UPDATE_DOCS", False, "off", "1 or unset",
            "tests/bi: copy the dashboard screenshot to docs/", _flag, "tests"),
    Setting("QPAN_CLUSTER_TEST_MARTS", True, "`1`", "0 or 1",
            "tests/cluster: `0` compares only the raw layer after the killed worker's retried crawl", _flag, "tests"),
)
SETTINGS: dict[str, Setting] = {s.name: s for s in SETTINGS_LIST}
_UNSET = object()


def get(name: str, default: Any = _UNSET, environ: Mapping[str, str] | None = None) -> Any:
    """The value of `name` in the environment (or `environ`, e.g. a compose `.env`), parsed and
    checked; its default (or `default`) when unset or empty."""
    setting = SETTINGS[name]  # a KeyError here: register the variable above first
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or raw == "":
        return setting.default if default is _UNSET else default
    try:
        return setting.parse(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {setting.allowed}, got {raw!r}") from None


def check_environment(environ: Mapping[str, str] | None = None) -> None:
    """Check every registered variable that is set: the first malformed one raises `ConfigError`."""
    environ = os.environ if environ is None else environ
    for setting in SETTINGS_LIST:
        if setting.name == "QPAN_DATABASE_URL" or not environ.get(setting.name):
            continue  # QPAN_DATABASE_URL: qpan.core.config checks it (it knows the URL's shape)
        try:
            setting.parse(environ[setting.name])
        except ValueError:
            raise ConfigError(f"{setting.name} must be {setting.allowed}, got {environ[setting.name]!r}") from None


def markdown_table() -> str:
    """The README's configuration table (between its `settings:begin`/`settings:end` markers)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| variable | default | allowed | meaning |", "|---|---|---|---|"]
    lines += [f"| `{s.name}` | {cell(s.shown_default)} | {cell(s.allowed)} | {cell(s.meaning)} |"
              for s in SETTINGS_LIST if s.audience in ("user", "compose")]
    for audience, label in (("internal", "Set by qpan for dbt and GX (not for users)"),
                            ("tests", "Read by the test suite only")):
        names = ", ".join(f"`{s.name}`" for s in SETTINGS_LIST if s.audience == audience)
        lines += ["", f"{label}: {names}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())

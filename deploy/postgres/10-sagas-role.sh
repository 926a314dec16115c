#!/usr/bin/env bash
# Run once by the postgres image's entrypoint (docker-entrypoint-initdb.d) on an empty data volume, from the
# SAGAS_DB_* variables set in docker-compose.yml — the same roles scripts/infra.sh creates for `make run`:
#   owner   (SAGAS_DB_USER)          LOGIN CREATEDB, not a superuser: owns the database, runs the migrations;
#   Api     (SAGAS_DB_API_USER)      LOGIN only: connects, gets DML on the Api's tables from the migrations, creates nothing;
#   Workers (SAGAS_DB_WORKERS_USER)  the same, on the Workers' tables;
#   sandbox (SAGAS_DB_SANDBOX_USER)  LOGIN only: owns a database of its own no other role may connect to.
set -euo pipefail

psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v app_user="${SAGAS_DB_USER:?}" -v app_password="${SAGAS_DB_PASSWORD:?}" -v app_db="${SAGAS_DB_NAME:?}" \
    -v api_user="${SAGAS_DB_API_USER:?}" -v api_password="${SAGAS_DB_API_PASSWORD:?}" \
    -v workers_user="${SAGAS_DB_WORKERS_USER:?}" -v workers_password="${SAGAS_DB_WORKERS_PASSWORD:?}" \
    -v sandbox_user="${SAGAS_DB_SANDBOX_USER:?}" -v sandbox_password="${SAGAS_DB_SANDBOX_PASSWORD:?}" \
    -v sandbox_db="${SAGAS_DB_SANDBOX_NAME:?}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB NOSUPERUSER PASSWORD %L', :'app_user', :'app_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('CREATE ROLE %I LOGIN NOCREATEDB NOSUPERUSER PASSWORD %L', r, p)
  FROM (VALUES (:'api_user', :'api_password'), (:'workers_user', :'workers_password')) AS runtime(r, p)
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
SELECT format('CREATE ROLE %I LOGIN NOCREATEDB NOSUPERUSER PASSWORD %L', :'sandbox_user', :'sandbox_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'sandbox_user') \gexec
SELECT format('GRANT %I TO %I', r, :'app_user') FROM unnest(ARRAY[:'api_user', :'workers_user']) AS r \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'app_db') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'sandbox_db', :'sandbox_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'sandbox_db') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', d) FROM unnest(ARRAY[:'app_db', :'sandbox_db']) AS d \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', :'app_db', r) FROM unnest(ARRAY[:'api_user', :'workers_user']) AS r \gexec
SQL

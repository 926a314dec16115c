#!/usr/bin/env bash
# Run once by the postgres image's entrypoint (docker-entrypoint-initdb.d) on an empty data volume:
# creates the application role (LOGIN CREATEDB, not a superuser) and its database, from the
# SAGAS_DB_* variables set in docker-compose.yml.
set -euo pipefail

psql -v ON_ERROR_STOP=1 -X -q --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v app_user="${SAGAS_DB_USER:?}" -v app_password="${SAGAS_DB_PASSWORD:?}" -v app_db="${SAGAS_DB_NAME:?}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN CREATEDB NOSUPERUSER PASSWORD %L', :'app_user', :'app_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'app_db') \gexec
SQL

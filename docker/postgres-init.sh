#!/usr/bin/env bash
# First start of the Postgres container: a database and owner for the DuckLake catalog, beside Airflow's.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v password="$CATALOG_DB_PASSWORD" <<'SQL'
CREATE ROLE tubescribe LOGIN PASSWORD :'password';
CREATE DATABASE tubescribe OWNER tubescribe;
SQL

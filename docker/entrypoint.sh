#!/usr/bin/env bash
# Initialise Airflow's metadata database and the one-slot catalog pool, then run the command.
set -euo pipefail
airflow db migrate
airflow pools set tubescribe_catalog 1 "single writer of the tubescribe catalog"
exec "$@"

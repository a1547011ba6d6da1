"""Names of the Airflow pools tubescribe's tasks run in (no Airflow import: the DAG wiring and setup share it)."""

from __future__ import annotations

# One writer of the catalog at a time: its loads and maintenance queue here (1 slot).
CATALOG_POOL = "tubescribe_catalog"
# Listing and downloading, across all runs: slots = TUBESCRIBE_PLATFORM_CONCURRENCY.
NETWORK_POOL = "tubescribe_network"

"""The catalog as an Airflow asset: a downstream DAG (a dbt run, an export, a dashboard refresh) schedules on
`CATALOG` and runs after a load that changed it.

The `load` task declares the alias `CATALOG_CHANGES` as its outlet and adds an event for `CATALOG` through it
only when it wrote something (a batch that landed or recorded a failure), so a run that touched nothing
queues nothing downstream. Airflow records the event as one for `CATALOG` itself.

    from airflow.sdk import Asset, dag
    @dag(schedule=[Asset(name="tubescribe_catalog", uri="tubescribe://catalog/")])
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetAlias

CATALOG = Asset(name="tubescribe_catalog", uri="tubescribe://catalog/")
CATALOG_CHANGES = AssetAlias(name="tubescribe_catalog_changes")

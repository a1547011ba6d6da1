"""The hostname Airflow records for a task run by one of the loopback cluster's workers.

Two Celery workers on one machine share its hostname, so a task instance could not say which one ran
it; `scripts/cluster.py` points `[core] hostname_callable` here and names each worker in its
environment. In docker/ every worker is its own container and keeps the default (the container's name).
"""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    """The worker's name from TUBESCRIBE_CLUSTER_WORKER, else the machine's."""
    return os.environ.get("TUBESCRIBE_CLUSTER_WORKER") or socket.getfqdn()

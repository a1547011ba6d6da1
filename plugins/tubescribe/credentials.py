"""Where credentials come from besides the environment: a lookup the orchestration layer registers.

Stages must not import Airflow (they run the same under the CLI, a worker or a test), yet a deployment
keeps its keys in Airflow connections. So `orchestration.tasks` registers Airflow's connection lookup
here when it is imported, and a stage asks `connection(conn_id)` at the moment it needs the secret. The
value is never stored, logged or passed through XCom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Credential:
    password: str
    host: str


_lookups: list[Callable[[str], Credential | None]] = []


def register(lookup: Callable[[str], Credential | None]) -> None:
    """Add a source of named credentials (idempotent for the same function)."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def connection(conn_id: str) -> Credential | None:
    """The first registered source's credential of that name, or None."""
    for lookup in _lookups:
        found = lookup(conn_id)
        if found is not None:
            return found
    return None

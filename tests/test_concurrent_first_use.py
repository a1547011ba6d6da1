"""Two first-ever ingests on a fresh home at once both get a ready Airflow (issue 11, item 8).

Before the fix the second crashed with `IntegrityError: UNIQUE constraint failed: slot_pool.pool`:
both saw no marker, both migrated, both inserted the pool.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tubescribe.orchestration import pools

# Waits for the go file, so both processes reach initialise() together, then initialises.
FIRST_USE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from tubescribe.orchestration import embedded as airflow_env
    from tubescribe.settings import Settings

    settings = Settings.load()
    airflow_env.configure(settings)
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.01)
    airflow_env.initialise(settings)
    """
)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUBESCRIBE_", "AIRFLOW"))}
    return {**env, "TUBESCRIBE_HOME": str(home), **extra}


@pytest.mark.slow
def test_two_first_uses_at_once_both_succeed_and_leave_each_pool_once(tmp_path: Path) -> None:
    home, go = tmp_path / "home", tmp_path / "go"
    env = _env(home, TUBESCRIBE_PLATFORM_CONCURRENCY="3")
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_USE, str(go)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    time.sleep(3)  # both have imported Airflow and wait at the gate
    go.touch()
    outputs = [run.communicate(timeout=300)[0].decode(errors="replace") for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        rows = db.execute("SELECT pool, slots FROM slot_pool WHERE pool LIKE 'tubescribe%' ORDER BY pool").fetchall()
    assert rows == [(pools.CATALOG_POOL, 1), (pools.NETWORK_POOL, 3)]


@pytest.mark.slow
def test_a_later_use_updates_the_network_pool_to_the_current_setting(tmp_path: Path) -> None:
    home, go = tmp_path / "home", tmp_path / "go"
    go.touch()
    for concurrency in ("2", "5"):
        done = subprocess.run(
            [sys.executable, "-c", FIRST_USE, str(go)],
            env=_env(home, TUBESCRIBE_PLATFORM_CONCURRENCY=concurrency),
            capture_output=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    with sqlite3.connect(home / "airflow" / "airflow.db") as db:
        slots = db.execute("SELECT slots FROM slot_pool WHERE pool = ?", [pools.NETWORK_POOL]).fetchone()
    assert slots == (5,)

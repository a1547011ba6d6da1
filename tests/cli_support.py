"""Running the `tubescribe` command as a user does: a fresh process that sees only the home it is given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "tubescribe.cli.app"]


def cli_environment(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its Airflow, tubescribe or OpenAI settings, pointed at `home`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "TUBESCRIBE_", "OPENAI_"))}
    environment.update({"TUBESCRIBE_HOME": str(home), "COLUMNS": "200", **(env or {})})
    return environment


def tubescribe(
    home: Path,
    *args: str,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    stdout: int | None = None,
    cwd: Path = REPO,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`python -m tubescribe.cli.app ARGS` on `home` in the environment of `cli_environment`; output captured
    unless `stdout` names a file descriptor to write to."""
    return subprocess.run(
        [*CLI, *args],
        env=cli_environment(home, env),
        input=stdin,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        cwd=cwd,
    )

"""What every command works with: the two consoles (stdout for results, stderr for errors) and the settings."""

from __future__ import annotations

from functools import cache
from typing import Any

from rich.console import Console

from tubescribe.settings import Settings

DATE = ["%Y-%m-%d"]  # the one date form options take (typer's formats)


@cache
def out() -> Console:
    from tubescribe.cli.terminal import console

    return console()


@cache
def err() -> Console:
    from tubescribe.cli.terminal import console

    return console(stderr=True)


def settings(**overrides: Any) -> Settings:
    return Settings.load(**overrides)

"""The commands that look after what tubescribe keeps: `tubescribe channels …` and `tubescribe catalog …`."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from tubescribe.cli.context import DATE
from tubescribe.cli.context import out as _out
from tubescribe.cli.context import settings as _settings
from tubescribe.errors import TubescribeError

channels_app = typer.Typer(
    help="The channels the nightly DAG ingests (channels.toml in the home).", no_args_is_help=True
)
catalog_app = typer.Typer(help="Look after the catalog: move it into DuckLake, compact it.", no_args_is_help=True)


@channels_app.command("add")
def channels_add(
    url: str,
    since: Annotated[datetime | None, typer.Option(formats=DATE, help="Ignore videos published before")] = None,
    max_videos: Annotated[int | None, typer.Option(min=1, help="At most this many videos, newest first")] = None,
    include: Annotated[str | None, typer.Option(help="Only titles matching this regex")] = None,
    exclude: Annotated[str | None, typer.Option(help="Skip titles matching this regex")] = None,
    min_duration: Annotated[float | None, typer.Option(help="Skip videos shorter than this (seconds)")] = None,
    max_duration: Annotated[float | None, typer.Option(help="Skip videos longer than this (seconds)")] = None,
    skip_shorts: Annotated[bool, typer.Option(help="Skip Shorts (a minute or less)")] = False,
    skip_live: Annotated[bool, typer.Option(help="Skip live streams and premieres")] = False,
) -> None:
    """Register a channel for the nightly run, with rules for which of its videos to ingest.

    Adding a registered channel again (by any URL of it) gives it the rules of this command.
    """
    from tubescribe.catalog.connection import exclusive
    from tubescribe.cli.terminal import print_line
    from tubescribe.stages.channels import Channel, canonical_url, register_channel, rule_changes

    channel = Channel(
        url,
        since.date() if since else None,
        max_videos,
        include,
        exclude,
        min_duration,
        max_duration,
        skip_shorts,
        skip_live,
    )
    settings = _settings()
    # Read, change, write: one registry edit at a time, across machines where the catalog is shared.
    with exclusive(settings, "channels"):
        before = register_channel(settings, channel)
    if before is None:
        print_line(_out(), f"added {canonical_url(url)}")
    elif changes := rule_changes(before, channel):
        told = ", ".join(f"{name} {_rule(old)} → {_rule(new)}" for name, old, new in changes)
        print_line(_out(), f"updated the rules of {before.url}: {told}")
    else:
        print_line(_out(), f"{before.url} is already registered with these rules")


def _rule(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)


@channels_app.command("list")
def channels_list() -> None:
    """List the registered channels."""
    from tubescribe.cli.terminal import print_table
    from tubescribe.stages.channels import load_channels

    rows = []
    for channel in load_channels(_settings()):
        rules = ", ".join(
            f"{name}={getattr(channel, name)}"
            for name in ("include", "exclude", "min_duration_s", "max_duration_s", "skip_shorts", "skip_live")
            if getattr(channel, name) not in (None, False)
        )
        rows.append((channel.url, channel.since, channel.max_videos, rules))
    print_table(_out(), ["url", "since", "max videos", "rules"], rows)


class NotRegistered(TubescribeError):
    """`channels remove` was given a URL that is not registered."""


@channels_app.command("remove")
def channels_remove(url: str) -> None:
    """Unregister a channel (its videos stay in the catalog)."""
    from tubescribe.catalog.connection import exclusive
    from tubescribe.cli.terminal import print_line
    from tubescribe.stages.channels import canonical_url, remove_channel

    settings = _settings()
    with exclusive(settings, "channels"):
        removed = remove_channel(settings, url)
    if not removed:
        raise NotRegistered(f"{url} is not registered; `tubescribe channels list` shows what is")
    print_line(_out(), f"removed {canonical_url(url)}")


@catalog_app.command("migrate")
def catalog_migrate(
    home: Annotated[
        Path | None, typer.Option(help="The home whose embedded catalog.duckdb to copy (default: TUBESCRIBE_HOME)")
    ] = None,
) -> None:
    """Copy the embedded catalog into the DuckLake catalog that TUBESCRIBE_CATALOG_URL names."""
    from tubescribe.catalog.maintenance import migrate_to_lake
    from tubescribe.cli.terminal import print_line

    target = _settings()
    # The same settings but the embedded backend (Settings.load ignores None overrides, so replace them).
    source = dataclasses.replace(target, home=(home or target.home).resolve(), catalog_url=None, lake_data_url=None)
    copied = migrate_to_lake(source, target)
    print_line(_out(), f"copied {source.catalog_path} into {target.catalog_url}: {copied.get('videos', 0)} videos")
    for table, rows in sorted(copied.items()):
        print_line(_out(), f"  {table}\t{rows}")


@catalog_app.command("maintain")
def catalog_maintain() -> None:
    """Compact the catalog (DuckLake: merge files, expire old snapshots; embedded: checkpoint)."""
    from tubescribe.catalog.maintenance import maintain
    from tubescribe.cli.terminal import print_line

    result = maintain(_settings())
    print_line(_out(), f"maintained the catalog: {result}")

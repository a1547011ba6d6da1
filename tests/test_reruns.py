"""Resilience (issue 4): reruns select only what is new or due, through the real backfill DAG where the
selection params are under test, and channel rules pick exactly the matching videos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers_feed import serve
from resilience_support import MEDIA, Landed, ids, landed, landed_copy, rust_only_catalog, server, site  # noqa: F401  (pytest fixtures, used by name)
from tubescribe.orchestration import embedded as airflow_env
from tubescribe.pipeline import steps as pipeline
from tubescribe.sample import FEED_TEMPLATE, SAMPLE_DIR
from tubescribe.settings import Settings
from tubescribe.stages.channels import Channel


# -- 6. a rerun with nothing new does nothing ------------------------------------------------------
def artifact_mtimes(settings: Settings) -> dict[Path, int]:
    files = [*settings.media_dir.iterdir(), *settings.work_dir.rglob("*")]
    return {p: p.stat().st_mtime_ns for p in files if p.is_file()}


@pytest.mark.slow
def test_a_rerun_with_nothing_new_selects_nothing_and_touches_nothing(landed: Landed, landed_copy: Settings) -> None:
    before = artifact_mtimes(landed_copy)
    requests = len(landed.server.requests)
    # The same feed URL as the landed run (a query would make it another feed), now listing only what landed.
    listed, landed.server.only = landed.server.only, ["rust", "react"]
    try:
        assert pipeline.discover(landed_copy, [landed.server.feed_url]) == []
    finally:
        landed.server.only = listed
    assert artifact_mtimes(landed_copy) == before
    assert [name for name, _ in landed.server.requests[requests:]] == ["feed.xml"]


@pytest.mark.slow
def test_a_nightly_discover_skips_a_permanent_failure(landed: Landed, landed_copy: Settings) -> None:
    assert pipeline.discover(landed_copy, [landed.server.feed_url], retry_permanent=False) == []


@pytest.mark.slow
def test_a_backfill_discover_retries_a_permanent_failure(landed: Landed, landed_copy: Settings) -> None:
    assert pipeline.discover(landed_copy, [landed.server.feed_url], retry_permanent=True) == [
        ids(landed.server.feed_url, "zig")
    ]


# -- 8. the date window and the limit, through the real DAG ----------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ({"since": "2024-05-14", "until": "2024-11-20"}, ["typescript_fireship", "react", "rust"]),
        ({"since": "2024-05-14", "until": "2024-11-20", "limit": 2}, ["typescript_fireship", "react"]),
        ({"limit": 1}, ["localized_deployment"]),
    ],
    ids=["inclusive-window", "window-and-limit", "limit-takes-the-newest"],
)
def test_the_backfill_dag_selects_exactly_the_window_and_limit_newest_first(
    airflow_db: Path, settings: Settings, site: Path, window: dict[str, Any], expected: list[str]
) -> None:
    with serve(site) as srv:
        for name in MEDIA.values():
            srv.fail(name, "not_found")  # selection is under test: every video fails fast at download
        state = airflow_env.run_dag("tubescribe_backfill", {"urls": [srv.feed_url], **window})
    assert state == "failed"
    assert sorted(p.parent.name for p in settings.work_dir.glob("*/video.json")) == sorted(ids(srv.feed_url, *expected))
    downloads = [name for name, _ in srv.requests if name != "feed.xml"]
    assert list(dict.fromkeys(downloads)) == [MEDIA[v] for v in expected]


# -- 10. channel rules -----------------------------------------------------------------------------
SHORT_ITEMS = """
    <item>
      <title>Rust in 45 Seconds</title>
      <guid isPermaLink="false">rust_45s</guid>
      <pubDate>Sat, 01 Mar 2025 15:00:00 +0000</pubDate>
      <itunes:duration>45</itunes:duration>
      <enclosure url="{base_url}/rust.webm" length="382728" type="audio/webm"/>
    </item>
    <item>
      <title>React, the Short</title>
      <guid isPermaLink="false">react_short</guid>
      <pubDate>Tue, 01 Apr 2025 15:00:00 +0000</pubDate>
      <itunes:duration>90</itunes:duration>
      <enclosure url="{base_url}/shorts/react.mp4" length="662596" type="video/mp4"/>
    </item>
  </channel>"""
EVERY_VIDEO = ["react_short", "rust_45s", "localized_deployment", "typescript_fireship", "react", "rust", "zig"]


@pytest.fixture(scope="module")
def rules_feed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample feed plus a 45-second video and one under /shorts/ (durations and titles only: no media)."""
    path = tmp_path_factory.mktemp("rules")
    feed = (SAMPLE_DIR / FEED_TEMPLATE).read_text(encoding="utf-8").replace("  </channel>", SHORT_ITEMS, 1)
    (path / FEED_TEMPLATE).write_text(feed, encoding="utf-8")
    with serve(path) as srv:
        yield srv.feed_url


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({}, EVERY_VIDEO),
        ({"include": r"in 100 seconds", "exclude": r"^(zig|react)\b"}, ["typescript_fireship", "rust"]),
        ({"min_duration_s": 182}, ["localized_deployment", "typescript_fireship", "zig"]),
        ({"max_duration_s": 181}, ["react_short", "rust_45s", "react", "rust"]),
        ({"min_duration_s": 150, "max_duration_s": 200, "exclude": "react"}, ["rust", "zig"]),
        ({"skip_shorts": True}, EVERY_VIDEO[2:]),
    ],
    ids=["no-rules", "include-exclude", "min-duration-inclusive", "max-duration-inclusive", "combined", "skip-shorts"],
)
def test_channel_rules_pick_exactly_the_matching_videos(
    settings: Settings, rules_feed: str, rules: dict[str, Any], expected: list[str]
) -> None:
    channel = Channel(url=rules_feed, **rules)
    batches = pipeline.discover(settings, [rules_feed], channel=channel)
    assert [v for batch in batches for v in batch] == ids(rules_feed, *expected)
    assert sorted(p.parent.name for p in settings.work_dir.glob("*/video.json")) == sorted(ids(rules_feed, *expected))

"""videos.url is the URL users open: yt-dlp's internal `#__youtubedl_smuggle=…` fragment never reaches the catalog.

Discover strips it where yt-dlp hands the URL over, the loader from videos stored before that, and
migration 101 drops it from rows written before.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from yt_dlp.utils import smuggle_url

from catalog_records import TKEY, make_video, stage
from services_pg import Postgres, postgres, postgres_server  # noqa: F401  (fixtures)
from tubescribe.catalog.connection import connect_read_only, writer
from tubescribe.catalog.load import load_videos
from tubescribe.pipeline.upgrade import new_id
from tubescribe.settings import Settings
from tubescribe.stages.discover import feed_item_id, list_channel
from tubescribe.store import Store
from tubescribe.text import public_url

PLAIN = "http://127.0.0.1:1/rust.webm"
SMUGGLED = smuggle_url(PLAIN, {"force_videoid": "rust"})
WITH_FRAGMENT = "https://example.com/watch#t=10"  # a fragment of the page's own is the page's


def test_public_url_drops_only_the_smuggled_fragment() -> None:
    assert "#__youtubedl_smuggle=" in SMUGGLED
    assert public_url(SMUGGLED) == PLAIN
    assert public_url(PLAIN) == PLAIN
    assert public_url(WITH_FRAGMENT) == WITH_FRAGMENT


def test_a_listed_feed_gives_public_urls(small_feed: str) -> None:
    base = small_feed.rsplit("/", 1)[0]
    assert sorted(video.url for video in list_channel(small_feed)) == [f"{base}/react.mp4", f"{base}/rust.webm"]


def _catalog_before_migration_101(settings: Settings) -> None:
    """A catalog at migration 100 whose rows were written by the discover that kept the fragment."""
    store = Store(settings)
    stage(store, "rust")
    stage(store, "zig")
    store.save_video(make_video("zig").model_copy(update={"url": WITH_FRAGMENT}))
    load_videos(settings, ["rust", "zig"], TKEY, "k1")
    with writer(settings) as con:  # as that loader wrote it
        con.execute("UPDATE videos SET url = $url WHERE video_id = 'rust'", {"url": SMUGGLED})
        con.execute("DELETE FROM schema_migrations WHERE version = 101")


def _urls(settings: Settings) -> dict[str, str]:
    con = connect_read_only(settings)
    try:
        return dict(con.execute("SELECT video_id, url FROM videos").fetchall())
    finally:
        con.close()


def test_migration_101_drops_the_fragment_from_existing_rows(settings: Settings) -> None:
    _catalog_before_migration_101(settings)
    with writer(settings) as con:
        [(name,)] = con.execute("SELECT name FROM schema_migrations WHERE version = 101").fetchall()
    assert name == "101_public_video_urls"
    assert _urls(settings) == {"rust": PLAIN, "zig": WITH_FRAGMENT}


@pytest.mark.slow
def test_migration_101_runs_on_ducklake_too(settings: Settings, postgres: Postgres, tmp_path: Path) -> None:
    lake = replace(
        settings,
        home=tmp_path / "lake-home",
        catalog_url=f"postgres:{postgres.dsn}",
        lake_data_url=str(tmp_path / "lake-data"),
    )
    _catalog_before_migration_101(lake)
    with writer(lake):
        pass
    assert _urls(lake) == {"rust": PLAIN, "zig": WITH_FRAGMENT}


def test_a_video_stored_with_the_fragment_loads_with_its_public_url(settings: Settings) -> None:
    # Stored by the discover that kept the fragment, loaded (again: a resummarize) after migration 101.
    store = Store(settings)
    stage(store, "rust")
    store.save_video(make_video("rust").model_copy(update={"url": SMUGGLED}))
    load_videos(settings, ["rust"], TKEY, "k1")
    assert _urls(settings) == {"rust": PLAIN}


def test_the_id_upgrade_keeps_the_ids_of_videos_todays_discover_wrote() -> None:
    # Their URLs no longer carry the guid, so the id cannot be recomputed from them: it is already new.
    feed = "http://127.0.0.1:1/feed.xml"
    video = make_video("rust").model_copy(
        update={"video_id": feed_item_id(feed, "ep-1"), "channel_url": feed, "extractor": "generic", "url": PLAIN}
    )
    assert new_id(video) == video.video_id

"""A video's id is its source plus the source's own id: no two items collapse into one (issue 11, item 4).

Before, a feed item's id was its <guid> cleaned and cut to 60 characters, so two feeds numbering
their episodes 1, 2, 3, or guids `a/b/c` and `a_b_c`, or two long guids sharing a head, left one row.
"""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape

import pytest

from helpers_feed import FeedServer, serve_handler
from resilience_support import (  # noqa: F401  (pytest fixtures, used by name)
    counts,
    fresh_requests,
    ingest,
    query,
    server,
    site,
)
from tubescribe.pipeline.upgrade import UPGRADED_MARKER, upgrade_home, upgrade_ids_once
from tubescribe.records import VIDEO_ID_RE
from tubescribe.settings import Settings
from tubescribe.stages import discover
from tubescribe.stages.discover import feed_item_id, feed_namespace, list_channel, video_id
from tubescribe.store import Store

LONG = "https://example.com/podcasts/the-very-long-show-name/episodes/2024/season-one/episode-"
# feed path -> [(guid, title)]
FEEDS = {
    "/one.xml": [("1", "One: first"), ("2", "One: second")],
    "/two.xml": [("1", "Two: first")],
    "/slashes.xml": [("a/b/c", "slashes"), ("a_b_c", "underscores"), ("a b c", "spaces")],
    "/long.xml": [(LONG + "0001", "long 1"), (LONG + "0002", "long 2")],
}


class _Feeds(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        items = FEEDS.get(self.path)
        if items is None:
            self.send_error(404)
            return
        body = "".join(
            f'<item><title>{escape(title)}</title><guid isPermaLink="false">{escape(guid)}</guid>'
            f"<pubDate>Tue, 14 May 2024 15:00:0{i} +0000</pubDate>"
            f'<enclosure url="{base}/media/{i}.webm" type="audio/webm"/></item>'
            for i, (guid, title) in enumerate(items)
        )
        data = f'<?xml version="1.0"?><rss version="2.0"><channel><title>feed</title>{body}</channel></rss>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def feeds() -> Iterator[str]:
    with serve_handler(_Feeds) as url:
        yield url


def test_two_feeds_with_the_same_guid_keep_both_items(feeds: str) -> None:
    one, two = list_channel(f"{feeds}/one.xml"), list_channel(f"{feeds}/two.xml")
    ids = [v.video_id for v in one + two]
    assert len(set(ids)) == 3
    assert {v.title for v in one + two} == {"One: first", "One: second", "Two: first"}


def test_guids_that_clean_to_the_same_text_stay_apart(feeds: str) -> None:
    videos = list_channel(f"{feeds}/slashes.xml")
    assert sorted(v.title for v in videos) == ["slashes", "spaces", "underscores"]
    assert len({v.video_id for v in videos}) == 3


def test_long_guids_sharing_a_head_stay_apart(feeds: str) -> None:
    videos = list_channel(f"{feeds}/long.xml")
    assert sorted(v.title for v in videos) == ["long 1", "long 2"]
    assert len({v.video_id for v in videos}) == 2
    assert all(VIDEO_ID_RE.fullmatch(v.video_id) for v in videos)


def test_a_clean_short_guid_stays_readable_and_ids_are_stable(feeds: str) -> None:
    url = f"{feeds}/one.xml"
    videos = list_channel(url)
    assert sorted(v.video_id for v in videos) == sorted([feed_item_id(url, "1"), feed_item_id(url, "2")])
    assert feed_item_id(url, "1").endswith("-1")
    assert [v.video_id for v in list_channel(url)] == [v.video_id for v in videos]


def test_youtube_keeps_its_id_and_other_extractors_prefix_theirs() -> None:
    assert video_id({"id": "dQw4w9WgXcQ"}, "youtube", "https://www.youtube.com/@x") == "dQw4w9WgXcQ"
    assert video_id({"id": "123"}, "vimeo", "https://vimeo.com/x") == "vimeo-123"
    # Global within the extractor: the channel does not change it.
    assert video_id({"id": "123"}, "vimeo", "https://vimeo.com/y") == "vimeo-123"
    assert video_id({"id": "a/b"}, "vimeo", "u") != video_id({"id": "a_b"}, "vimeo", "u")


# -- upgrading a home and catalog made with the release's ids ---------------------------------------
def _release_video_id(entry: dict[str, Any], extractor: str, channel_url: str) -> str:
    """The id the release before this one gave the sample feed's items: their bare <guid>.

    That release cleaned a guid and cut it to 60 characters, with no feed namespace in front; for the
    sample's short, clean guids (`rust`, `react`) that is today's id without its namespace.
    """
    assert extractor == "generic", "the sample feed is listed by yt-dlp's generic extractor"
    return video_id(entry, extractor, channel_url).removeprefix(feed_namespace(channel_url) + "-")


@pytest.mark.slow
def test_a_release_home_and_catalog_keep_every_video_once_after_the_upgrade(
    server: FeedServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = server.feed_url
    with monkeypatch.context() as release:
        release.setattr(discover, "video_id", _release_video_id)
        # The release also stored the item URL as yt-dlp gave it, with the guid smuggled in: the upgrade reads it there.
        release.setattr(discover, "public_url", lambda url: url)
        assert sorted(ingest(settings, [feed])["loaded"]) == ["react", "rust"]
    assert sorted(p.name for p in settings.work_dir.iterdir()) == ["react", "rust"]
    before = counts(settings.catalog_path)
    downloads = fresh_requests(server, "rust.webm") + fresh_requests(server, "react.mp4")

    # A home made by the release has never been upgraded; its next discover upgrades it first.
    Store(settings).blobs.delete(UPGRADED_MARKER)
    assert Store(settings).video("rust") is not None
    again = ingest(settings, [feed], retry_permanent=False)
    assert again["loaded"] == [] and again["failed"] == [], "nothing is listed as new after the upgrade"
    assert fresh_requests(server, "rust.webm") + fresh_requests(server, "react.mp4") == downloads

    new = {guid: feed_item_id(feed, guid) for guid in ("rust", "react")}
    assert sorted(p.name for p in settings.work_dir.iterdir()) == sorted(new.values())
    assert sorted(p.stem for p in settings.media_dir.iterdir()) == sorted(new.values())
    store = Store(settings)
    for guid, renamed in new.items():
        video = store.video(renamed)
        assert video is not None and video.video_id == renamed
        assert video.url.split("#")[0].rsplit("/", 1)[1].split(".")[0] == guid
        assert store.failure(renamed) is None
    rows = query(settings.catalog_path, "SELECT video_id, status FROM videos ORDER BY video_id")
    assert rows == sorted((video_id, "loaded") for video_id in new.values())
    summaries = query(settings.catalog_path, "SELECT video_id, summary_id FROM summaries")
    assert sorted(v for v, _ in summaries) == sorted(new.values())
    assert all(summary_id.startswith(video_id + "-") for video_id, summary_id in summaries)
    assert counts(settings.catalog_path) == before, "a rename changes no row count"
    for table in ("transcripts", "segments", "summary_sections", "topic_tags", "stage_runs", "search_docs"):
        stale = query(settings.catalog_path, f"SELECT count(*) FROM {table} WHERE video_id IN ('rust', 'react')")
        assert stale == [(0,)], table

    assert query(settings.catalog_path, "SELECT count(*) FROM videos") == [(2,)]
    # And the upgrade is done once: a second run finds nothing to rename.
    assert upgrade_ids_once(settings) == {} and upgrade_home(settings) == {}

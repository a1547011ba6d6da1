"""Discover stage: yt-dlp lists the loopback sample feed into Video records; select picks by date and count."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ports import free_port
from tubescribe.records import Video
from tubescribe.sample import serve_sample_channel
from tubescribe.stages.discover import DiscoverError, check_channel_url, feed_namespace, list_channel, select

# What feed.xml.tmpl says, written out by hand: guid -> (title, pubDate in UTC, itunes:duration).
FEED = {
    "zig": ("Zig in 100 Seconds", datetime(2024, 3, 4, 15, 0, tzinfo=UTC), 182.0),
    "rust": ("Rust in 100 Seconds", datetime(2024, 5, 14, 15, 0, tzinfo=UTC), 154.0),
    "react": ("React in 100 Seconds", datetime(2024, 8, 9, 15, 0, tzinfo=UTC), 181.0),
    "typescript_fireship": ("TypeScript in 100 Seconds", datetime(2024, 11, 20, 15, 0, tzinfo=UTC), 267.0),
    "localized_deployment": ("Localized Deployments Explained", datetime(2025, 2, 6, 15, 0, tzinfo=UTC), 208.0),
}
NEWEST_FIRST = ["localized_deployment", "typescript_fireship", "react", "rust", "zig"]


@pytest.fixture(scope="module")
def listed() -> Iterator[list[Video]]:
    """The whole sample channel, listed once for the select tests."""
    with serve_sample_channel() as url:
        yield list_channel(url)


def ids(videos: list[Video]) -> list[str]:
    """The feed's guids, once each id is checked to start with its feed's namespace."""
    for video in videos:
        assert video.video_id.startswith(feed_namespace(video.channel_url) + "-"), video.video_id
    return [v.video_id.removeprefix(feed_namespace(v.channel_url) + "-") for v in videos]


# -- listing ---------------------------------------------------------------------------------------
def test_small_feed_lists_its_two_videos_newest_first(small_feed: str) -> None:
    assert ids(list_channel(small_feed)) == ["react", "rust"]


def test_sample_feed_lists_every_guid_newest_first(sample_feed: str) -> None:
    assert ids(list_channel(sample_feed)) == NEWEST_FIRST


def test_titles_come_from_the_feed(sample_feed: str) -> None:
    videos = list_channel(sample_feed)
    assert dict(zip(ids(videos), [v.title for v in videos], strict=True)) == {k: t for k, (t, _, _) in FEED.items()}


def test_publish_dates_come_from_pubdate_in_utc(sample_feed: str) -> None:
    videos = list_channel(sample_feed)
    assert dict(zip(ids(videos), [v.published_at for v in videos], strict=True)) == {
        k: when for k, (_, when, _) in FEED.items()
    }
    assert all(v.published_at is not None and v.published_at.utcoffset() == timedelta(0) for v in videos)


def test_durations_come_from_the_feed(sample_feed: str) -> None:
    videos = list_channel(sample_feed)
    assert dict(zip(ids(videos), [v.duration_s for v in videos], strict=True)) == {
        k: d for k, (_, _, d) in FEED.items()
    }


def test_every_video_carries_one_channel(small_feed: str) -> None:
    videos = list_channel(small_feed)
    assert {(v.channel_id, v.channel_title, v.channel_url) for v in videos} == {
        ("generic-tubescribe-sample-channel", "tubescribe sample channel", small_feed)
    }


def test_video_urls_point_at_the_enclosures(small_feed: str) -> None:
    base = small_feed.rsplit("/", 1)[0]
    videos = list_channel(small_feed)
    # As users open them: without the fragment yt-dlp smuggles a feed item's <guid> in.
    urls = dict(zip(ids(videos), [v.url for v in videos], strict=True))
    assert urls == {"react": f"{base}/react.mp4", "rust": f"{base}/rust.webm"}


def test_listing_twice_gives_the_same_records(small_feed: str) -> None:
    assert list_channel(small_feed) == list_channel(small_feed)


# -- select ----------------------------------------------------------------------------------------
def test_select_without_bounds_keeps_everything_newest_first(listed: list[Video]) -> None:
    assert ids(select(listed)) == NEWEST_FIRST


def test_select_since_includes_the_boundary_day(listed: list[Video]) -> None:
    assert ids(select(listed, since=date(2024, 8, 9))) == ["localized_deployment", "typescript_fireship", "react"]


def test_select_since_the_day_after_excludes_it(listed: list[Video]) -> None:
    assert ids(select(listed, since=date(2024, 8, 10))) == ["localized_deployment", "typescript_fireship"]


def test_select_until_includes_the_boundary_day(listed: list[Video]) -> None:
    assert ids(select(listed, until=date(2024, 5, 14))) == ["rust", "zig"]


def test_select_until_the_day_before_excludes_it(listed: list[Video]) -> None:
    assert ids(select(listed, until=date(2024, 5, 13))) == ["zig"]


def test_select_between_exact_boundaries(listed: list[Video]) -> None:
    chosen = select(listed, since=date(2024, 5, 14), until=date(2024, 11, 20))
    assert ids(chosen) == ["typescript_fireship", "react", "rust"]


def test_select_single_day(listed: list[Video]) -> None:
    assert ids(select(listed, since=date(2024, 3, 4), until=date(2024, 3, 4))) == ["zig"]


def test_select_limit_keeps_the_newest(listed: list[Video]) -> None:
    assert ids(select(listed, limit=2)) == ["localized_deployment", "typescript_fireship"]


def test_select_limit_applies_after_the_date_window(listed: list[Video]) -> None:
    assert ids(select(listed, since=date(2024, 1, 1), until=date(2024, 12, 31), limit=2)) == [
        "typescript_fireship",
        "react",
    ]


def test_select_empty_window_gives_nothing(listed: list[Video]) -> None:
    assert select(listed, since=date(2025, 2, 7)) == []


def test_select_sorts_unsorted_input_newest_first(listed: list[Video]) -> None:
    assert ids(select(list(reversed(listed)))) == NEWEST_FIRST


def test_select_with_a_date_bound_drops_undated_videos(listed: list[Video]) -> None:
    undated = listed[0].model_copy(
        update={"video_id": feed_namespace(listed[0].channel_url) + "-undated", "published_at": None}
    )
    assert "undated" not in ids(select([*listed, undated], since=date(2000, 1, 1)))


# -- refused and dead URLs -------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["file:///etc/passwd", "not a url", "ftp://127.0.0.1/feed.xml", "http:///feed.xml", ""])
def test_non_http_url_is_refused(url: str) -> None:
    with pytest.raises(DiscoverError, match="not an http"):
        list_channel(url)


def test_check_channel_url_strips_whitespace() -> None:
    assert check_channel_url("  https://example.com/feed.xml\n") == "https://example.com/feed.xml"


def test_url_with_nothing_listening_raises_discover_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/feed.xml"
    with pytest.raises(DiscoverError, match="could not list") as caught:
        list_channel(url)
    message = str(caught.value)
    assert url in message
    assert "refused" in message.lower()
    assert not message.startswith("ERROR")


def test_missing_feed_path_raises_discover_error_naming_404(sample_feed: str) -> None:
    url = sample_feed.replace("feed.xml", "missing.xml")
    with pytest.raises(DiscoverError, match="could not list") as caught:
        list_channel(url)
    assert url in str(caught.value)
    assert "404" in str(caught.value)


def test_single_media_url_is_not_a_channel(sample_feed: str) -> None:
    with pytest.raises(DiscoverError, match="single video"):
        list_channel(sample_feed.replace("feed.xml", "rust.webm"))


def test_titles_are_stored_without_control_characters(tmp_path: Path) -> None:
    # C1 controls are legal in XML 1.0; \x9b is a one-byte CSI that recolours or rewrites a terminal.
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Chan\x9b2Jnel</title>'
        "<item><title>Tab\tkept, CSI\x9b31m and NEL\x85 gone</title><guid>1</guid>"
        '<enclosure url="http://127.0.0.1/1.webm" type="audio/webm"/></item></channel></rss>'
    )
    (tmp_path / "feed.xml").write_text(feed, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        [video] = list_channel(f"http://127.0.0.1:{server.server_address[1]}/feed.xml")
    finally:
        server.shutdown()
        server.server_close()
    assert video.title == "Tab\tkept, CSI31m and NEL gone"
    assert video.channel_title == "Chan2Jnel"

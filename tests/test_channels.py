"""The channel registry: channels.toml round-trips, refuses what it cannot ingest, and names itself when broken."""

from __future__ import annotations

import contextlib
import tomllib
from datetime import date

import pytest

from tubescribe.settings import Settings
from tubescribe.stages.channels import Channel, ChannelsFileError, add_channel, load_channels, remove_channel
from tubescribe.stages.discover import DiscoverError

FEED = "https://example.com/feed.xml"
OTHER = "https://www.youtube.com/@fireship"


def write_registry(settings: Settings, text: str) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.channels_file.write_text(text, encoding="utf-8")


# -- round trip ------------------------------------------------------------------------------------
def test_no_file_means_no_channels(settings: Settings) -> None:
    assert load_channels(settings) == []


def test_added_channel_is_listed(settings: Settings) -> None:
    assert add_channel(settings, Channel(FEED)) is True
    assert load_channels(settings) == [Channel(FEED)]


def test_since_and_max_videos_round_trip(settings: Settings) -> None:
    add_channel(settings, Channel(FEED, since=date(2024, 1, 31), max_videos=5))
    assert load_channels(settings) == [Channel(FEED, since=date(2024, 1, 31), max_videos=5)]


def test_channels_are_listed_in_the_order_added(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    add_channel(settings, Channel(OTHER, max_videos=3))
    assert [c.url for c in load_channels(settings)] == [FEED, OTHER]


def test_file_is_toml_with_version_1(settings: Settings) -> None:
    add_channel(settings, Channel(FEED, since=date(2024, 1, 31)))
    data = tomllib.loads(settings.channels_file.read_text(encoding="utf-8"))
    assert data == {"version": 1, "channels": [{"url": FEED, "since": date(2024, 1, 31)}]}


def test_url_with_quotes_and_backslashes_round_trips(settings: Settings) -> None:
    url = 'https://example.com/feed?q="a\\b"'
    add_channel(settings, Channel(url))
    assert load_channels(settings) == [Channel(url)]


def test_removed_channel_is_no_longer_listed(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    add_channel(settings, Channel(OTHER))
    assert remove_channel(settings, FEED) is True
    assert load_channels(settings) == [Channel(OTHER)]


def test_removing_the_last_channel_leaves_an_empty_versioned_file(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    remove_channel(settings, FEED)
    assert load_channels(settings) == []
    assert tomllib.loads(settings.channels_file.read_text(encoding="utf-8")) == {"version": 1}


def test_removing_an_unregistered_channel_returns_false(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    assert remove_channel(settings, OTHER) is False
    assert load_channels(settings) == [Channel(FEED)]


# -- duplicates and refused URLs -------------------------------------------------------------------
def test_duplicate_add_returns_false(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    assert add_channel(settings, Channel(FEED, max_videos=2)) is False
    assert load_channels(settings) == [Channel(FEED)]


def test_duplicate_with_surrounding_whitespace_returns_false(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    assert add_channel(settings, Channel(f"  {FEED}\n")) is False
    assert load_channels(settings) == [Channel(FEED)]


def test_added_url_is_stored_stripped(settings: Settings) -> None:
    add_channel(settings, Channel(f"  {FEED} "))
    assert load_channels(settings) == [Channel(FEED)]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "not a url", "ftp://example.com/feed.xml"])
def test_non_http_url_is_refused(settings: Settings, url: str) -> None:
    with pytest.raises(DiscoverError, match="not an http"):
        add_channel(settings, Channel(url))
    assert not settings.channels_file.exists()


def test_add_never_writes_a_file_it_cannot_read_back(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    # Refusing the URL is fine; corrupting the registry is not.
    with contextlib.suppress(DiscoverError, ValueError):
        add_channel(settings, Channel("https://example.com/fe\ned.xml"))
    assert load_channels(settings)[0] == Channel(FEED)


# -- malformed files -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('version = 1\n[[channels]\nurl = "x"\n', "not TOML"),
        ('[[channels]]\nurl = "https://example.com/feed.xml"\n', r"expected version = 1, found None"),
        ('version = 2\n[[channels]]\nurl = "https://example.com/feed.xml"\n', r"expected version = 1, found 2"),
        ("version = 1\n[[channels]]\nsince = 2024-01-31\n", r"channel #1 needs a url"),
        ('version = 1\n[[channels]]\nurl = "https://example.com/feed.xml"\nsince = "yesterday"\n', "since"),
        ('version = 1\n[[channels]]\nurl = "https://example.com/feed.xml"\nmax_videos = 0\n', "max_videos"),
        ('version = 1\n[[channels]]\nurl = "https://example.com/feed.xml"\nmax_videos = "ten"\n', "max_videos"),
    ],
    ids=["bad-toml", "no-version", "version-2", "no-url", "since-text", "max-videos-0", "max-videos-text"],
)
def test_malformed_file_raises_channels_file_error_naming_the_file(settings: Settings, text: str, why: str) -> None:
    write_registry(settings, text)
    with pytest.raises(ChannelsFileError) as caught:
        load_channels(settings)
    assert str(settings.channels_file) in str(caught.value)
    if why != "not TOML":
        assert caught.match(why)


def test_malformed_file_is_not_overwritten_by_add(settings: Settings) -> None:
    broken = 'version = 1\n[[channels]\nurl = "x"\n'
    write_registry(settings, broken)
    with pytest.raises(ChannelsFileError):
        add_channel(settings, Channel(FEED))
    assert settings.channels_file.read_text(encoding="utf-8") == broken


def test_non_http_url_in_the_file_raises_channels_file_error(settings: Settings) -> None:
    write_registry(settings, 'version = 1\n[[channels]]\nurl = "file:///etc/passwd"\n')
    with pytest.raises(ChannelsFileError, match=r"channels\.toml"):
        load_channels(settings)


def test_since_written_as_a_datetime_is_rejected_or_read_as_a_date(settings: Settings) -> None:
    write_registry(
        settings, 'version = 1\n[[channels]]\nurl = "https://example.com/feed.xml"\nsince = 2024-01-31T10:00:00\n'
    )
    try:
        channels = load_channels(settings)
    except ChannelsFileError:
        return
    assert type(channels[0].since) is date


def test_max_videos_true_is_rejected(settings: Settings) -> None:
    write_registry(settings, 'version = 1\n[[channels]]\nurl = "https://example.com/feed.xml"\nmax_videos = true\n')
    with pytest.raises(ChannelsFileError, match="max_videos"):
        load_channels(settings)

"""The channel registry: channels.toml round-trips, refuses what it cannot ingest, and names itself when broken."""

from __future__ import annotations

import contextlib
import tomllib
from datetime import date

import pytest

from tubescribe.settings import Settings
from tubescribe.stages.channels import (
    Channel,
    ChannelsFileError,
    add_channel,
    canonical_url,
    channel_key,
    load_channels,
    register_channel,
    remove_channel,
    rule_changes,
)
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
def test_duplicate_add_returns_false_and_gives_the_channel_the_new_rules(settings: Settings) -> None:
    add_channel(settings, Channel(FEED))
    assert add_channel(settings, Channel(FEED, max_videos=2)) is False
    assert load_channels(settings) == [Channel(FEED, max_videos=2)]


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


# -- one channel, however its URL is spelled --------------------------------------------------------
@pytest.mark.parametrize(
    "spelled",
    [
        "https://www.youtube.com/@fireship/",
        "http://www.youtube.com/@fireship",
        "https://youtube.com/@fireship",
        "https://m.youtube.com/@fireship",
        "https://www.youtube.com/@fireship/videos",
        "https://www.youtube.com/@fireship/featured/",
        "https://www.youtube.com/@fireship/streams",
        "https://www.youtube.com/@fireship/shorts",
    ],
)
def test_a_youtube_channel_spelled_another_way_is_the_same_channel(settings: Settings, spelled: str) -> None:
    assert add_channel(settings, Channel(spelled)) is True
    assert add_channel(settings, Channel(OTHER)) is False
    assert load_channels(settings) == [Channel(OTHER)]  # stored as yt-dlp names it
    assert remove_channel(settings, spelled) is True
    assert load_channels(settings) == []


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.youtube.com/channel/UCsBjURrPoezykLs9EqgamOA/videos/", "https://www.youtube.com/channel/UCsBjURrPoezykLs9EqgamOA"),
        ("https://m.youtube.com/playlist?list=PL0vfts4VzfNiI1BsIK5u7LpPaIDKMJIDN", "https://www.youtube.com/playlist?list=PL0vfts4VzfNiI1BsIK5u7LpPaIDKMJIDN"),
        ("https://www.youtube.com/c/Fireship/home", "https://www.youtube.com/c/Fireship"),
        # Not tabs of a channel: a playlist tab lists playlists, /live is the stream on now.
        ("https://www.youtube.com/@fireship/playlists", "https://www.youtube.com/@fireship/playlists"),
        ("https://www.youtube.com/@fireship/live", "https://www.youtube.com/@fireship/live"),
        # Music pages are another extractor path in yt-dlp; another host keeps its URL as given.
        ("https://music.youtube.com/channel/UC1", "https://music.youtube.com/channel/UC1"),
        ("http://127.0.0.1:8123/feed.xml", "http://127.0.0.1:8123/feed.xml"),
        ("https://example.com/feed/", "https://example.com/feed/"),
    ],
)  # fmt: skip
def test_canonical_urls(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    "spelled",
    ["https://example.com/feed.xml/", "http://example.com/feed.xml", "https://EXAMPLE.com/feed.xml", "https://example.com:443/feed.xml"],
)  # fmt: skip
def test_a_feed_spelled_another_way_is_the_same_channel_and_keeps_its_first_url(
    settings: Settings, spelled: str
) -> None:
    # A generic feed's URL is part of its videos' ids: the registered one stays as it was given.
    add_channel(settings, Channel(FEED))
    assert add_channel(settings, Channel(spelled, max_videos=4)) is False
    assert load_channels(settings) == [Channel(FEED, max_videos=4)]


def test_a_loopback_feed_stays_http_and_other_hosts_are_other_channels(settings: Settings) -> None:
    feed = "http://127.0.0.1:8123/feed.xml"
    assert add_channel(settings, Channel(feed)) is True
    assert add_channel(settings, Channel(feed.replace("127.0.0.1", "localhost"))) is True
    assert add_channel(settings, Channel("http://127.0.0.1:8124/feed.xml")) is True
    assert [c.url for c in load_channels(settings)] == [
        feed,
        "http://localhost:8123/feed.xml",
        "http://127.0.0.1:8124/feed.xml",
    ]
    # www. is YouTube's own alias; elsewhere it may be another site.
    assert channel_key(FEED) != channel_key(FEED.replace("://", "://www."))


def test_readding_with_other_rules_updates_them_and_returns_the_old_ones(settings: Settings) -> None:
    old = Channel(OTHER, since=date(2024, 1, 1), max_videos=3, skip_shorts=True)
    add_channel(settings, old)
    new = Channel("https://youtube.com/@fireship/", max_videos=5, include="rust")
    assert register_channel(settings, new) == old
    assert load_channels(settings) == [Channel(OTHER, max_videos=5, include="rust")]
    assert rule_changes(old, new) == [
        ("since", date(2024, 1, 1), None),
        ("max_videos", 3, 5),
        ("include", None, "rust"),
        ("skip_shorts", True, False),
    ]


def test_readding_with_the_same_rules_changes_nothing(settings: Settings) -> None:
    add_channel(settings, Channel(FEED, max_videos=3))
    add_channel(settings, Channel(OTHER))
    written = settings.channels_file.read_bytes()
    before = settings.channels_file.stat().st_mtime_ns
    registered = register_channel(settings, Channel(f"{FEED}/", max_videos=3))
    assert registered == Channel(FEED, max_videos=3) and rule_changes(registered, Channel(FEED, max_videos=3)) == []
    assert settings.channels_file.read_bytes() == written
    assert settings.channels_file.stat().st_mtime_ns == before, "nothing changed, so nothing is written"


def test_a_registry_written_with_old_spellings_is_read_in_the_canonical_form(settings: Settings) -> None:
    write_registry(
        settings,
        'version = 1\n[[channels]]\nurl = "http://youtube.com/@fireship/videos/"\nmax_videos = 2\n'
        '[[channels]]\nurl = "https://www.youtube.com/@fireship"\nmax_videos = 9\n'
        f'[[channels]]\nurl = "{FEED}/"\n',
    )
    # The same channel twice: the first entry's rules apply, once.
    assert load_channels(settings) == [Channel(OTHER, max_videos=2), Channel(f"{FEED}/")]
    assert add_channel(settings, Channel(FEED)) is False
    assert load_channels(settings) == [Channel(OTHER, max_videos=2), Channel(f"{FEED}/")]
    assert remove_channel(settings, "https://m.youtube.com/@fireship") is True
    assert load_channels(settings) == [Channel(f"{FEED}/")]


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

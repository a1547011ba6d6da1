"""Download stage: yt-dlp fetches the feed's media as published into media/<video_id>.<ext>, or nothing at all."""

from __future__ import annotations

import functools
import http.server
from collections.abc import Iterator

import pytest

from catalog_records import make_video
from helpers_feed import running
from tubescribe.records import Video
from tubescribe.sample import SAMPLE_DIR, render_feed
from tubescribe.settings import Settings
from tubescribe.stages.discover import feed_item_id, list_channel
from tubescribe.stages.download import DownloadError, download_audio
from tubescribe.store import Store


class _RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the sample channel, records every request path, and has one deliberately broken file."""

    def do_GET(self) -> None:
        server: RecordingServer = self.server  # type: ignore[assignment]
        server.requests.append(self.path)
        if self.path.split("?")[0] == "/feed.xml":
            host, port = server.server_address[:2]
            self._send(render_feed(f"http://{host}:{port}").encode(), "application/rss+xml", None)
        elif self.path.split("?")[0] == "/truncated.webm":
            # Announces the whole file but sends only half of it, then hangs up.
            data = (SAMPLE_DIR / "rust.webm").read_bytes()
            self._send(data[: len(data) // 2], "audio/webm", len(data))
            self.close_connection = True
        else:
            super().do_GET()

    def _send(self, body: bytes, content_type: str, length: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class RecordingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), functools.partial(_RecordingHandler, directory=str(SAMPLE_DIR)))
        self.requests: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        # yt-dlp's generic extractor reads the head of a media URL and hangs up: not an error here.
        pass


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    with running(RecordingServer()) as srv:
        yield srv


def feed_video(feed_url: str, guid: str) -> Video:
    """The feed's item with this <guid> (its video id is the guid namespaced by the feed URL)."""
    video_id = feed_item_id(feed_url, guid)
    return next(v for v in list_channel(feed_url) if v.video_id == video_id)


def direct_video(server: RecordingServer, video_id: str, file_name: str) -> Video:
    return make_video(
        video_id,
        video_id,
        url=f"{server.base_url}/{file_name}",
        channel_id="generic-test",
        channel_title="test",
        channel_url=f"{server.base_url}/feed.xml",
    )


def media_listing(settings: Settings) -> list[str]:
    """Everything in media/, hidden staging folders included."""
    return sorted(p.name for p in settings.media_dir.iterdir()) if settings.media_dir.exists() else []


# -- downloads -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("guid", "ext"), [("rust", "webm"), ("react", "mp4")])
def test_feed_media_lands_as_video_id_with_its_extension(
    small_feed: str, store: Store, settings: Settings, guid: str, ext: str
) -> None:
    video = feed_video(small_feed, guid)
    path = download_audio(video, store)
    assert path == (settings.media_dir / f"{video.video_id}.{ext}").resolve()


@pytest.mark.parametrize(("guid", "file_name"), [("rust", "rust.webm"), ("react", "react.mp4")])
def test_downloaded_bytes_equal_the_source_file(small_feed: str, store: Store, guid: str, file_name: str) -> None:
    path = download_audio(feed_video(small_feed, guid), store)
    assert path.read_bytes() == (SAMPLE_DIR / file_name).read_bytes()


def test_successful_download_leaves_only_the_media_file(small_feed: str, store: Store, settings: Settings) -> None:
    video = feed_video(small_feed, "rust")
    download_audio(video, store)
    assert media_listing(settings) == [f"{video.video_id}.webm"]


def test_downloaded_file_is_what_the_store_reports(small_feed: str, store: Store) -> None:
    video = feed_video(small_feed, "react")
    path = download_audio(video, store)
    assert store.media(video.video_id) == path


def test_second_download_does_not_hit_the_server(server: RecordingServer, store: Store) -> None:
    video = feed_video(f"{server.base_url}/feed.xml", "rust")
    first = download_audio(video, store)
    assert any(path.startswith("/rust.webm") for path in server.requests)
    server.requests.clear()
    mtime = first.stat().st_mtime_ns
    second = download_audio(video, store)
    assert server.requests == []
    assert second == first
    assert second.stat().st_mtime_ns == mtime


# -- failures --------------------------------------------------------------------------------------
def test_missing_media_raises_download_error_naming_404(server: RecordingServer, store: Store) -> None:
    with pytest.raises(DownloadError, match="404") as caught:
        download_audio(direct_video(server, "gone", "gone.webm"), store)
    assert str(caught.value).startswith("gone:")


def test_missing_media_leaves_nothing_in_media(server: RecordingServer, store: Store, settings: Settings) -> None:
    with pytest.raises(DownloadError):
        download_audio(direct_video(server, "gone", "gone.webm"), store)
    assert media_listing(settings) == []
    assert store.media("gone") is None


def test_truncated_response_raises_download_error(server: RecordingServer, store: Store) -> None:
    with pytest.raises(DownloadError, match="expected"):
        download_audio(direct_video(server, "cut", "truncated.webm"), store, {"retries": 1})


def test_truncated_response_leaves_no_finished_looking_file(
    server: RecordingServer, store: Store, settings: Settings
) -> None:
    with pytest.raises(DownloadError):
        download_audio(direct_video(server, "cut", "truncated.webm"), store, {"retries": 1})
    assert media_listing(settings) == []
    assert store.media("cut") is None


def test_failed_download_is_retried_on_the_next_call(server: RecordingServer, store: Store, settings: Settings) -> None:
    with pytest.raises(DownloadError):
        download_audio(direct_video(server, "rust", "truncated.webm"), store, {"retries": 0})
    path = download_audio(direct_video(server, "rust", "rust.webm"), store)
    assert path.read_bytes() == (SAMPLE_DIR / "rust.webm").read_bytes()
    assert media_listing(settings) == ["rust.webm"]


def test_download_ignores_the_remote_file_name(server: RecordingServer, store: Store, settings: Settings) -> None:
    # The remote name ("rust") differs from our id: only the id names the file.
    path = download_audio(direct_video(server, "my_id", "rust.webm"), store)
    assert path.name == "my_id.webm"
    assert not (settings.media_dir / "rust.webm").exists()


def test_download_stages_in_scratch_and_leaves_nothing_there(small_feed: str, store: Store, settings: Settings) -> None:
    video = feed_video(small_feed, "rust")
    killed = settings.scratch / f".{video.video_id}.killed-midway"
    killed.mkdir(parents=True)
    (killed / f"{video.video_id}.webm.part").write_bytes(b"half")
    download_audio(video, store)
    assert list(settings.scratch.iterdir()) == []
    assert media_listing(settings) == [f"{video.video_id}.webm"]

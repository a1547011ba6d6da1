"""Captions first: `from_captions` fetching through a real yt-dlp session from a loopback server (200, 404,
429, corrupt and truncated files), and never leaking a caption URL."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import jiwer
import pytest
import yt_dlp

from caption_bodies import (
    POT,
    WORD_S,
    _words,
    json3,
    plain_vtt,
    srt_body,
)
from tubescribe.errors import Kind
from tubescribe.records import Video
from tubescribe.stages.captions import (
    CAPTION_KEYS,
    CaptionsBlocked,
    from_captions,
)

# --- from_captions against a loopback server through a real yt-dlp session ---


@dataclass
class CaptionServer:
    base: str = ""
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def serve(self, name: str, body: str | bytes, status: int = 200) -> str:
        """The URL of `name`, with a token in its query as YouTube's have."""
        self.routes[f"/{name}"] = (status, body.encode() if isinstance(body, str) else body)
        return f"{self.base}/{name}?lang=en&{POT}"


@pytest.fixture
def server() -> Iterator[CaptionServer]:
    state = CaptionServer()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            state.seen.append((path, dict(self.headers)))
            status, body = state.routes.get(path, (404, b"not here"))
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def ydl() -> Iterator[yt_dlp.YoutubeDL]:
    with yt_dlp.YoutubeDL({"quiet": True, "no_warnings": True}) as session:
        yield session


def _video(duration: float | None = None) -> Video:
    return Video(
        video_id="vid_1",
        title="t",
        url="http://127.0.0.1/v",
        channel_id="c",
        channel_title="c",
        channel_url="http://127.0.0.1/c",
        duration_s=duration,
    )


def _info(duration: float | None, **tracks: list[dict[str, object]]) -> dict[str, object]:
    return {"duration": duration, "subtitles": tracks.pop("subtitles", {}), "automatic_captions": tracks}


def _assert_no_url(result_text: str, server: CaptionServer) -> None:
    assert "SECRET" not in result_text and server.base not in result_text and "127.0.0.1" not in result_text


SPOKEN_S = len(_words()) * WORD_S


@pytest.mark.parametrize(
    ("fmt", "body", "kind"),
    [("vtt", plain_vtt, "uploaded"), ("srt", srt_body, "uploaded"), ("json3", json3, "automatic")],
)
def test_captions_that_pass_become_the_transcript(server, ydl, fmt, body, kind):
    words = _words()
    url = server.serve(f"en.{fmt}", body(words))
    entry = [{"ext": fmt, "url": url, "http_headers": {"X-Probe": "1"}, "impersonate": True}]
    info = _info(SPOKEN_S, subtitles={"en": entry}) if kind == "uploaded" else _info(SPOKEN_S, **{"en-orig": entry})
    result = from_captions(_video(), info, ydl, "any", ())
    assert result.check.outcome == "used", result.check.reason
    assert result.check.reason.startswith(f"{kind} {'en' if kind == 'uploaded' else 'en-orig'} ({fmt}): ")
    assert "cues cover 100 % of" in result.check.reason
    _assert_no_url(result.check.reason, server)
    transcript = result.transcript
    assert transcript is not None
    assert (transcript.source, transcript.model, transcript.language) == ("captions", "captions", "en")
    assert transcript.settings_key == CAPTION_KEYS[kind] and transcript.caption_kind == kind
    assert transcript.caption_format == fmt and transcript.language_probability is None
    assert transcript.audio_duration_s == SPOKEN_S
    assert transcript.segments[0].idx == 0 and transcript.segments[0].start_s == 0.0
    assert jiwer.wer(" ".join(words), transcript.text) < 0.05
    assert server.seen[-1][1].get("X-Probe") == "1"  # the format's own headers went with the request


def test_generic_page_with_a_track_element_end_to_end(server, ydl):
    server.serve("v.vtt", plain_vtt(_words()))
    page = '<html><body><video src="v.mp4"><track kind="captions" srclang="en" src="v.vtt"></video></body></html>'
    server.serve("page.html", page)
    info = ydl.extract_info(f"{server.base}/page.html", download=False)
    result = from_captions(_video(SPOKEN_S), info, ydl, "uploaded", ())
    assert result.check.outcome == "used" and result.check.track == "en"
    assert result.transcript is not None and result.transcript.audio_duration_s == SPOKEN_S


def test_a_missing_track_falls_back_to_the_next_then_to_whisper(server, ydl):
    missing = server.serve("gone.vtt", b"", status=404)
    good = server.serve("auto.json3", json3(_words()))
    info = _info(
        SPOKEN_S, subtitles={"en": [{"ext": "vtt", "url": missing}]}, **{"en-orig": [{"ext": "json3", "url": good}]}
    )
    result = from_captions(_video(), info, ydl, "any", ())
    assert result.check.outcome == "used" and result.check.kind == "automatic"
    alone = from_captions(_video(), info, ydl, "uploaded", ())
    assert alone.transcript is None and alone.check.outcome == "rejected"
    assert alone.check.reason == "uploaded en (vtt): not found (HTTP 404)"
    assert (alone.check.kind, alone.check.track, alone.check.format) == ("uploaded", "en", "vtt")


def test_http_429_blocks_the_platform(server, ydl):
    url = server.serve("en.json3", b"slow down", status=429)
    info = _info(SPOKEN_S, subtitles={"en": [{"ext": "json3", "url": url}]})
    with pytest.raises(CaptionsBlocked) as raised:
        from_captions(_video(), info, ydl, "any", ())
    assert raised.value.kind is Kind.BLOCKED
    assert "HTTP 429" in str(raised.value) and "vid_1" in str(raised.value)
    _assert_no_url(str(raised.value), server)


@pytest.mark.parametrize(
    ("body", "fmt", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "vtt", "binary data"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xff\xfe\xfa broken\n", "vtt", "not UTF-8"),
        (b'{"events": [{"tStartMs": 0, "dDurationMs": 1000, "segs": [{"utf8": "rust a mem', "json3", "not json3"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<b></b>\n", "vtt", "no text"),
    ],
)
def test_corrupt_files_are_rejected_not_raised(server, ydl, body, fmt, words):
    url = server.serve(f"bad.{fmt}", body)
    result = from_captions(_video(), _info(SPOKEN_S, subtitles={"en": [{"ext": fmt, "url": url}]}), ydl, "any", ())
    assert result.transcript is None and result.check.outcome == "rejected"
    assert result.check.reason.startswith(f"uploaded en ({fmt}): ") and words in result.check.reason
    _assert_no_url(result.check.reason, server)


@pytest.mark.parametrize(("share", "outcome"), [(0.3, "rejected"), (0.8, "used")])
def test_a_truncated_file_is_used_only_if_it_still_covers_the_video(server, ydl, share, outcome):
    body = plain_vtt(_words())
    url = server.serve("cut.vtt", body[: int(len(body) * share)].rpartition("\n\n")[0] + "\n")
    result = from_captions(
        _video(SPOKEN_S), _info(None, subtitles={"en": [{"ext": "vtt", "url": url}]}), ydl, "any", ()
    )
    assert result.check.outcome == outcome, result.check.reason
    if outcome == "rejected":
        assert "is under 50 %" in result.check.reason and f"of {SPOKEN_S:.0f} s" in result.check.reason


def test_network_failure_is_rejected_without_the_url(ydl):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/en.vtt?{POT}"
    result = from_captions(_video(), _info(60.0, subtitles={"en": [{"ext": "vtt", "url": url}]}), ydl, "any", ())
    assert result.check.outcome == "rejected" and "download failed" in result.check.reason
    assert "SECRET" not in result.check.reason and "en.vtt" not in result.check.reason
    # A page's <track src> is the page's to choose: a local file is not fetched.
    local = from_captions(
        _video(), _info(60.0, subtitles={"en": [{"ext": "vtt", "url": "file:///etc/hostname"}]}), ydl, "any", ()
    )
    assert local.check.outcome == "rejected" and "download failed" in local.check.reason


def test_network_messages_lose_the_path_and_query_too():
    from yt_dlp.networking.exceptions import TransportError

    from tubescribe.stages.captions.fetch import safe_message

    url = f"https://www.youtube.com/api/timedtext?v=abc&lang=en&{POT}"
    exc = TransportError(
        "HTTPSConnectionPool(host='www.youtube.com', port=443): "
        f"Max retries exceeded with url: /api/timedtext?v=abc&lang=en&{POT} (timed out)"
    )
    message = safe_message(exc, url)
    assert "SECRET" not in message and "timedtext?" not in message
    assert "Max retries exceeded" in message and "timed out" in message


def test_at_most_three_tracks_are_tried(server, ydl):
    urls = {f"en-{r}": server.serve(f"{r}.vtt", b"", status=404) for r in ("AU", "CA", "GB", "IN")}
    info = _info(60.0, subtitles={key: [{"ext": "vtt", "url": url}] for key, url in urls.items()})
    result = from_captions(_video(), info, ydl, "any", ("en",))
    assert result.check.outcome == "rejected" and result.check.reason.count("HTTP 404") == 3
    assert len(server.seen) == 3


def test_off_absent_and_unknown_language_are_decided_without_a_download(server, ydl):
    url = server.serve("en.vtt", plain_vtt(_words()))
    two = _info(SPOKEN_S, subtitles={"en": [{"ext": "vtt", "url": url}], "de": [{"ext": "vtt", "url": url}]})
    off = from_captions(_video(), two, ydl, "off", ())
    assert (off.transcript, off.check.outcome, off.check.policy) == (None, "off", "off")
    unknown = from_captions(_video(), two, ydl, "any", ())
    assert unknown.check.outcome == "absent"
    assert unknown.check.reason == (
        "several caption languages and the video's language is unknown: set TUBESCRIBE_CAPTION_LANGUAGES"
    )
    none = from_captions(_video(), {"duration": 10.0}, ydl, "any", ())
    assert (none.check.outcome, none.check.reason) == ("absent", "no captions listed")
    assert server.seen == []
    assert from_captions(_video(), two, ydl, "any", ("de",)).check.language == "de"


def test_inline_data_needs_no_download_and_pause_applies_to_downloads(server, ydl):
    inline = _info(SPOKEN_S, subtitles={"en": [{"ext": "srt", "data": srt_body(_words())}]})
    assert from_captions(_video(), inline, ydl, "any", (), pause_s=5.0).check.outcome == "used"
    url = server.serve("en.srt", srt_body(_words()))
    started = time.perf_counter()
    fetched = from_captions(
        _video(), _info(SPOKEN_S, subtitles={"en": [{"ext": "srt", "url": url}]}), ydl, "any", (), pause_s=0.3
    )
    assert fetched.check.outcome == "used" and time.perf_counter() - started >= 0.3


def test_untrusted_track_names_are_cleaned_and_capped(server, ydl):
    url = server.serve("en.vtt", plain_vtt(_words()))
    name = "en\x1b]8;;evil\x07" + "x" * 200
    result = from_captions(
        _video(), _info(SPOKEN_S, subtitles={name: [{"ext": "vtt", "url": url}]}), ydl, "any", ("en",)
    )
    assert result.check.outcome == "used"
    assert result.check.track is not None and "\x1b" not in result.check.track and "\x07" not in result.check.track
    assert len(result.check.track) <= 60
    assert result.transcript is not None and result.transcript.caption_track == result.check.track

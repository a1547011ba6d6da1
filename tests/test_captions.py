"""Captions first: track choice on YouTube-shaped listings, cleaning of real caption bodies, and fetching
through a real yt-dlp session from a loopback server (200, 404, 429, corrupt and truncated files).

The caption bodies are built from a sample-channel transcript, timed at 0.4 s a word, in the shapes
YouTube serves: rolling automatic VTT (each line shown twice, 10 ms hold cues, inline word times) and
json3 (overlapping line events, aAppend line breaks).
"""

from __future__ import annotations

import http.server
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
import pytest
import yt_dlp

from tubescribe.errors import Kind
from tubescribe.records import Video
from tubescribe.stages.captions import (
    CAPTION_KEYS,
    CaptionsBlocked,
    allowed_keys,
    from_captions,
)
from tubescribe.stages.captions.clean import clean_cues, to_segments
from tubescribe.stages.captions.parse import CaptionParseError, parse_captions
from tubescribe.stages.captions.tracks import POLICY_KINDS, candidates

SAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe" / "sample_channel" / "rust.txt"
WORD_S = 0.4
LINE_WORDS = 6
POT = "pot=SECRET-TOKEN"


def _words() -> list[str]:
    words = SAMPLE.read_text(encoding="utf-8").split()
    assert len(words) > 300, "the sample transcript is the source of every body here"
    return words


def _ts(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _lines(words: list[str]) -> list[tuple[float, float, list[str]]]:
    return [
        (i * WORD_S, min(i + LINE_WORDS, len(words)) * WORD_S, words[i : i + LINE_WORDS])
        for i in range(0, len(words), LINE_WORDS)
    ]


def rolling_vtt(words: list[str], music_intro: bool = True) -> str:
    """YouTube's automatic VTT: the previous line above the new words, then a 10 ms cue holding the line."""
    out = ["WEBVTT", "Kind: captions", "Language: en", ""]
    if music_intro:
        out += ["00:00:00.000 --> 00:00:00.300 align:start position:0%", "[Music]", ""]
    previous = " "
    for start, end, line in _lines(words):
        timed = line[0] + "".join(f"<{_ts(start + (k + 1) * WORD_S)}><c> {w}</c>" for k, w in enumerate(line[1:]))
        out += [f"{_ts(start)} --> {_ts(end - 0.01)} align:start position:0%", previous, timed, ""]
        previous = " ".join(line)
        out += [f"{_ts(end - 0.01)} --> {_ts(end)} align:start position:0%", previous, " ", ""]
    return "\n".join(out) + "\n"


def json3(words: list[str]) -> str:
    """YouTube's json3: a window event, one event per line shown until the next line ends, aAppend breaks."""
    events: list[dict[str, object]] = [{"tStartMs": 0, "dDurationMs": 999999, "id": 1, "wpWinPosId": 1}]
    for start, end, line in _lines(words):
        start_ms = round(start * 1000)
        segs = [{"utf8": line[0], "acAsrConf": 0}] + [
            {"utf8": f" {w}", "tOffsetMs": round((k + 1) * WORD_S * 1000)} for k, w in enumerate(line[1:])
        ]
        events.append({"tStartMs": start_ms, "dDurationMs": round((end - start) * 2000), "wWinId": 1, "segs": segs})
        events.append(
            {"tStartMs": round(end * 1000) - 10, "dDurationMs": 10, "wWinId": 1, "aAppend": 1, "segs": [{"utf8": "\n"}]}
        )
    return json.dumps({"wireMagic": "pb3", "events": events})


def plain_vtt(words: list[str]) -> str:
    """A creator's uploaded VTT: one line a cue, no repeats."""
    cues = [f"{_ts(s)} --> {_ts(e)}\n{' '.join(line)}\n" for s, e, line in _lines(words)]
    return "WEBVTT\n\n" + "\n".join(cues)


def srt_body(words: list[str]) -> str:
    cues = [
        f"{n}\n{_ts(s).replace('.', ',')} --> {_ts(e).replace('.', ',')}\n{' '.join(line)}\n"
        for n, (s, e, line) in enumerate(_lines(words), 1)
    ]
    return "\n".join(cues)


def _text_of(body: str, fmt: str, rolling: bool = False) -> str:
    return " ".join(cue.text for cue in clean_cues(parse_captions(body, fmt), rolling=rolling).cues)


# --- cleaning real shapes ---


def test_rolling_vtt_reads_back_as_the_spoken_words_once():
    words = _words()
    body = rolling_vtt(words)
    assert body.count(" ".join(words[6:12])) == 2  # each line really is shown twice in the file
    text = _text_of(body, "vtt", rolling=True)
    assert "[Music]" not in text
    assert jiwer.wer(" ".join(words), text) < 0.05
    assert len(text.split()) == len(words)


def test_rolling_vtt_is_recognised_by_its_word_times_alone():
    words = _words()
    assert jiwer.wer(" ".join(words), _text_of(rolling_vtt(words), "vtt")) < 0.05


def test_json3_reads_back_as_the_spoken_words_with_millisecond_times():
    words = _words()
    cleaned = clean_cues(parse_captions(json3(words), "json3"))
    text = " ".join(cue.text for cue in cleaned.cues)
    assert jiwer.wer(" ".join(words), text) < 0.05
    segments = to_segments(cleaned.cues)
    assert [s.idx for s in segments] == list(range(len(segments)))
    # Line events overlap the next one on screen; segments do not.
    assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(segments))
    assert all(s.end_s - s.start_s <= 15.0 for s in segments)


def test_vtt_times_keep_their_milliseconds():
    body = "WEBVTT\n\n00:00:01.234 --> 00:00:03.456\nhello there\n\n00:01:02.005 --> 00:01:04.999\nagain.\n"
    cues = parse_captions(body, "vtt")
    assert [(c.start_s, c.end_s) for c in cues] == [(1.234, 3.456), (62.005, 64.999)]
    segments = to_segments(clean_cues(cues).cues)
    assert (segments[0].start_s, segments[0].end_s) == (1.234, 3.456)


def test_entities_tags_speaker_marks_and_sound_labels_are_not_speech():
    body = (
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n[Applause]\n\n"
        "00:00:02.000 --> 00:00:04.000\n&gt;&gt; Tom &amp; Jerry <i>say</i> &quot;hi&quot; (laughs)\n\n"
        "00:00:04.000 --> 00:00:06.000\n♪ la la ♪\n"
    )
    cleaned = clean_cues(parse_captions(body, "vtt"))
    assert [c.text for c in cleaned.cues] == ['Tom & Jerry say "hi"', "la la"]
    assert cleaned.non_speech == 1


TIMED_BODIES = {
    "srt": "1\n00:00:01,250 --> 00:00:02,500\n<i>one</i> two\n\n2\n00:00:03,000 --> 00:00:04,125\nthree\n",
    "srv1": '<?xml version="1.0"?><transcript><text start="1.25" dur="1.25">one &amp;#39;two</text>'
    '<text start="3" dur="1.125">three</text></transcript>',
    "srv2": '<timedtext><text t="1250" d="1250">one two</text><text t="3000" d="1125">three</text></timedtext>',
    "srv3": '<timedtext format="3"><body><p t="1250" d="1250"><s>one</s><s t="300"> two</s></p>'
    '<p t="2400" d="10" a="1">\n</p><p t="3000" d="1125">three</p></body></timedtext>',
    "ttml": '<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" '
    'ttp:tickRate="1000"><body><div><p begin="00:00:01.250" end="00:00:02.500">one<br/>two</p>'
    '<p begin="3000t" dur="1125ms">three</p></div></body></tt>',
}


@pytest.mark.parametrize("fmt", sorted(TIMED_BODIES))
def test_each_format_reads_times_and_text(fmt):
    cues = clean_cues(parse_captions(TIMED_BODIES[fmt], fmt)).cues
    assert [(c.start_s, c.end_s) for c in cues] == [(1.25, 2.5), (3.0, 4.125)]
    assert cues[1].text == "three"
    assert cues[0].text in ("one two", "one 'two")


@pytest.mark.parametrize(
    ("body", "fmt", "words"),
    [
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:0x.000 --> 00:00:04.000\nlost\n", "vtt", "unreadable"),
        ("no header\n\n00:00:01.000 --> 00:00:02.000\nok\n", "vtt", "not WebVTT"),
        ('{"events": [{"tStartMs": "soon", "segs": [{"utf8": "x"}]}]}', "json3", "not json3"),
        ('{"events": [{"tStartMs": 0, "segs": [{"ut', "json3", "not json3"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><timedtext><text t="0">&a;</text></timedtext>', "srv3", "DOCTYPE"),
        ('<timedtext><text t="0" d="10">cut', "srv2", "well-formed"),
        ("1\n00:00:01,000 --> 00:00:0x,000\nok\n\n2\n00:00:03,000 --> 00:00:04,000\nx\n", "srt", "time span"),
        ("<html>Sign in</html>", "srt", "not SubRip"),
        ('<tt xmlns="http://www.w3.org/ns/ttml"><body><p begin="later">x</p></body></tt>', "ttml", "TTML time"),
    ],
)
def test_damaged_files_raise_a_parse_error_saying_why(body, fmt, words):
    with pytest.raises(CaptionParseError, match=words):
        parse_captions(body, fmt)


# --- track choice ---


def _formats(base: str, key: str, query: str = "") -> list[dict[str, object]]:
    listed: list[dict[str, object]] = [
        {"ext": ext, "url": f"{base}/{key}.{ext}?lang={key}&fmt={ext}{query}&{POT}", "name": key, "impersonate": True}
        for ext in ("json3", "srv1", "srv2", "srv3", "ttml", "vtt")
    ]
    # An HLS playlist of caption pieces sorts as the best vtt: it must never be picked.
    return [*listed, {"ext": "vtt", "url": f"{base}/{key}.m3u8?{POT}", "protocol": "m3u8_native"}]


def youtube_info(base: str = "https://www.youtube.com/api/timedtext", **extra: object) -> dict[str, object]:
    return {
        "id": "abc",
        "duration": 200.0,
        "subtitles": {
            "en": _formats(base, "en"),
            "live_chat": [{"ext": "json", "url": f"{base}/live_chat.json", "protocol": "youtube_live_chat_replay"}],
        },
        "automatic_captions": {
            "en-orig": _formats(base, "en-orig"),
            "en": _formats(base, "en-auto"),
            "de": _formats(base, "de", "&tlang=de"),
            "fr": _formats(base, "fr", "&tlang=fr"),
            "de-en": _formats(base, "de-en"),
        },
        **extra,
    }


def _labels(info: dict[str, object], policy: str = "any", languages: tuple[str, ...] = ()) -> list[str]:
    return [track.label for track in candidates(info, policy, languages).tracks]


def test_uploaded_before_automatic_in_the_spoken_language_best_format_first():
    assert _labels(youtube_info()) == ["uploaded en (json3)", "automatic en-orig (json3)"]


def test_translated_tracks_and_live_chat_are_never_candidates():
    info = youtube_info()
    assert _labels(info, languages=("de", "fr")) == []
    assert "no captions in de, fr" in candidates(info, "any", ("de", "fr")).reason
    only_bad = {
        "subtitles": {"live_chat": [{"ext": "json", "url": "https://x/chat", "protocol": "youtube_live_chat_replay"}]},
        "automatic_captions": {
            "de-en": _formats("https://x", "de-en"),
            "es": _formats("https://x", "es", "&tlang=es"),
            "fr": [{"ext": "vtt", "url": "https://x/fr.m3u8", "protocol": "m3u8_native"}],
        },
    }
    reason = candidates(only_bad, "any", ()).reason
    assert reason == "only translated, live-chat or unreadable tracks (live_chat, de-en, es, fr)"


def test_uploaded_policy_ignores_automatic_captions():
    info = youtube_info()
    assert _labels(info, "uploaded") == ["uploaded en (json3)"]
    no_uploaded = {**info, "subtitles": {}}
    choice = candidates(no_uploaded, "uploaded", ())
    assert choice.tracks == () and "TUBESCRIBE_CAPTIONS=uploaded" in choice.reason


def test_language_preference_orders_the_tracks():
    info = youtube_info(subtitles={"de": _formats("https://x", "de"), "en-GB": _formats("https://x", "en-GB")})
    assert _labels(info, "uploaded", ("de", "en")) == ["uploaded de (json3)", "uploaded en-GB (json3)"]
    assert _labels(info, "uploaded", ("en-US",)) == ["uploaded en-GB (json3)"]


def test_the_videos_language_picks_among_several_uploaded_tracks():
    info = youtube_info(subtitles={"de": _formats("https://x", "de"), "en": _formats("https://x", "en")})
    assert _labels(info, "uploaded") == ["uploaded en (json3)"]  # from the -orig automatic track
    assert _labels({**info, "language": "de"}, "uploaded") == ["uploaded de (json3)"]


def test_policies_and_their_settings_keys():
    from tubescribe.settings import CAPTION_POLICIES

    assert tuple(POLICY_KINDS) == CAPTION_POLICIES
    assert allowed_keys("off") == ()
    assert allowed_keys("uploaded") == ("captions-uploaded",)
    assert allowed_keys("any") == ("captions-uploaded", "captions-automatic")
    assert set(CAPTION_KEYS.values()) == set(allowed_keys("any"))
    with pytest.raises(ValueError, match="TUBESCRIBE_CAPTIONS"):
        allowed_keys("sometimes")


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

"""Captions first, end to end on loopback: captioned videos land from their captions without a single
request for their media, the others through Whisper, and the catalog says which and why.

The feed links two videos to pages with creator captions (a WebVTT and a SubRip track, as yt-dlp's
generic extractor finds them in a <video>'s <track>), and one to its media only. Media are 20-second
clips, so the Whisper fallbacks stay quick; the stages run in this process as the DAG's tasks do.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import jiwer
import pytest

from helpers_feed import FeedServer, serve
from resilience_support import clip, fresh_env, ingest, query
from tubescribe.orchestration import embedded as airflow_env
from tubescribe.pipeline import steps as pipeline
from tubescribe.sample import FEED_TEMPLATE, SAMPLE_DIR
from tubescribe.settings import Settings
from tubescribe.stages.discover import feed_item_id
from tubescribe.stages.transcribe.whisper import settings_key
from tubescribe.store import Store

pytestmark = pytest.mark.slow
CAPTIONED = {
    "zig": ("zig.m4a", "zig.vtt"),
    "typescript_fireship": ("typescript_fireship.m4a", "typescript_fireship.srt"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample feed and captioned pages, with 20-second clips of every medium served."""
    path = tmp_path_factory.mktemp("captioned-site")
    shutil.copy(SAMPLE_DIR / FEED_TEMPLATE, path / FEED_TEMPLATE)
    for video_id, (media, caption) in CAPTIONED.items():
        shutil.copy(SAMPLE_DIR / f"{video_id}.html", path / f"{video_id}.html")
        shutil.copy(SAMPLE_DIR / caption, path / caption)
        clip(SAMPLE_DIR / media, path / media, 20)
    clip(SAMPLE_DIR / "rust.webm", path / "rust.webm", 20)
    return path


@pytest.fixture
def server(site: Path) -> Iterator[FeedServer]:
    with serve(site, only=["zig", "typescript_fireship", "rust"], captions=True) as srv:
        yield srv


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return fresh_env(monkeypatch, tmp_path / "home")


def _sources(settings: Settings) -> dict[str, tuple]:
    rows = query(
        settings.catalog_path,
        "SELECT p.video_id, p.transcript_source, p.caption_kind, p.caption_track, p.caption_format, t.settings_key,"
        " p.caption_note FROM video_processing p JOIN transcripts t USING (video_id)",
    )
    return {video_id: tuple(rest) for video_id, *rest in rows}


def _id(server: FeedServer, guid: str) -> str:
    return feed_item_id(server.feed_url, guid)


def test_captioned_videos_land_from_their_captions_without_a_media_request(
    server: FeedServer, settings: Settings
) -> None:
    result = ingest(settings, [server.feed_url])
    assert sorted(result["loaded"]) == sorted(_id(server, g) for g in ("zig", "typescript_fireship", "rust"))
    sources = _sources(settings)
    zig, ts, rust = (sources[_id(server, g)] for g in ("zig", "typescript_fireship", "rust"))
    assert zig[:5] == ("captions", "uploaded", "en", "vtt", "captions-uploaded")
    assert ts[:5] == ("captions", "uploaded", "en", "srt", "captions-uploaded")
    # No captions on rust's item: Whisper, under the key Whisper transcripts always had.
    assert rust[:5] == ("asr", None, None, None, settings_key(settings))
    assert rust[5] and "no captions" in rust[5].lower()
    assert "uploaded en" in zig[5] and "%" in zig[5]
    # The point of it: not one request for a captioned video's media, one for its caption file.
    assert server.hits("zig.m4a") == server.hits("typescript_fireship.m4a") == 0
    assert server.hits("zig.vtt") == server.hits("typescript_fireship.srt") == 1
    assert server.hits("rust.webm") >= 1
    assert not (settings.media_dir / "zig.m4a").exists()


def test_caption_words_are_the_creators_and_seconds_are_kept(server: FeedServer, settings: Settings) -> None:
    ingest(settings, [server.feed_url])
    zig = _id(server, "zig")
    segments = query(
        settings.catalog_path, "SELECT start_s, end_s, text FROM segments WHERE video_id = ? ORDER BY idx", [zig]
    )
    text = " ".join(t for _, _, t in segments)
    assert "[Music]" not in text  # a non-speech tag, not words
    source = (SAMPLE_DIR / "zig.txt").read_text(encoding="utf-8").split()
    assert jiwer.wer(" ".join(source[1:]), text.lower()) < 0.05
    starts = [s for s, _, _ in segments]
    assert starts == sorted(starts) and segments[-1][1] > 150  # the track's own times, to the end of the talk
    assert any(round(s, 3) != round(s) for s in starts)  # milliseconds, not whole seconds


def test_show_says_a_transcript_came_from_captions(server: FeedServer, settings: Settings) -> None:
    from cli_support import tubescribe

    ingest(settings, [server.feed_url])
    zig, rust = (tubescribe(settings.home, "show", _id(server, guid)) for guid in ("zig", "rust"))
    assert zig.returncode == 0 and "transcript from the platform's uploaded captions (en)" in zig.stdout
    assert rust.returncode == 0 and "captions" not in rust.stdout.split("transcript (")[0]


def test_a_second_run_is_settled_and_requests_nothing_more(server: FeedServer, settings: Settings) -> None:
    ingest(settings, [server.feed_url])
    before = len(server.requests)
    assert pipeline.discover(settings, [server.feed_url]) == []
    assert [name for name, _ in server.requests[before:]] == ["feed.xml"]


@pytest.mark.parametrize("fault", ["not_found", "corrupt", "truncated"])
def test_a_bad_caption_file_falls_back_to_whisper_and_says_why(
    server: FeedServer, settings: Settings, fault: str
) -> None:
    server.fail("zig.vtt", fault)
    result = ingest(settings, [server.feed_url])
    zig = _id(server, "zig")
    assert zig in result["loaded"]
    source, *_, key, note = _sources(settings)[zig]
    assert (source, key) == ("asr", settings_key(settings))
    assert note and "zig.vtt" not in note and "127.0.0.1" not in note  # the track, never its URL
    assert server.hits("zig.m4a") >= 1


def test_a_rate_limited_caption_file_blocks_the_platform_and_the_video_waits(
    server: FeedServer, settings: Settings
) -> None:
    server.fail("zig.vtt", "rate_limited")
    result = ingest(settings, [server.feed_url])
    zig = _id(server, "zig")
    assert zig in result["pending"]
    assert server.hits("zig.m4a") == 0  # blocked: nothing more is asked of the platform for it
    failure = Store(settings).failure(zig)
    assert failure is not None and failure.kind == "blocked"


def test_turning_captions_off_hears_the_captioned_videos_again_and_keeps_the_old_rows(
    server: FeedServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(settings, [server.feed_url])
    off = fresh_env(monkeypatch, settings.home, TUBESCRIBE_CAPTIONS="off")
    result = ingest(off, [server.feed_url])
    zig, ts = _id(server, "zig"), _id(server, "typescript_fireship")
    assert sorted(result["loaded"]) == sorted([zig, ts])  # rust was Whisper's already: settled
    sources = _sources(off)
    assert sources[zig][0] == sources[ts][0] == "asr"
    assert "off" in sources[zig][5]
    replaced = query(off.catalog_path, "SELECT video_id, source, settings_key FROM replaced_transcripts ORDER BY ALL")
    assert replaced == sorted([(zig, "captions", "captions-uploaded"), (ts, "captions", "captions-uploaded")])
    # Their summaries were made again, from the new transcript.
    keys = dict(query(off.catalog_path, "SELECT video_id, transcript_key FROM latest_summaries"))
    assert keys[zig] == keys[ts] == settings_key(off)


def test_retranscribe_replaces_captions_with_whisper_and_the_nightly_keeps_them(
    airflow_db: Path, server: FeedServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(settings, [server.feed_url])
    zig, ts, rust = (_id(server, g) for g in ("zig", "typescript_fireship", "rust"))
    state = airflow_env.run_dag(
        "tubescribe_retranscribe", {"where": "transcript_source = 'captions' AND title LIKE 'Zig%'"}
    )
    assert state == "success"
    sources = _sources(settings)
    assert [sources[v][0] for v in (zig, ts, rust)] == ["asr", "captions", "asr"]
    assert query(settings.catalog_path, "SELECT video_id FROM replaced_transcripts") == [(zig,)]
    # Back on the default policy (any), the Whisper transcript is kept: no flip back to the captions.
    assert pipeline.discover(Settings.load(), [server.feed_url]) == []


def test_a_stored_whisper_transcript_of_another_model_counts_as_done(server: FeedServer, settings: Settings) -> None:
    ingest(settings, [server.feed_url])
    other = Settings.load(whisper_model=str(settings.home / "some-bigger-model"))
    assert pipeline.discover(other, [server.feed_url]) == []  # a model change applies to new videos only
    redo = Settings.load(whisper_model=str(settings.home / "some-bigger-model"), retranscribe="outdated")
    assert pipeline.discover(redo, [server.feed_url]) == [[_id(server, "rust")]]  # opted in: redone


def test_the_caption_policy_decides_which_stored_captions_count(settings: Settings) -> None:
    from catalog_records import make_transcript, make_video

    store = Store(settings)
    video = make_video("auto1", "Automatic only")
    store.save_video(video)
    store.save_transcript(
        make_transcript("auto1").model_copy(
            update={"settings_key": "captions-automatic", "source": "captions", "caption_kind": "automatic"}
        )
    )
    pipeline.summarize(settings, ["auto1"])
    assert pipeline.load(settings, ["auto1"])["loaded"] == ["auto1"]
    assert pipeline.settled_ids(settings, retry_permanent=True) == {"auto1"}
    uploaded_only = Settings.load(captions="uploaded")
    assert pipeline.settled_ids(uploaded_only, retry_permanent=True) == set()  # re-checked under the new policy
    assert Store(uploaded_only).accepted_transcript("auto1", pipeline.accepted_transcripts(uploaded_only)) is None

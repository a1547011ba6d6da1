"""Artifacts under $TUBESCRIBE_HOME: atomic writes, safe ids, records that round-trip, finished media only."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tubescribe.contract import parse_summary
from tubescribe.records import Failure, SectionSpan, Segment, SummaryRecord, Transcript, Video
from tubescribe.settings import Settings
from tubescribe.store import Store, UnsafePathError, atomic_path, write_text

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe"
EXAMPLE = json.loads((PACKAGE / "prompts" / "examples.json").read_text(encoding="utf-8"))[0]["summary"]
WHEN = datetime(2024, 5, 14, 15, 0, tzinfo=UTC)


def make_video(video_id: str = "rust") -> Video:
    return Video(
        video_id=video_id,
        title="Rust in 100 Seconds",
        url=f"http://127.0.0.1:1/{video_id}.webm",
        channel_id="generic-sample",
        channel_title="sample",
        channel_url="http://127.0.0.1:1/feed.xml",
        published_at=WHEN,
        duration_s=154.0,
    )


def make_transcript(video_id: str = "rust", settings_key: str = "abc123") -> Transcript:
    return Transcript(
        video_id=video_id,
        language="en",
        language_probability=0.99,
        audio_duration_s=8.0,
        model="bundled-tiny.en",
        settings_key=settings_key,
        segments=(
            Segment(idx=0, start_s=0.0, end_s=4.0, text="Rust is fast."),
            Segment(idx=1, start_s=4.0, end_s=8.0, text="And memory safe."),
        ),
        transcribed_at=WHEN,
        elapsed_s=1.5,
    )


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- atomic writes ---------------------------------------------------------------------------------
def test_atomic_path_publishes_the_file_when_the_block_succeeds(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.json"
    with atomic_path(target) as tmp:
        tmp.write_text("done")
    assert target.read_text() == "done"
    assert files_in(target.parent) == ["a.json"]


def test_atomic_path_leaves_no_file_when_the_block_raises(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    with pytest.raises(RuntimeError, match="crash"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert files_in(tmp_path) == []


def test_atomic_path_keeps_the_old_file_when_the_block_raises(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("new but half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert files_in(tmp_path) == ["a.json"]


def test_write_text_replaces_the_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    write_text(target, "a much longer first version")
    write_text(target, "short")
    assert target.read_text(encoding="utf-8") == "short"


# -- unsafe ids ------------------------------------------------------------------------------------
@pytest.mark.parametrize("video_id", ["../x", "a/b", "", "..", "a b", "x\x00y", "/etc/passwd", "rust\n"])
def test_unsafe_video_id_is_rejected(store: Store, video_id: str) -> None:
    with pytest.raises(UnsafePathError):
        store.video_dir(video_id)


@pytest.mark.parametrize("video_id", ["../x", "a/b", "", "rust\n"])
def test_unsafe_video_id_is_rejected_for_media(store: Store, video_id: str) -> None:
    with pytest.raises(UnsafePathError):
        store.media(video_id)


@pytest.mark.parametrize("video_id", ["../x", "a/b", "", "rust\n"])
def test_unsafe_video_id_is_rejected_by_the_video_record(video_id: str) -> None:
    with pytest.raises(ValueError, match="video id"):
        make_video(video_id)


def test_safe_video_id_gets_a_folder_inside_the_home(store: Store, settings: Settings) -> None:
    assert store.video_dir("dQw4w9WgXcQ") == (settings.work_dir / "dQw4w9WgXcQ").resolve()


# -- records round-trip ----------------------------------------------------------------------------
def test_video_round_trips(store: Store) -> None:
    video = make_video()
    store.save_video(video)
    assert store.video("rust") == video


def test_transcript_round_trips_under_its_settings_key(store: Store) -> None:
    transcript = make_transcript()
    store.save_transcript(transcript)
    assert store.transcript("rust", "abc123") == transcript


def test_transcript_for_other_settings_key_is_absent(store: Store) -> None:
    store.save_transcript(make_transcript(settings_key="abc123"))
    assert store.transcript("rust", "other") is None


def test_summary_round_trips(store: Store) -> None:
    record = SummaryRecord(
        video_id="rust",
        backend="local",
        model="extractive",
        prompt_version="v1",
        summary=parse_summary(EXAMPLE),
        raw_json=json.dumps(EXAMPLE),
        section_spans=(SectionSpan(start_s=0.0, end_s=30.0),),
        created_at=WHEN,
        tokens_in=10,
    )
    store.save_summary(record, "key1")
    assert store.summary("rust", "key1") == record


def test_failure_round_trips_and_clears(store: Store) -> None:
    failure = Failure(
        video_id="rust", stage="download", kind="permanent", error_class="DownloadError", message="404", at=WHEN
    )
    store.save_failure(failure)
    assert store.failure("rust") == failure
    store.clear_failure("rust")
    assert store.failure("rust") is None


def test_missing_record_reads_as_none(store: Store) -> None:
    assert store.video("never_saved") is None


def test_incompatible_artifact_reads_as_none(store: Store) -> None:
    path = Path(store.save_video(make_video()))
    path.write_text('{"video_id": "rust"}', encoding="utf-8")
    assert store.video("rust") is None


# -- media -----------------------------------------------------------------------------------------
def test_media_finds_a_finished_download(store: Store, settings: Settings) -> None:
    settings.media_dir.mkdir(parents=True)
    (settings.media_dir / "rust.webm").write_bytes(b"audio")
    assert store.media("rust") == (settings.media_dir / "rust.webm").resolve()


def test_media_ignores_part_files(store: Store, settings: Settings) -> None:
    settings.media_dir.mkdir(parents=True)
    (settings.media_dir / "rust.webm.part").write_bytes(b"half")
    (settings.media_dir / "rust.webm.ytdl").write_bytes(b"state")
    assert store.media("rust") is None


def test_media_is_none_without_a_media_folder(store: Store) -> None:
    assert store.media("rust") is None


def test_media_does_not_match_another_video_sharing_a_prefix(store: Store, settings: Settings) -> None:
    settings.media_dir.mkdir(parents=True)
    (settings.media_dir / "rust_2.webm").write_bytes(b"other video")
    assert store.media("rust") is None

"""Artifacts under $TUBESCRIBE_HOME: atomic writes, safe ids, records that round-trip, finished media only."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_records import TKEY, make_failure, make_summary_record, make_transcript, make_video
from tubescribe.settings import Settings
from tubescribe.store import Store, UnsafePathError, atomic_path, write_text


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
    assert store.transcript("rust", TKEY) == transcript


def test_transcript_for_other_settings_key_is_absent(store: Store) -> None:
    store.save_transcript(make_transcript(settings_key=TKEY))
    assert store.transcript("rust", "other") is None


def test_summary_round_trips(store: Store) -> None:
    record = make_summary_record()
    store.save_summary(record, "key1")
    assert store.summary("rust", "key1") == record


def test_failure_round_trips_and_clears(store: Store) -> None:
    failure = make_failure()
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

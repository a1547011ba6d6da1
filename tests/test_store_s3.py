"""State where a deployment shares it (issue 12): the store on S3 (moto on loopback) and on the local home.

Two Store objects with their own scratch folders on one s3:// root stand for two Celery workers on two
machines: what one writes (records, media, platform blocks, the channel registry) the other sees.
"""

from __future__ import annotations

import functools
import http.server
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from catalog_records import TKEY, WHEN, make_failure, make_summary_record, make_transcript, make_video
from helpers_feed import serve_handler
from resilience_support import clip
from services_s3 import S3Service, s3_service  # noqa: F401  (pytest fixture, used by name)
from tubescribe.pipeline import platforms
from tubescribe.pipeline import steps as pipeline
from tubescribe.records import Segment, StageRun
from tubescribe.sample import SAMPLE_DIR
from tubescribe.settings import Settings
from tubescribe.stages.channels import Channel, ChannelsFileError, add_channel, load_channels, remove_channel
from tubescribe.stages.transcribe.whisper import settings_key
from tubescribe.store import Store, UnsafePathError

FEED = "https://example.com/feed.xml"


def shared_settings(s3: S3Service, prefix: str, scratch: Path) -> Settings:
    """A worker's settings: the shared s3:// root, and this machine's own scratch folder."""
    return Settings.load(
        store_url=f"s3://{s3.bucket}/{prefix}",
        s3_endpoint_url=s3.endpoint_url,
        scratch_dir=scratch,
        retry_base_s=0.01,
        whisper_workers=1,
    )


def keys(s3: S3Service, prefix: str) -> list[str]:
    """Every object under a prefix, as S3 itself lists it."""
    listed = s3.client().list_objects_v2(Bucket=s3.bucket, Prefix=f"{prefix}/")
    return sorted(item["Key"][len(prefix) + 1 :] for item in listed.get("Contents", []))


@pytest.fixture
def prefix() -> str:
    return f"run-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def worker1(s3_service: S3Service, prefix: str, settings: Settings, tmp_path: Path) -> Settings:
    return shared_settings(s3_service, prefix, tmp_path / "worker1-scratch")


@pytest.fixture
def worker2(s3_service: S3Service, prefix: str, settings: Settings, tmp_path: Path) -> Settings:
    return shared_settings(s3_service, prefix, tmp_path / "worker2-scratch")


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest, settings: Settings) -> Store:
    """The local default home, and an s3:// root: every round trip must hold on both."""
    if request.param == "local":
        return Store(settings)
    return Store(request.getfixturevalue("worker1"))


# -- every record kind round-trips -----------------------------------------------------------------
def test_every_record_kind_round_trips(any_store: Store) -> None:
    video, transcript, summary = make_video(), make_transcript(), make_summary_record()
    failure = make_failure(kind="transient", error_class="X", message="m")
    any_store.save_video(video)
    any_store.save_transcript(transcript)
    any_store.save_summary(summary, "key1")
    any_store.save_failure(failure)
    assert any_store.video("rust") == video
    assert any_store.transcript("rust", TKEY) == transcript
    assert any_store.summary("rust", "key1") == summary
    assert any_store.failure("rust") == failure
    assert any_store.blobs.exists("work/rust/failure.json")
    any_store.clear_failure("rust")
    assert any_store.failure("rust") is None
    assert not any_store.blobs.exists("work/rust/failure.json")
    any_store.clear_failure("rust")  # clearing twice is fine: another worker may have cleared it
    assert any_store.video("never_saved") is None


def test_stage_runs_list_oldest_first_and_unlink_once_loaded(any_store: Store) -> None:
    runs = [
        StageRun(
            video_id="rust", stage=stage, run_id="r", started_at=WHEN + timedelta(seconds=i), seconds=1.0, status="done"
        )
        for i, stage in enumerate(["download", "transcribe"])
    ]
    for run in reversed(runs):
        any_store.save_stage_run(run)
    listed = any_store.stage_runs("rust")
    assert [run for _, run in listed] == runs
    for handle, _ in listed:
        handle.unlink(missing_ok=True)
    assert any_store.stage_runs("rust") == []


def test_find_transcript_falls_back_to_the_newest_by_its_own_timestamp(any_store: Store) -> None:
    # Saved newest first: an mtime or a listing order would pick the older one.
    newer = make_transcript(settings_key="b").model_copy(update={"transcribed_at": WHEN + timedelta(days=1)})
    older = make_transcript(settings_key="c")
    any_store.save_transcript(newer)
    any_store.save_transcript(older)
    assert any_store.find_transcript("rust", "absent") == newer
    assert any_store.find_transcript("rust", "c") == older


@pytest.mark.parametrize("video_id", ["../x", "a/b", "", "rust\n"])
def test_unsafe_ids_never_reach_a_key(any_store: Store, video_id: str) -> None:
    with pytest.raises(UnsafePathError):
        any_store.video(video_id)
    with pytest.raises(UnsafePathError):
        any_store.media_key(video_id)


@pytest.mark.parametrize("key", ["../escape", "work/../../escape", "/abs", "work//x"])
def test_a_key_cannot_climb_out_of_the_root(any_store: Store, key: str) -> None:
    with pytest.raises(UnsafePathError):
        any_store.blobs.write(key, b"x")


def test_records_land_as_objects_in_the_bucket_and_not_in_the_home(
    worker1: Settings, s3_service: S3Service, prefix: str
) -> None:
    store = Store(worker1)
    store.save_video(make_video())
    store.save_transcript(make_transcript())
    assert keys(s3_service, prefix) == [f"work/rust/transcript-{TKEY}.json", "work/rust/video.json"]
    assert not worker1.work_dir.exists()


def test_saving_an_identical_record_does_not_put_it_again(
    worker1: Settings, s3_service: S3Service, prefix: str
) -> None:
    store = Store(worker1)
    store.save_video(make_video())
    first = s3_service.client().head_object(Bucket=s3_service.bucket, Key=f"{prefix}/work/rust/video.json")
    store.save_video(make_video())
    again = s3_service.client().head_object(Bucket=s3_service.bucket, Key=f"{prefix}/work/rust/video.json")
    assert again["LastModified"] == first["LastModified"]
    assert again["ETag"] == first["ETag"]


# -- atomic writes ---------------------------------------------------------------------------------
def big_transcript(word: str):  # type: ignore[no-untyped-def]
    segments = tuple(Segment(idx=i, start_s=i, end_s=i + 1, text=f"{word} {i}") for i in range(20000))
    return make_transcript().model_copy(update={"segments": segments})


def test_a_reader_never_sees_a_partial_record(any_store: Store) -> None:
    versions = [big_transcript("alpha"), big_transcript("omega")]
    whole = {v.model_dump_json(indent=1).encode() for v in versions}
    key = f"work/rust/transcript-{TKEY}.json"
    seen: list[bytes | None] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(any_store.blobs.read(key))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(6):
            any_store.save_transcript(versions[i % 2])
    finally:
        done.set()
        reader.join()
    observed = [data for data in seen if data is not None]
    assert observed, "the reader never overlapped a write"
    assert all(data in whole for data in observed), "a reader saw a record half written"
    assert len(next(iter(whole))) > 1_000_000  # big enough that a streamed write would be seen midway


# -- media between two workers ---------------------------------------------------------------------
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def clip_server(tmp_path: Path) -> Iterator[str]:
    """A 20-second clip of the sample's rust.webm served on loopback; yields its URL."""
    site = tmp_path / "site"
    site.mkdir()
    clip(SAMPLE_DIR / "rust.webm", site / "rust.webm", 20)
    with serve_handler(functools.partial(_QuietHandler, directory=str(site))) as url:
        yield f"{url}/rust.webm"


def scratch_media(settings: Settings) -> list[str]:
    folder = settings.scratch / "media"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.slow
def test_worker2_transcribes_what_worker1_downloaded(
    worker1: Settings, worker2: Settings, clip_server: str, s3_service: S3Service, prefix: str
) -> None:
    video = make_video().model_copy(update={"url": clip_server})
    Store(worker1).save_video(video)

    assert pipeline.download(worker1, ["rust"]) == ["rust"]
    assert Store(worker1).failure("rust") is None
    assert "media/rust.webm" in keys(s3_service, prefix)
    assert scratch_media(worker1) == []  # the download worker keeps no copy
    assert not worker1.media_dir.exists()

    assert scratch_media(worker2) == []
    assert pipeline.transcribe(worker2, ["rust"]) == ["rust"]
    store2 = Store(worker2)
    assert store2.failure("rust") is None
    transcript = Store(worker1).transcript("rust", settings_key(worker2))
    assert transcript is not None
    assert 15 < transcript.audio_duration_s <= 21
    # The clip's words: tiny.en writes "memory safe" on some machines and "memory-safe" on others (same code).
    assert "memory safe" in " ".join(s.text for s in transcript.segments).lower().replace("-", " ")
    assert scratch_media(worker2) == []  # the fetched copy is cleaned up
    stages = [run.stage for _, run in Store(worker1).stage_runs("rust")]
    assert stages == ["download", "transcribe"]


def test_media_put_by_one_worker_is_fetched_by_the_other(worker1: Settings, worker2: Settings, tmp_path: Path) -> None:
    staged = tmp_path / "rust.webm"
    staged.write_bytes((SAMPLE_DIR / "rust.webm").read_bytes())
    one, two = Store(worker1), Store(worker2)
    published = one.put_media(staged)
    assert not staged.exists()
    one.discard_local_media("rust")
    assert not published.exists()

    assert two.media_key("rust") == "media/rust.webm"
    assert two.media("rust") is None  # nothing on this machine yet
    with two.media_local("rust") as local:
        assert local is not None
        assert local.is_relative_to(worker2.scratch)
        assert local.read_bytes() == (SAMPLE_DIR / "rust.webm").read_bytes()
    assert not local.exists()
    assert two.media_key("rust") == "media/rust.webm"  # the store keeps it


def test_dropped_media_is_gone_for_every_worker(worker1: Settings, worker2: Settings, tmp_path: Path) -> None:
    staged = tmp_path / "rust.webm"
    staged.write_bytes(b"not audio")
    Store(worker1).put_media(staged)
    Store(worker2).drop_media("rust")
    assert Store(worker1).media_key("rust") is None
    assert Store(worker1).media("rust") is None


def test_media_with_an_unsafe_name_is_refused(worker1: Settings, tmp_path: Path) -> None:
    staged = tmp_path / "rust.we bm"
    staged.write_bytes(b"x")
    with pytest.raises(UnsafePathError):
        Store(worker1).put_media(staged)


# -- platform blocks and slots ---------------------------------------------------------------------
def test_a_block_set_by_one_worker_is_seen_by_the_other(
    worker1: Settings, worker2: Settings, s3_service: S3Service, prefix: str
) -> None:
    platforms.block(worker1, "youtube.com", "HTTP Error 429: Too Many Requests")
    assert platforms.blocked(worker2, "youtube.com") == "HTTP Error 429: Too Many Requests"
    assert platforms.blocked(worker2, "vimeo.com") is None
    assert keys(s3_service, prefix) == ["platforms/youtube.com.blocked"]
    assert not (worker1.home / "platforms").exists()


def test_an_expired_block_is_lifted_for_everyone(
    worker1: Settings, worker2: Settings, s3_service: S3Service, prefix: str
) -> None:
    from dataclasses import replace

    platforms.block(replace(worker1, block_cooldown_s=-1.0), "youtube.com", "429")
    assert platforms.blocked(worker2, "youtube.com") is None
    assert keys(s3_service, prefix) == []


def test_slots_are_left_to_the_airflow_pool_with_a_shared_store(worker1: Settings) -> None:
    from dataclasses import replace

    one = replace(worker1, platform_concurrency=1)
    # A file lock with one slot would wait here forever; with a shared store the pool bounds concurrency.
    with platforms.slot(one, "youtube.com"), platforms.slot(one, "youtube.com"):
        pass
    assert not (worker1.home / "platforms").exists()


def test_slots_are_file_locks_without_a_store(settings: Settings) -> None:
    with platforms.slot(settings, "youtube.com"):
        assert sorted(p.name for p in (settings.home / "platforms").iterdir()) == ["youtube.com.slot0"]


def test_local_blocks_keep_their_place_in_the_home(settings: Settings) -> None:
    platforms.block(settings, "youtube.com", "429")
    assert (settings.home / "platforms" / "youtube.com.blocked").is_file()
    assert platforms.blocked(settings, "youtube.com") == "429"


# -- the channel registry --------------------------------------------------------------------------
def test_a_channel_added_on_one_machine_is_listed_on_another(
    worker1: Settings, worker2: Settings, s3_service: S3Service, prefix: str
) -> None:
    assert add_channel(worker1, Channel(FEED, max_videos=3, skip_shorts=True)) is True
    assert load_channels(worker2) == [Channel(FEED, max_videos=3, skip_shorts=True)]
    assert add_channel(worker2, Channel(FEED)) is False
    assert keys(s3_service, prefix) == ["channels.toml"]
    assert not worker1.channels_file.exists()
    assert remove_channel(worker2, FEED) is True
    assert load_channels(worker1) == []


def test_a_broken_registry_on_s3_names_its_url(worker1: Settings, s3_service: S3Service, prefix: str) -> None:
    s3_service.client().put_object(Bucket=s3_service.bucket, Key=f"{prefix}/channels.toml", Body=b"version = [")
    with pytest.raises(ChannelsFileError) as caught:
        load_channels(worker1)
    assert f"s3://{s3_service.bucket}/{prefix}/channels.toml" in str(caught.value)

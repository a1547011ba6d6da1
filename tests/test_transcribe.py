"""Transcribe stage: the bundled tiny.en model hears the sample speech; bad input and bad models fail clearly."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from itertools import accumulate, pairwise
from pathlib import Path

import jiwer
import numpy as np
import pytest

from tubescribe.records import Transcript
from tubescribe.sample import SAMPLE_DIR
from tubescribe.settings import BUNDLED_MODEL, Settings
from tubescribe.stages.transcribe.audio import SAMPLE_RATE, decode_blocks, windows
from tubescribe.stages.transcribe.whisper import TranscribeError, settings_key, transcribe_file

AUDIO = SAMPLE_DIR / "rust.webm"
FEED_DURATION_S = 154.0  # <itunes:duration> of rust in feed.xml.tmpl
# Measured: 0.124 with the bundled tiny.en, beam 5, VAD on (espeak-ng speech). 0.35 leaves ample margin.
MAX_WER = 0.35
# Runs faster-whisper (the model loads once per process; rust.webm is transcribed once per module).
slow = pytest.mark.slow
# 3.5 minutes: cut into four windows at the smallest window length allowed.
LONG_AUDIO = SAMPLE_DIR / "localized_deployment.webm"
WINDOW_S = 60.0


@pytest.fixture(scope="module")
def defaults(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Built directly rather than from the environment, so a developer's TUBESCRIBE_WHISPER_* cannot leak in.
    return Settings(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def transcript(defaults: Settings) -> Transcript:
    """rust.webm through the bundled model, once for the whole module."""
    return transcribe_file("rust", AUDIO, defaults)


@pytest.fixture(scope="module")
def whole(defaults: Settings) -> Transcript:
    """LONG_AUDIO in one piece, as faster-whisper alone would do it."""
    return transcribe_file("long", LONG_AUDIO, replace(defaults, whisper_chunk_s=0))


@pytest.fixture(scope="module")
def chunked(defaults: Settings) -> Transcript:
    """LONG_AUDIO in windows of about a minute."""
    return transcribe_file("long", LONG_AUDIO, replace(defaults, whisper_chunk_s=WINDOW_S))


def normalise(text: str) -> str:
    """Lower case, punctuation dropped ("high-level" and "highlevel" compare equal), single spaces."""
    text = re.sub(r"[-'\u2019]", "", text.lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


# -- the bundled model on real speech --------------------------------------------------------------
@slow
def test_bundled_model_hears_english(transcript: Transcript) -> None:
    assert transcript.language == "en"


@slow
def test_transcript_records_its_model_and_settings_key(transcript: Transcript, defaults: Settings) -> None:
    assert transcript.video_id == "rust"
    assert transcript.model == BUNDLED_MODEL
    assert transcript.settings_key == settings_key(defaults)


@slow
def test_audio_duration_matches_the_feed(transcript: Transcript) -> None:
    assert transcript.audio_duration_s == pytest.approx(FEED_DURATION_S, abs=1.5)


@slow
def test_segments_are_numbered_in_order(transcript: Transcript) -> None:
    assert len(transcript.segments) > 5
    assert [s.idx for s in transcript.segments] == list(range(len(transcript.segments)))


@slow
def test_every_segment_starts_before_it_ends(transcript: Transcript) -> None:
    assert all(0 <= s.start_s < s.end_s for s in transcript.segments)


@slow
def test_segments_do_not_overlap(transcript: Transcript) -> None:
    assert all(a.end_s <= b.start_s for a, b in pairwise(transcript.segments))


@slow
def test_segments_stay_within_the_audio(transcript: Transcript) -> None:
    assert transcript.segments[-1].end_s <= transcript.audio_duration_s
    # Speech runs to the end of the sample, so the segments should cover most of it.
    assert transcript.segments[-1].end_s > 0.9 * transcript.audio_duration_s


@slow
def test_segment_text_is_stripped_and_non_empty(transcript: Transcript) -> None:
    assert all(s.text and s.text == s.text.strip() for s in transcript.segments)


@slow
def test_word_error_rate_against_the_source_text(transcript: Transcript) -> None:
    reference = normalise((SAMPLE_DIR / "rust.txt").read_text(encoding="utf-8"))
    wer = jiwer.wer(reference, normalise(transcript.text))
    assert wer < MAX_WER, f"word error rate {wer:.3f}"


# -- long audio in windows ------------------------------------------------------------------------
def test_windows_hold_every_sample_once_in_order() -> None:
    whole_audio = np.concatenate(list(decode_blocks(LONG_AUDIO)))
    cut = list(windows(decode_blocks(LONG_AUDIO), WINDOW_S))
    assert len(cut) == 4
    assert [start for start, _ in cut] == pytest.approx(
        list(accumulate([len(w) / SAMPLE_RATE for _, w in cut[:-1]], initial=0.0))
    )
    assert np.array_equal(np.concatenate([w for _, w in cut]), whole_audio)


def test_windows_end_within_the_search_span_of_their_length() -> None:
    lengths = [len(w) / SAMPLE_RATE for _, w in windows(decode_blocks(LONG_AUDIO), WINDOW_S)]
    assert all(0.75 * WINDOW_S <= length <= WINDOW_S for length in lengths[:-1])


def test_audio_shorter_than_a_window_is_one_window_decoded_as_faster_whisper_does() -> None:
    from faster_whisper import decode_audio

    [(start, samples)] = windows(decode_blocks(AUDIO), 300)
    assert start == 0
    assert np.array_equal(samples, decode_audio(str(AUDIO)))


@slow
def test_audio_shorter_than_a_window_is_transcribed_as_one(defaults: Settings, transcript: Transcript) -> None:
    assert transcript.audio_duration_s < defaults.whisper_chunk_s
    unchunked = transcribe_file("rust", AUDIO, replace(defaults, whisper_chunk_s=0))
    assert unchunked.segments == transcript.segments
    assert unchunked.audio_duration_s == transcript.audio_duration_s


@slow
def test_windows_report_the_whole_file_duration(whole: Transcript, chunked: Transcript) -> None:
    assert chunked.audio_duration_s == whole.audio_duration_s


@slow
def test_window_segments_are_numbered_in_file_time_order(chunked: Transcript) -> None:
    assert [s.idx for s in chunked.segments] == list(range(len(chunked.segments)))
    assert all(0 <= s.start_s < s.end_s for s in chunked.segments)
    assert all(a.end_s <= b.start_s for a, b in pairwise(chunked.segments))


@slow
def test_window_segments_cover_the_audio_to_its_end(chunked: Transcript) -> None:
    starts = [start for start, _ in windows(decode_blocks(LONG_AUDIO), WINDOW_S)]
    ends = [*starts[1:], chunked.audio_duration_s]
    # Every window is heard (speech runs through the whole file), up to the end of the file.
    assert all(any(a <= s.start_s < b for s in chunked.segments) for a, b in zip(starts, ends, strict=True))
    assert chunked.segments[-1].end_s == pytest.approx(chunked.audio_duration_s, abs=2.0)


@slow
def test_windows_hear_as_well_as_the_whole_file(whole: Transcript, chunked: Transcript) -> None:
    reference = normalise(LONG_AUDIO.with_suffix(".txt").read_text(encoding="utf-8"))
    wer_whole = jiwer.wer(reference, normalise(whole.text))
    wer_chunked = jiwer.wer(reference, normalise(chunked.text))
    # Measured: 0.279 whole, 0.260 in 60 s windows.
    assert wer_chunked <= wer_whole + 0.03, f"word error rate {wer_chunked:.3f} in windows, {wer_whole:.3f} whole"


# -- settings_key ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"whisper_model": "small.en"},
        {"whisper_beam_size": 1},
        {"whisper_vad": False},
        {"whisper_compute_type": "float32"},
        {"whisper_language": "en"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_settings_key_changes_with_what_changes_the_words(defaults: Settings, change: dict[str, object]) -> None:
    assert settings_key(replace(defaults, **change)) != settings_key(defaults)


def test_settings_key_ignores_cpu_threads(defaults: Settings) -> None:
    assert settings_key(replace(defaults, whisper_cpu_threads=3)) == settings_key(defaults)


def test_settings_key_ignores_the_window_length(defaults: Settings) -> None:
    assert settings_key(replace(defaults, whisper_chunk_s=0)) == settings_key(defaults)


def test_settings_key_ignores_the_home(defaults: Settings, tmp_path: Path) -> None:
    assert settings_key(replace(defaults, home=tmp_path)) == settings_key(defaults)


def test_settings_key_is_short_and_file_name_safe(defaults: Settings) -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", settings_key(defaults))


# -- failures --------------------------------------------------------------------------------------
@slow
def test_corrupt_media_raises_transcribe_error(defaults: Settings, tmp_path: Path) -> None:
    junk = tmp_path / "junk.m4a"
    junk.write_bytes(os.urandom(64 * 1024))
    with pytest.raises(TranscribeError, match=r"junk: could not decode junk\.m4a"):
        transcribe_file("junk", junk, defaults)


@slow
def test_empty_media_raises_transcribe_error(defaults: Settings, tmp_path: Path) -> None:
    empty = tmp_path / "empty.webm"
    empty.touch()
    with pytest.raises(TranscribeError, match="could not decode"):
        transcribe_file("empty", empty, defaults)


@slow
def test_missing_media_raises_transcribe_error(defaults: Settings, tmp_path: Path) -> None:
    with pytest.raises(TranscribeError, match="could not decode"):
        transcribe_file("gone", tmp_path / "gone.m4a", defaults)


def test_folder_that_is_not_a_model_raises_a_helpful_transcribe_error(defaults: Settings, tmp_path: Path) -> None:
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    with pytest.raises(TranscribeError, match="could not load Whisper model") as caught:
        transcribe_file("rust", AUDIO, replace(defaults, whisper_model=str(not_a_model)))
    assert str(not_a_model) in str(caught.value)
    assert "TUBESCRIBE_WHISPER_MODEL" in str(caught.value)


def test_missing_model_path_raises_a_helpful_transcribe_error(defaults: Settings, tmp_path: Path) -> None:
    missing = str(tmp_path / "no" / "such" / "model")
    with pytest.raises(TranscribeError, match="TUBESCRIBE_WHISPER_MODEL"):
        transcribe_file("rust", AUDIO, replace(defaults, whisper_model=missing))


# -- batched inference (TUBESCRIBE_WHISPER_BATCH_SIZE) ---------------------------------------------
@slow
def test_batched_inference_hears_as_well_and_keys_its_transcripts_apart(
    defaults: Settings, transcript: Transcript
) -> None:
    batched_settings = replace(defaults, whisper_batch_size=8)
    batched = transcribe_file("rust", AUDIO, batched_settings)
    reference = normalise((SAMPLE_DIR / "rust.txt").read_text(encoding="utf-8"))
    assert jiwer.wer(reference, normalise(batched.text)) < MAX_WER
    assert [s.idx for s in batched.segments] == list(range(len(batched.segments)))
    assert all(a.start_s <= b.start_s for a, b in pairwise(batched.segments))
    assert batched.audio_duration_s == transcript.audio_duration_s
    # Different words may come out, so a batched transcript is not reused for sequential settings.
    assert batched.settings_key == settings_key(batched_settings) != settings_key(defaults)


def test_the_default_settings_key_is_the_one_stored_transcripts_already_carry(defaults: Settings) -> None:
    # The key of the default settings before the window and batch settings existed: stored transcripts
    # carry it, and a new key would re-transcribe every video on upgrade.
    assert settings_key(defaults) == "831f0639289c"
    assert settings_key(replace(defaults, whisper_chunk_s=120)) == "831f0639289c"


def _parallel_in_a_daemon(queue) -> None:  # runs in a daemonic child, as a Celery task does
    from tubescribe.settings import Settings
    from tubescribe.stages.transcribe.whisper import parallel

    settings = Settings.load(whisper_workers=2)
    sample = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe" / "sample_channel"
    with parallel(settings, [("a", sample / "rust.webm"), ("b", sample / "zig.m4a")]) as futures:
        queue.put(futures)


def test_a_daemonic_task_process_decodes_in_process_instead_of_starting_workers() -> None:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_parallel_in_a_daemon, args=(queue,), daemon=True)
    child.start()
    child.join(120)
    assert child.exitcode == 0
    assert queue.get(timeout=5) == {}  # no worker pool: the caller transcribes one by one

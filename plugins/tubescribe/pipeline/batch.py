"""Running one stage over a batch of videos: retries, failure kinds, platform blocks, timings.

One bad video never stops the others. Transient errors are retried with exponential backoff; every
failure is recorded as an artifact with its kind (see errors.py) for the loader to put in the
catalog; a platform that blocks us is left alone by the rest of the batch. Each finished or failed
stage leaves a timing record, which the loader writes to `stage_runs`.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tubescribe.errors import DiskFullError, Kind, classify, is_disk_full, redact
from tubescribe.pipeline import progress
from tubescribe.pipeline.platforms import block, blocked, platform_of, slot
from tubescribe.records import Failure, StageRun
from tubescribe.settings import Settings
from tubescribe.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What a stage did for one video: a line for the progress display, and what it cost."""

    detail: str
    audio_s: float | None = None
    model: str | None = None
    seconds: float | None = None  # the work's own time, when it ran elsewhere (a transcription worker)


def run_stage(
    settings: Settings,
    video_ids: list[str],
    stage: str,
    work: Callable[[Store, str], Outcome | None],
    platform: Callable[[Store, str], str | None] = lambda store, video_id: None,
    retries: int | None = None,
    run_id: str | None = None,
) -> list[str]:
    """Run one stage over a batch: one bad video never stops the others.

    Transient errors are retried with exponential backoff; every failure is recorded with its kind
    (see errors.py). A platform that blocks us is left alone by the rest of the batch. A video another
    run is working on right now is left to it (and out of the ids returned for this run's next stage).
    """
    store = Store(settings)
    retries = settings.stage_retries if retries is None else retries
    mine: list[str] = []
    with contextlib.ExitStack() as claims:
        for video_id in video_ids:
            if not _claim(claims, settings, store, video_id):
                progress.emit(video_id, stage, "skipped", "in progress in another run")
                continue
            mine.append(video_id)
            _run_one(settings, store, video_id, stage, work, platform, retries, run_id)
    return mine


def _claim(claims: contextlib.ExitStack, settings: Settings, store: Store, video_id: str) -> bool:
    """Claim a video for this run until the stage ends; False if another run on this home holds it.

    A lock on a file in the video's folder: the kernel drops it when its holder dies, so a crashed
    run leaves no stale claim. With a shared store (a deployment) runs are kept apart by Airflow
    instead (one active run per DAG, the pools), and a file lock would hold on one machine only.
    """
    if settings.store_url:
        return True
    path = store.video_dir(video_id) / ".claim"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = claims.enter_context(open(path, "a"))  # noqa: SIM115 (held until the stage ends)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _run_one(
    settings: Settings,
    store: Store,
    video_id: str,
    stage: str,
    work: Callable[[Store, str], Outcome | None],
    platform: Callable[[Store, str], str | None],
    retries: int,
    run_id: str | None,
) -> None:
    """One video through one stage: retried while transient, recorded when it fails, timed either way."""
    if store.failure(video_id) is not None:
        return
    where = platform(store, video_id)
    reason = blocked(settings, where) if where else None
    if where and reason:
        _record(store, video_id, stage, Kind.BLOCKED, "PlatformBlocked", f"{where} is blocked for now: {reason}")
        return
    _started(store, video_id, stage)
    started, started_at = time.perf_counter(), datetime.now(UTC)
    for attempt in range(retries + 1):
        try:
            with slot(settings, where) if where else contextlib.nullcontext():
                outcome = work(store, video_id)
        except DiskFullError:
            raise  # not this video's fault, and recording it would need the disk too
        except Exception as exc:  # classified and recorded per video, never swallowed
            if is_disk_full(exc):
                raise DiskFullError(settings.home, f"{stage} of {video_id}") from exc
            kind = classify(exc)
            if kind is Kind.TRANSIENT and attempt < retries:
                delay = settings.retry_base_s * 2**attempt
                log.warning("%s %s: %s; retrying in %.0f s", stage, video_id, exc, delay)
                time.sleep(delay)
                continue
            if kind is Kind.BLOCKED and where:
                block(settings, where, str(exc))
            log.warning("%s failed for %s (%s)", stage, video_id, kind, exc_info=True)
            _record(store, video_id, stage, kind, type(exc).__name__, str(exc))
            _timing(store, video_id, stage, run_id, started_at, started, "failed", None)
            break
        if outcome is None:
            progress.emit(video_id, stage, "skipped", "already done")
        else:
            seconds = outcome.seconds if outcome.seconds is not None else time.perf_counter() - started
            progress.emit(video_id, stage, "done", f"{outcome.detail} in {seconds:.1f} s", audio_s=outcome.audio_s)
            _timing(store, video_id, stage, run_id, started_at, started, "done", outcome)
        break


def _started(store: Store, video_id: str, stage: str) -> None:
    """Say a video entered the stage, with its title and length for a display that is watching."""
    # Only read the video's record when someone shows it: under a scheduler nobody listens, and with a
    # shared store the read is a request per video.
    video = store.video(video_id) if progress.listening() else None
    title, audio_s = (video.title, video.duration_s) if video else ("", None)
    progress.emit(video_id, stage, "started", title=title or "", audio_s=audio_s)


def _record(store: Store, video_id: str, stage: str, kind: Kind, error_class: str, message: str) -> None:
    message = redact(message)[:2000]
    store.save_failure(
        Failure(
            video_id=video_id,
            stage=stage,
            kind=kind.value,
            error_class=error_class,
            message=message,
            at=datetime.now(UTC),
        )
    )
    progress.emit(video_id, stage, "failed", f"{kind}: {error_class}: {message}")


def _timing(
    store: Store,
    video_id: str,
    stage: str,
    run_id: str | None,
    started_at: datetime,
    started: float,
    status: str,
    outcome: Outcome | None,
) -> None:
    store.save_stage_run(
        StageRun(
            video_id=video_id,
            stage=stage,
            run_id=run_id or "",
            started_at=started_at,
            seconds=round(
                outcome.seconds if outcome and outcome.seconds is not None else time.perf_counter() - started, 3
            ),
            status=status,
            audio_s=outcome.audio_s if outcome else None,
            model=outcome.model if outcome else None,
        )
    )


def video_platform(store: Store, video_id: str) -> str | None:
    """The platform a video's media comes from (for blocks and concurrency slots)."""
    video = store.video(video_id)
    return platform_of(video.url) if video else None

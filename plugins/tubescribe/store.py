"""Artifacts under $TUBESCRIBE_HOME: one folder per video, every file written atomically.

A stage's work counts as done only when its artifact exists, and artifacts are published with a
rename, so a crash mid-write never leaves a half file that looks finished.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from tubescribe.records import VIDEO_ID_RE, Failure, StageRun, SummaryRecord, Transcript, Video
from tubescribe.settings import Settings

R = TypeVar("R", bound=BaseModel)


class UnsafePathError(ValueError):
    """A path built from outside input would leave $TUBESCRIBE_HOME."""


def _inside(root: Path, path: Path) -> Path:
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UnsafePathError(f"{path} is outside {root}")
    return resolved


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it into place only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(target: Path, text: str) -> None:
    """Write a text file atomically (fsync before the rename, so a power cut cannot publish garbage)."""
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


class Store:
    """The artifact folders of one home."""

    def __init__(self, settings: Settings) -> None:
        self.home = settings.home
        self.media_dir = settings.media_dir
        self.work_dir = settings.work_dir

    def video_dir(self, video_id: str) -> Path:
        if not VIDEO_ID_RE.fullmatch(video_id):
            raise UnsafePathError(f"video id {video_id!r} is not safe for a file name")
        return _inside(self.home, self.work_dir / video_id)

    # -- records ---------------------------------------------------------------------------
    def _write(self, path: Path, record: BaseModel) -> Path:
        text = record.model_dump_json(indent=1)
        # Rewriting an identical artifact would only churn mtimes and backups.
        if not (path.exists() and path.read_text(encoding="utf-8") == text):
            write_text(path, text)
        return path

    def _read(self, path: Path, model: type[R]) -> R | None:
        try:
            return model.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValidationError:
            # An artifact from an older, incompatible version: treat as absent so it is redone.
            return None

    def save_video(self, video: Video) -> Path:
        return self._write(self.video_dir(video.video_id) / "video.json", video)

    def video(self, video_id: str) -> Video | None:
        return self._read(self.video_dir(video_id) / "video.json", Video)

    def transcript_path(self, video_id: str, settings_key: str) -> Path:
        return self.video_dir(video_id) / f"transcript-{settings_key}.json"

    def save_transcript(self, transcript: Transcript) -> Path:
        return self._write(self.transcript_path(transcript.video_id, transcript.settings_key), transcript)

    def transcript(self, video_id: str, settings_key: str) -> Transcript | None:
        return self._read(self.transcript_path(video_id, settings_key), Transcript)

    def find_transcript(self, video_id: str, settings_key: str) -> Transcript | None:
        """The transcript made with these settings, else the newest one made with any settings.

        Re-summarizing must not force a re-transcription just because a Whisper setting changed since.
        """
        found = self.transcript(video_id, settings_key)
        if found is not None:
            return found
        others = sorted(self.video_dir(video_id).glob("transcript-*.json"), key=lambda p: p.stat().st_mtime)
        for path in reversed(others):
            found = self._read(path, Transcript)
            if found is not None:
                return found
        return None

    def summary_path(self, video_id: str, key: str) -> Path:
        return self.video_dir(video_id) / f"summary-{key}.json"

    def save_summary(self, record: SummaryRecord, key: str) -> Path:
        return self._write(self.summary_path(record.video_id, key), record)

    def summary(self, video_id: str, key: str) -> SummaryRecord | None:
        return self._read(self.summary_path(video_id, key), SummaryRecord)

    def save_failure(self, failure: Failure) -> Path:
        return self._write(self.video_dir(failure.video_id) / "failure.json", failure)

    def failure(self, video_id: str) -> Failure | None:
        return self._read(self.video_dir(video_id) / "failure.json", Failure)

    def clear_failure(self, video_id: str) -> None:
        (self.video_dir(video_id) / "failure.json").unlink(missing_ok=True)

    def save_stage_run(self, run: StageRun) -> Path:
        stamp = run.started_at.strftime("%Y%m%dT%H%M%S%f")
        return self._write(self.video_dir(run.video_id) / "stage_runs" / f"{stamp}-{run.stage}.json", run)

    def stage_runs(self, video_id: str) -> list[tuple[Path, StageRun]]:
        """Timing records not yet loaded into the catalog."""
        found = []
        for path in sorted((self.video_dir(video_id) / "stage_runs").glob("*.json")):
            run = self._read(path, StageRun)
            if run is not None:
                found.append((path, run))
        return found

    # -- media -----------------------------------------------------------------------------
    def media(self, video_id: str) -> Path | None:
        """The downloaded audio of a video, if a finished download exists."""
        self.video_dir(video_id)  # validates the id
        if not self.media_dir.is_dir():
            return None
        for path in sorted(self.media_dir.glob(f"{video_id}.*")):
            if path.is_file() and not path.name.endswith((".part", ".ytdl")):
                return _inside(self.home, path)
        return None

"""Artifacts where the deployment shares them: the home folder, or an object store (`TUBESCRIBE_STORE_URL`).

A stage's work counts as done only when its artifact exists, and artifacts are published whole: on a
disk with a rename, on an object store with a single PUT of the finished bytes (an object is never
visible half written). So a crash mid-write never leaves a half file that looks finished. Without a
store URL the layout is today's: `home/work/<video_id>/...` and `home/media/<video_id>.<ext>`.
Here are the artifacts and their names; how bytes are kept under a key (a disk or fsspec) is in `blobs.py`.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

# Blobs and the atomic writers are imported from here by callers that predate blobs.py.
from tubescribe.blobs import Blobs, UnsafePathError, atomic_path, inside, write_bytes, write_text
from tubescribe.records import (
    VIDEO_ID_RE,
    CaptionCheck,
    Embeddings,
    Failure,
    RunSkips,
    StageRun,
    SummaryRecord,
    Transcript,
    Video,
)
from tubescribe.settings import Settings

__all__ = ["Accepted", "Blobs", "Store", "StoredFile", "UnsafePathError", "atomic_path", "write_bytes", "write_text"]

R = TypeVar("R", bound=BaseModel)

# A media file name is our validated id plus the extension yt-dlp chose; nothing else reaches a path.
_EXT_RE = re.compile(r"\.[A-Za-z0-9]{1,10}")
_UNFINISHED = (".part", ".ytdl")


@dataclass(frozen=True)
class StoredFile:
    """A stored artifact the caller may delete once it has used it (a loaded timing record)."""

    blobs: Blobs
    key: str

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]

    def unlink(self, missing_ok: bool = True) -> None:
        self.blobs.delete(self.key)


@dataclass(frozen=True)
class Accepted:
    """Which stored transcripts a run accepts as done, best first (pipeline.steps.accepted_transcripts)."""

    whisper_key: str  # Whisper's transcript made with the run's settings
    other_whisper: bool = False  # then one Whisper made with other settings (a smaller model, before an upgrade)
    caption_keys: tuple[str, ...] = ()  # then the captions the caption policy allows, uploaded first


class Store:
    """The artifacts of one home or one shared store: records per video, and the downloaded media."""

    def __init__(self, settings: Settings) -> None:
        self.home = settings.home
        self.media_dir = settings.media_dir
        self.work_dir = settings.work_dir
        self.scratch = settings.scratch
        self.blobs = Blobs(settings)
        # Media a worker works on: in the home itself, or a copy in this machine's scratch folder.
        self.shared = not self.blobs.local

    @staticmethod
    def _checked(video_id: str) -> str:
        if not VIDEO_ID_RE.fullmatch(video_id):
            raise UnsafePathError(f"video id {video_id!r} is not safe for a file name")
        return video_id

    def video_dir(self, video_id: str) -> Path:
        """The local folder of a video's artifacts (local homes; with a store URL they are objects)."""
        return inside(self.home, self.work_dir / self._checked(video_id))

    def _key(self, video_id: str, name: str) -> str:
        return f"work/{self._checked(video_id)}/{name}"

    # -- runs ------------------------------------------------------------------------------
    @staticmethod
    def _run_key(run_id: str) -> str:
        # Run ids hold ':' and '+' (manual__2026-01-01T02:00:00+00:00): a hash names their folder.
        return f"runs/{hashlib.sha256(run_id.encode()).hexdigest()[:16]}/skipped.json"

    def save_skipped(self, run_id: str, skipped: list[str]) -> None:
        """What this run could not list (kept where every worker sees it, for the run's report)."""
        self._write(self._run_key(run_id), RunSkips(run_id=run_id, skipped=skipped))

    def skipped(self, run_id: str) -> list[str]:
        found = self._read(self._run_key(run_id), RunSkips)
        return found.skipped if found else []

    # -- records ---------------------------------------------------------------------------
    def _write(self, key: str, record: BaseModel) -> str:
        data = record.model_dump_json(indent=1).encode("utf-8")
        # Rewriting an identical artifact would only churn mtimes, backups and object versions.
        if self.blobs.read(key) != data:
            self.blobs.write(key, data)
        return self.blobs.location(key)

    def _read(self, key: str, model: type[R]) -> R | None:
        data = self.blobs.read(key)
        if data is None:
            return None
        try:
            return model.model_validate_json(data)
        except ValidationError:
            # An artifact from an older, incompatible version: treat as absent so it is redone.
            return None

    def save_video(self, video: Video) -> str:
        return self._write(self._key(video.video_id, "video.json"), video)

    def video(self, video_id: str) -> Video | None:
        return self._read(self._key(video_id, "video.json"), Video)

    def save_transcript(self, transcript: Transcript) -> str:
        key = self._key(transcript.video_id, f"transcript-{transcript.settings_key}.json")
        return self._write(key, transcript)

    def transcript(self, video_id: str, settings_key: str) -> Transcript | None:
        return self._read(self._key(video_id, f"transcript-{settings_key}.json"), Transcript)

    def find_transcript(self, video_id: str, accepted: Accepted | str) -> Transcript | None:
        """The transcript the run accepts (see `Accepted`), else the newest one made any way.

        Re-summarizing must not force a re-transcription just because a Whisper setting changed since.
        "Newest" is the record's own `transcribed_at`: object stores keep no mtime we could trust.
        """
        accepted = Accepted(accepted) if isinstance(accepted, str) else accepted
        return self.accepted_transcript(video_id, accepted) or self._newest(video_id, lambda t: True)

    def accepted_transcript(self, video_id: str, accepted: Accepted) -> Transcript | None:
        """The best transcript the run accepts as done, or None (then it has to make one)."""
        found = self.transcript(video_id, accepted.whisper_key)
        if found is None and accepted.other_whisper:
            found = self._newest(video_id, lambda t: t.source == "asr")
        for key in accepted.caption_keys:
            found = found or self.transcript(video_id, key)
        return found

    def _newest(self, video_id: str, wanted: Callable[[Transcript], bool]) -> Transcript | None:
        listed = self.blobs.glob(self._key(video_id, "transcript-*.json"))
        valid = [t for t in (self._read(item.key, Transcript) for item in listed) if t is not None and wanted(t)]
        return max(valid, key=lambda t: t.transcribed_at) if valid else None

    def save_embeddings(self, record: Embeddings, key: str) -> str:
        return self._write(self._key(record.video_id, f"embeddings-{key}.json"), record)

    def embeddings(self, video_id: str, key: str) -> Embeddings | None:
        return self._read(self._key(video_id, f"embeddings-{key}.json"), Embeddings)

    def save_caption_check(self, check: CaptionCheck) -> str:
        return self._write(self._key(check.video_id, "captions.json"), check)

    def caption_check(self, video_id: str) -> CaptionCheck | None:
        return self._read(self._key(video_id, "captions.json"), CaptionCheck)

    def save_summary(self, record: SummaryRecord, key: str) -> str:
        return self._write(self._key(record.video_id, f"summary-{key}.json"), record)

    def summary(self, video_id: str, key: str) -> SummaryRecord | None:
        return self._read(self._key(video_id, f"summary-{key}.json"), SummaryRecord)

    def save_failure(self, failure: Failure) -> str:
        return self._write(self._key(failure.video_id, "failure.json"), failure)

    def failure(self, video_id: str) -> Failure | None:
        return self._read(self._key(video_id, "failure.json"), Failure)

    def clear_failure(self, video_id: str) -> None:
        self.blobs.delete(self._key(video_id, "failure.json"))

    def save_stage_run(self, run: StageRun) -> str:
        stamp = run.started_at.strftime("%Y%m%dT%H%M%S%f")
        return self._write(self._key(run.video_id, f"stage_runs/{stamp}-{run.stage}.json"), run)

    def stage_runs(self, video_id: str) -> list[tuple[StoredFile, StageRun]]:
        """Timing records not yet loaded into the catalog, oldest first (their names start with the time)."""
        found = []
        for item in self.blobs.glob(self._key(video_id, "stage_runs/*.json")):
            run = self._read(item.key, StageRun)
            if run is not None:
                found.append((StoredFile(self.blobs, item.key), run))
        return found

    # -- media -----------------------------------------------------------------------------
    def media_key(self, video_id: str) -> str | None:
        """The store key of a video's finished download (`media/<id>.<ext>`), if there is one."""
        self._checked(video_id)
        for item in self.blobs.glob(f"media/{video_id}.*"):
            if not item.key.endswith(_UNFINISHED):
                return item.key
        return None

    def _scratch_copy(self, key: str) -> Path:
        return inside(self.scratch, self.scratch / "media" / key.rsplit("/", 1)[-1])

    def media(self, video_id: str) -> Path | None:
        """A local file of the video's finished download, if this machine has one (see `media_local`)."""
        return self._local_media(video_id, fetch=False)

    def fetch_media(self, video_id: str) -> Path | None:
        """A local file to work on: the stored file itself on a disk, else a copy fetched into scratch."""
        return self._local_media(video_id, fetch=True)

    def _local_media(self, video_id: str, *, fetch: bool) -> Path | None:
        key = self.media_key(video_id)
        if key is None:
            return None
        if not self.shared:
            return Path(self.blobs.path(key))
        copy = self._scratch_copy(key)
        if copy.is_file():
            return copy
        if not fetch:
            return None
        self.blobs.get_file(key, copy)
        return copy

    @contextmanager
    def media_local(self, video_id: str) -> Iterator[Path | None]:
        """`fetch_media` for the length of a block; a copy this call fetched is removed afterwards."""
        had_copy = self.media(video_id) is not None
        path = self.fetch_media(video_id)
        try:
            yield path
        finally:
            if self.shared and path is not None and not had_copy:
                path.unlink(missing_ok=True)

    def staging(self, video_id: str) -> Path:
        """A fresh private folder in scratch for a download in progress (leftovers of a killed one removed)."""
        self._checked(video_id)
        self.scratch.mkdir(parents=True, exist_ok=True)
        for leftover in self.scratch.glob(f".{video_id}.*"):
            shutil.rmtree(leftover, ignore_errors=True)
        return Path(tempfile.mkdtemp(prefix=f".{video_id}.", dir=self.scratch))

    def put_media(self, local: Path) -> Path:
        """Publish a finished download named `<video_id>.<ext>`; return a local file of it.

        On a disk the file is moved into media/ (renamed: nothing is copied); with an object store it is
        uploaded and kept in this machine's scratch until `discard_local_media` or a transcription is done.
        """
        video_id, ext = local.stem, local.suffix
        self._checked(video_id)
        if not _EXT_RE.fullmatch(ext):
            raise UnsafePathError(f"{local.name!r} is not a safe media file name")
        key = f"media/{video_id}{ext}"
        if self.shared:
            self.blobs.put_file(local, key)
            target = self._scratch_copy(key)
        else:
            target = Path(self.blobs.path(key))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # Scratch on another disk than the home: copy beside the target, then rename into place.
            with atomic_path(target) as tmp:
                shutil.copyfile(local, tmp)
            local.unlink()
        return target

    def discard_local_media(self, video_id: str) -> None:
        """Drop this machine's scratch copy of a video's media (the store keeps the file)."""
        if self.shared:
            copy = self.media(video_id)
            if copy is not None:
                copy.unlink(missing_ok=True)

    def drop_media(self, video_id: str) -> None:
        """Delete a video's media everywhere (undecodable audio), so a later run downloads it again."""
        key = self.media_key(video_id)
        if key is None:
            return
        if self.shared:
            self._scratch_copy(key).unlink(missing_ok=True)
        self.blobs.delete(key)

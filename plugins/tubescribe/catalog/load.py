"""Load stage: write a batch of videos' artifacts into the catalog, in one transaction, as upserts.

Loading reads only finished artifacts, so it can be re-run at any time: the same artifacts give the
same rows, and a crash mid-batch rolls the whole batch back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tubescribe.catalog.connection import retry_conflicts, writer
from tubescribe.catalog.search import refresh_index
from tubescribe.catalog.sql import run_sql, transaction
from tubescribe.records import CaptionCheck, Embeddings, Failure, StageRun, SummaryRecord, Transcript, Video
from tubescribe.settings import Settings
from tubescribe.store import Accepted, Store, StoredFile
from tubescribe.text import public_url
from tubescribe.topics import normalize_topic

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    loaded: tuple[str, ...]
    failed: tuple[str, ...]
    pending: tuple[str, ...]


def load_videos(
    settings: Settings,
    video_ids: list[str],
    accepted: Accepted | str,
    summary_key: str,
    embedding_key: str | None = None,
) -> LoadResult:
    """Upsert the given videos, their transcripts, summaries and (with `embedding_key`) embeddings.

    `accepted` says which transcript to load (pipeline.steps.accepted_transcripts; a Whisper key alone
    means Whisper's with those settings, else the newest). Embeddings are loaded only when they were
    made from that transcript.
    """
    store = Store(settings)
    batch = Batch()
    loaded, failed, pending = [], [], []
    timing_files: list[StoredFile] = []
    # Artifacts are read before the catalog lock is taken, so the lock is held only to write.
    for video_id in dict.fromkeys(video_ids):
        video = store.video(video_id)
        if video is None:
            pending.append(video_id)
            continue
        timings = store.stage_runs(video_id)
        batch.add_stage_runs(video_id, [run for _, run in timings])
        timing_files += [path for path, _ in timings]
        failure = store.failure(video_id)
        transcript = store.find_transcript(video_id, accepted)
        summary = store.summary(video_id, summary_key)
        if transcript is not None:
            batch.add_transcript(transcript, store.caption_check(video_id))
            embedded = store.embeddings(video_id, embedding_key) if embedding_key else None
            if embedded is not None and embedded.transcript_key == transcript.settings_key:
                batch.add_embeddings(embedded)
        if summary is not None:
            batch.add_summary(summary, f"{video_id}-{summary_key}")
        if failure is not None and failure.kind in ("deferred", "blocked"):
            status = "pending"  # not the video's fault: it simply waits for a later run
            pending.append(video_id)
        elif failure is not None:
            status = "failed"
            failed.append(video_id)
        elif transcript is not None and summary is not None:
            status = "loaded"
            loaded.append(video_id)
        else:
            status = "pending"
            pending.append(video_id)
        batch.add_video(video, status, failure)

    def write() -> None:
        with writer(settings) as con, transaction(con):
            write_batch(con, batch, datetime.now(UTC), settings.max_attempts)
            refresh_index(con, list(batch.videos))

    retry_conflicts(write)  # a DuckLake conflict rolled the whole batch back, so it is written again
    # Only after the commit: a crash before this line loads them again, which load/stage_runs.sql ignores.
    for path in timing_files:
        path.unlink(missing_ok=True)
    log.info("loaded %d, failed %d, pending %d", len(loaded), len(failed), len(pending))
    return LoadResult(tuple(loaded), tuple(failed), tuple(pending))


Row = dict[str, Any]


@dataclass
class Batch:
    """A batch's catalog rows, table by table, written with one statement per table.

    One statement per table rather than per video: at 100 videos that is about 30 statements instead
    of about 1,400, which were most of a load's time (BENCHMARKS.md).
    """

    channels: dict[str, Row] = field(default_factory=dict)
    videos: dict[str, Row] = field(default_factory=dict)
    stage_runs: list[Row] = field(default_factory=list)
    transcripts: list[Row] = field(default_factory=list)
    segments: list[Row] = field(default_factory=list)
    summaries: list[Row] = field(default_factory=list)
    embeddings: list[Row] = field(default_factory=list)
    embedded: dict[str, list[str]] = field(default_factory=dict)  # model -> videos whose embeddings are replaced
    parts: dict[str, list[Row]] = field(
        default_factory=lambda: {"sections": [], "bullets": [], "section_topics": [], "tags": [], "general_topics": []}
    )

    def add_video(self, video: Video, status: str, failure: Failure | None) -> None:
        """A video's row with its state after this run, and its channel's."""
        self.channels[video.channel_id] = {
            "channel_id": video.channel_id,
            "title": video.channel_title,
            "url": video.channel_url,
            "extractor": video.extractor,
        }
        self.videos[video.video_id] = {
            "video_id": video.video_id,
            "channel_id": video.channel_id,
            "title": video.title,
            "url": public_url(video.url),  # a video stored before discover dropped yt-dlp's fragment
            "published_at": video.published_at,
            "duration_s": video.duration_s,
            "extractor": video.extractor,
            "status": status,
            "failed_stage": failure.stage if failure else None,
            "error_kind": failure.kind if failure else None,
            "error_class": failure.error_class if failure else None,
            "error_message": failure.message if failure else None,
        }

    def add_stage_runs(self, video_id: str, runs: list[StageRun]) -> None:
        """A video's stage timings (loading them twice keeps one copy)."""
        fields = {"stage", "run_id", "started_at", "seconds", "status", "audio_s", "model"}
        self.stage_runs += [{"video_id": video_id, **run.model_dump(include=fields)} for run in runs]

    def add_transcript(self, transcript: Transcript, check: CaptionCheck | None = None) -> None:
        """A transcript, replacing the video's old one and all its segments, with where it came from."""
        self.transcripts.append(
            {
                "video_id": transcript.video_id,
                "text": transcript.text,
                "language": transcript.language,
                "language_probability": transcript.language_probability,
                "audio_duration_s": transcript.audio_duration_s,
                "model": transcript.model,
                "settings_key": transcript.settings_key,
                "segment_count": len(transcript.segments),
                "transcribed_at": transcript.transcribed_at,
                "elapsed_s": transcript.elapsed_s,
                "source": transcript.source,
                "caption_kind": transcript.caption_kind,
                "caption_track": transcript.caption_track,
                "caption_format": transcript.caption_format,
                # Why these captions were used, or why Whisper was needed (none: checked before captions existed).
                "caption_note": check.reason if check else None,
            }
        )
        self.segments += [
            {"video_id": transcript.video_id, "idx": s.idx, "start_s": s.start_s, "end_s": s.end_s, "text": s.text}
            for s in transcript.segments
        ]

    def add_embeddings(self, record: Embeddings) -> None:
        """A video's passages and vectors under one model, replacing that model's earlier ones."""
        import base64

        import numpy as np

        vectors = np.frombuffer(base64.b64decode(record.vectors), dtype="<f4").reshape(len(record.passages), -1)
        self.embedded.setdefault(record.model, []).append(record.video_id)
        self.embeddings += [
            {
                "video_id": record.video_id,
                "model": record.model,
                **passage.model_dump(),
                "embedding": [round(float(x), 6) for x in vector],
                "created_at": record.created_at,
            }
            for passage, vector in zip(record.passages, vectors, strict=True)
        ]

    def add_summary(self, record: SummaryRecord, summary_id: str) -> None:
        """One summary (keyed by backend, model and prompt version), replacing it and its parts."""
        summary = record.summary
        self.summaries.append(
            {
                "summary_id": summary_id,
                "video_id": record.video_id,
                "backend": record.backend,
                "model": record.model,
                "prompt_version": record.prompt_version,
                "summary_json": json.dumps(json.loads(record.raw_json), ensure_ascii=False),
                "introduction": summary.introduction,
                "tokens_in": record.tokens_in,
                "tokens_out": record.tokens_out,
                "latency_s": record.latency_s,
                "created_at": record.created_at,
                "transcript_key": record.transcript_key,
            }
        )
        key = {"summary_id": summary_id, "video_id": record.video_id}
        spans = list(record.section_spans) + [None] * (len(summary.sections) - len(record.section_spans))
        sections = list(enumerate(summary.sections, start=1))
        self.parts["sections"] += [
            {
                **key,
                "idx": i,
                "title": s.title,
                "start_s": span.start_s if span else None,
                "end_s": span.end_s if span else None,
            }
            for (i, s), span in zip(sections, spans, strict=True)
        ]
        self.parts["bullets"] += [
            {**key, "section_idx": i, "idx": j, "text": text}
            for i, s in sections
            for j, text in enumerate(s.content, start=1)
        ]
        self.parts["section_topics"] += [
            {**key, "section_idx": i, "idx": j, "text": text}
            for i, s in sections
            for j, text in enumerate(s.topics, start=1)
        ]
        self.parts["tags"] += [
            {**key, "idx": i, "text": tag, "normalized": normalize_topic(tag)}
            for i, tag in enumerate(summary.topics, start=1)
        ]
        self.parts["general_topics"] += [
            {**key, "idx": i, "name": g.name, "complexity": str(g.complexity)}
            for i, g in enumerate(summary.generalTopics, start=1)
        ]


def write_batch(con: duckdb.DuckDBPyConnection, batch: Batch, now: datetime, max_attempts: int) -> None:
    """Write a batch's rows (in the caller's transaction); channels first, videos last."""
    if batch.channels:
        run_sql(con, "load/channels", {"rows": json_rows(list(batch.channels.values())), "now": now})
    if batch.stage_runs:
        run_sql(con, "load/stage_runs", {"rows": json_rows(batch.stage_runs)})
    if batch.transcripts:
        video_ids = [row["video_id"] for row in batch.transcripts]
        keys = json_rows(
            [{"video_id": row["video_id"], "settings_key": row["settings_key"]} for row in batch.transcripts]
        )
        transcripts = {"rows": json_rows(batch.transcripts), "segments": json_rows(batch.segments), "keys": keys}
        run_sql(con, "load/transcripts", {**transcripts, "video_ids": video_ids, "now": now})
    if batch.summaries:
        summary_ids = [row["summary_id"] for row in batch.summaries]
        parts = {name: json_rows(rows) for name, rows in batch.parts.items()}
        run_sql(con, "load/summaries", {"rows": json_rows(batch.summaries), "summary_ids": summary_ids, **parts})
        run_sql(con, "load/summary_lists", {"summary_ids": summary_ids})  # their list columns, from the parts
    for model, video_ids in batch.embedded.items():
        rows = json_rows([row for row in batch.embeddings if row["model"] == model])
        run_sql(con, "load/embeddings", {"rows": rows, "model": model, "video_ids": video_ids})
    if batch.videos:
        videos = json_rows(list(batch.videos.values()))
        run_sql(con, "load/videos", {"rows": videos, "now": now, "max_attempts": max_attempts})


def json_rows(rows: list[Row]) -> str:
    """Rows as the JSON text the load SQL casts to typed structs."""
    # Rows travel as one JSON text that DuckDB casts to typed structs: binding the same rows as Python
    # lists costs about 0.5 ms a row in DuckDB's value conversion, seconds for a batch's segments.
    return json.dumps(rows, ensure_ascii=False, default=_iso)


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a catalog value")

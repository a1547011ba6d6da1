"""Load stage: write a batch of videos' artifacts into the catalog, in one transaction, as upserts.

Loading reads only finished artifacts, so it can be re-run at any time: the same artifacts give the
same rows, and a crash mid-batch rolls the whole batch back.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tubescribe.catalog import run_sql, transaction, writer
from tubescribe.records import Failure, StageRun, SummaryRecord, Transcript, Video
from tubescribe.search import index_refreshed
from tubescribe.settings import Settings
from tubescribe.store import Store
from tubescribe.topics import normalize_topic

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadResult:
    loaded: tuple[str, ...]
    failed: tuple[str, ...]
    pending: tuple[str, ...]


def load_videos(settings: Settings, video_ids: list[str], transcript_key: str, summary_key: str) -> LoadResult:
    """Upsert the given videos, their transcripts and summaries into the catalog."""
    store = Store(settings)
    loaded, failed, pending = [], [], []
    timing_files: list[Path] = []
    now = datetime.now(UTC)
    with writer(settings) as con, index_refreshed(con), transaction(con):
        for video_id in video_ids:
            video = store.video(video_id)
            if video is None:
                pending.append(video_id)
                continue
            timings = store.stage_runs(video_id)
            save_stage_runs(con, video_id, [run for _, run in timings])
            timing_files += [path for path, _ in timings]
            failure = store.failure(video_id)
            transcript = store.find_transcript(video_id, transcript_key)
            summary = store.summary(video_id, summary_key)
            run_sql(
                con,
                "load/upsert_channel",
                {
                    "channel_id": video.channel_id,
                    "title": video.channel_title,
                    "url": video.channel_url,
                    "extractor": video.extractor,
                    "now": now,
                },
            )
            if transcript is not None:
                save_transcript(con, transcript)
            if summary is not None:
                save_summary(con, summary, f"{video_id}-{summary_key}")
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
            save_video(con, video, status, failure, now, settings.max_attempts)
    # Only after the commit: a crash before this line re-inserts them, which the primary key ignores.
    for path in timing_files:
        path.unlink(missing_ok=True)
    log.info("loaded %d, failed %d, pending %d", len(loaded), len(failed), len(pending))
    return LoadResult(tuple(loaded), tuple(failed), tuple(pending))


def save_video(
    con: duckdb.DuckDBPyConnection,
    video: Video,
    status: str,
    failure: Failure | None,
    now: datetime,
    max_attempts: int,
) -> None:
    """Upsert one video row with its state after this run."""
    run_sql(
        con,
        "load/upsert_video",
        {
            "video_id": video.video_id,
            "channel_id": video.channel_id,
            "title": video.title,
            "url": video.url,
            "published_at": video.published_at,
            "duration_s": video.duration_s,
            "extractor": video.extractor,
            "status": status,
            "failed_stage": failure.stage if failure else None,
            "error_kind": failure.kind if failure else None,
            "error_class": failure.error_class if failure else None,
            "error_message": failure.message if failure else None,
            "max_attempts": max_attempts,
            "now": now,
        },
    )


def save_stage_runs(con: duckdb.DuckDBPyConnection, video_id: str, runs: list[StageRun]) -> None:
    """Insert a video's stage timings (idempotent)."""
    if runs:
        rows = [
            r.model_dump(include={"stage", "run_id", "started_at", "seconds", "status", "audio_s", "model"})
            for r in runs
        ]
        run_sql(con, "load/insert_stage_runs", {"video_id": video_id, "runs": rows})


def save_transcript(con: duckdb.DuckDBPyConnection, transcript: Transcript) -> None:
    """Replace a video's transcript and its segments."""
    run_sql(
        con,
        "load/upsert_transcript",
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
        },
    )
    run_sql(con, "load/delete_segments", {"video_id": transcript.video_id})
    if transcript.segments:
        run_sql(
            con,
            "load/replace_segments",
            {
                "video_id": transcript.video_id,
                "idx": [s.idx for s in transcript.segments],
                "start_s": [s.start_s for s in transcript.segments],
                "end_s": [s.end_s for s in transcript.segments],
                "text": [s.text for s in transcript.segments],
            },
        )


def save_summary(con: duckdb.DuckDBPyConnection, record: SummaryRecord, summary_id: str) -> None:
    """Replace one summary (keyed by backend, model and prompt version) and its parts."""
    summary = record.summary
    run_sql(
        con,
        "load/upsert_summary",
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
        },
    )
    spans = list(record.section_spans) + [None] * (len(summary.sections) - len(record.section_spans))
    parts: dict[str, Any] = {
        "summary_id": summary_id,
        "video_id": record.video_id,
        "sections": [
            {
                "idx": i,
                "title": s.title,
                "start_s": span.start_s if span else None,
                "end_s": span.end_s if span else None,
            }
            for i, (s, span) in enumerate(zip(summary.sections, spans, strict=True), start=1)
        ],
        "bullets": [
            {"section_idx": i, "idx": j, "text": text}
            for i, s in enumerate(summary.sections, start=1)
            for j, text in enumerate(s.content, start=1)
        ],
        "section_topics": [
            {"section_idx": i, "idx": j, "text": text}
            for i, s in enumerate(summary.sections, start=1)
            for j, text in enumerate(s.topics, start=1)
        ],
        "tags": [
            {"idx": i, "text": tag, "normalized": normalize_topic(tag)} for i, tag in enumerate(summary.topics, start=1)
        ],
        "general_topics": [
            {"idx": i, "name": g.name, "complexity": str(g.complexity)}
            for i, g in enumerate(summary.generalTopics, start=1)
        ],
    }
    run_sql(con, "load/delete_summary_parts", {"summary_id": summary_id})
    run_sql(con, "load/insert_summary_parts", parts)

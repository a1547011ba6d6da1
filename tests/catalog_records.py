"""Records and a staged home for catalog and load tests: finished artifacts as the stages leave them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from tubescribe.contract import Summary, parse_summary
from tubescribe.records import Failure, SectionSpan, Segment, SummaryRecord, Transcript, Video
from tubescribe.settings import Settings
from tubescribe.store import Store

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = json.loads((REPO / "plugins" / "tubescribe" / "prompts" / "examples.json").read_text(encoding="utf-8"))
TABLES = (
    "channels",
    "videos",
    "transcripts",
    "segments",
    "summaries",
    "summary_sections",
    "section_bullets",
    "section_topics",
    "topic_tags",
    "general_topics",
)
WHEN = datetime(2024, 5, 14, 15, 0, tzinfo=UTC)
TKEY = "tkey00000001"


def make_video(video_id: str = "rust", title: str = "Rust in 100 Seconds", **fields: Any) -> Video:
    """A listed video of the sample channel (any field may be given): every test builds its videos here."""
    values: dict[str, Any] = {
        "url": f"http://127.0.0.1:1/{video_id}.webm",
        "channel_id": "generic-sample",
        "channel_title": "sample channel",
        "channel_url": "http://127.0.0.1:1/feed.xml",
        "published_at": WHEN,
        "duration_s": 154.0,
    }
    return Video(video_id=video_id, title=title, **{**values, **fields})


RUST_SEGMENTS = (
    Segment(idx=0, start_s=0.0, end_s=4.2, text="Rust is a memory safe language."),
    Segment(idx=1, start_s=4.2, end_s=8.4, text="It was named after a fungus."),
)


def make_segments(texts: Sequence[str], seconds_each: float) -> tuple[Segment, ...]:
    """One segment per text, each `seconds_each` long, back to back from 0."""
    return tuple(
        Segment(idx=i, start_s=i * seconds_each, end_s=(i + 1) * seconds_each, text=text)
        for i, text in enumerate(texts)
    )


def make_transcript(video_id: str = "rust", segments: Sequence[Segment] = RUST_SEGMENTS, **fields: Any) -> Transcript:
    """A finished transcript of `segments` (two lines about Rust unless given); any other field may be given too.

    Every test builds its transcripts here, so a new field of `Transcript` is added in one place.
    """
    values: dict[str, Any] = {
        "language": "en",
        "language_probability": 0.98,
        "audio_duration_s": 8.5,
        "model": "bundled-tiny.en",
        "settings_key": TKEY,
        "transcribed_at": WHEN,
        "elapsed_s": 1.25,
    }
    return Transcript(video_id=video_id, segments=tuple(segments), **{**values, **fields})


def timed_transcript(video_id: str, texts: Sequence[str], seconds_each: float, **fields: Any) -> Transcript:
    """A transcript of one `seconds_each`-long segment per text, as long as they are together."""
    fields.setdefault("audio_duration_s", len(texts) * seconds_each)
    return make_transcript(video_id, make_segments(texts, seconds_each), **fields)


def make_summary_record(
    video_id: str = "rust",
    *,
    example: int = 0,
    prompt_version: str = "p1",
    created_at: datetime = WHEN,
    introduction: str | None = None,
    topics: list[str] | None = None,
    tokens_in: int | None = 1200,
) -> SummaryRecord:
    data = dict(EXAMPLES[example]["summary"])
    if introduction is not None:
        data["introduction"] = introduction
    if topics is not None:
        data["topics"] = topics
    summary: Summary = parse_summary(data)
    return SummaryRecord(
        video_id=video_id,
        backend="local",
        model="extractive",
        prompt_version=prompt_version,
        summary=summary,
        raw_json=json.dumps(data),
        section_spans=(SectionSpan(start_s=0.0, end_s=30.5),),
        created_at=created_at,
        tokens_in=tokens_in,
        tokens_out=300,
        latency_s=0.75,
    )


def make_failure(
    video_id: str = "rust",
    stage: str = "download",
    error_class: str = "DownloadError",
    message: str = "404",
    kind: str = "permanent",
    at: datetime = WHEN,
) -> Failure:
    """Why a video stopped, as a stage records it (a permanent 404 while downloading unless told)."""
    return Failure(video_id=video_id, stage=stage, kind=kind, error_class=error_class, message=message, at=at)


def stage(store: Store, video_id: str = "rust", summary_key: str = "k1", **summary: Any) -> None:
    """Write a video's finished artifacts, as the earlier stages would."""
    store.save_video(make_video(video_id))
    store.save_transcript(make_transcript(video_id))
    store.save_summary(make_summary_record(video_id, **summary), summary_key)


def read(settings: Settings, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(settings.catalog_path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def counts(settings: Settings) -> dict[str, int]:
    return {table: read(settings, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    return {table: sorted(read(settings, f"SELECT * FROM {table}"), key=repr) for table in TABLES}

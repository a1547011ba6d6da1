"""Records and a staged home for catalog and load tests: finished artifacts as the stages leave them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from tubescribe.contract import Summary, parse_summary
from tubescribe.records import SectionSpan, Segment, SummaryRecord, Transcript, Video
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


def make_video(video_id: str = "rust", title: str = "Rust in 100 Seconds") -> Video:
    return Video(
        video_id=video_id,
        title=title,
        url=f"http://127.0.0.1:1/{video_id}.webm",
        channel_id="generic-sample",
        channel_title="sample channel",
        channel_url="http://127.0.0.1:1/feed.xml",
        published_at=WHEN,
        duration_s=154.0,
    )


def make_transcript(video_id: str = "rust") -> Transcript:
    return Transcript(
        video_id=video_id,
        language="en",
        language_probability=0.98,
        audio_duration_s=8.5,
        model="bundled-tiny.en",
        settings_key=TKEY,
        segments=(
            Segment(idx=0, start_s=0.0, end_s=4.2, text="Rust is a memory safe language."),
            Segment(idx=1, start_s=4.2, end_s=8.4, text="It was named after a fungus."),
        ),
        transcribed_at=WHEN,
        elapsed_s=1.25,
    )


def make_summary_record(
    video_id: str = "rust",
    *,
    example: int = 0,
    prompt_version: str = "p1",
    created_at: datetime = WHEN,
    introduction: str | None = None,
    tokens_in: int | None = 1200,
) -> SummaryRecord:
    data = dict(EXAMPLES[example]["summary"])
    if introduction is not None:
        data["introduction"] = introduction
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

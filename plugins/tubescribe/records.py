"""Typed records passed between stages and written as artifacts under $TUBESCRIBE_HOME."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from tubescribe.contract import Summary

# Video ids become file names, so they are restricted to a safe alphabet (YouTube's own).
VIDEO_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,80}")


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Video(Record):
    """One video as listed by its channel or feed."""

    video_id: str
    title: str
    url: str
    channel_id: str
    channel_title: str
    channel_url: str
    published_at: datetime | None = None
    duration_s: float | None = None
    extractor: str = "generic"
    live_status: str | None = None  # yt-dlp's: is_live, is_upcoming, was_live, post_live, not_live

    @field_validator("video_id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not VIDEO_ID_RE.fullmatch(value):
            raise ValueError(f"video id {value!r} may only hold letters, digits, '_' and '-'")
        return value


class Segment(Record):
    """A stretch of speech with its time span in seconds from the start of the video."""

    idx: int
    start_s: float
    end_s: float
    text: str


class Transcript(Record):
    """What was said in one video: heard by faster-whisper (`asr`) or taken from the platform's captions."""

    video_id: str
    language: str
    language_probability: float | None  # Whisper's confidence in the language; None for captions
    audio_duration_s: float
    model: str  # the Whisper model, or "captions"
    settings_key: str  # Whisper's settings hash, or captions-uploaded / captions-automatic
    segments: tuple[Segment, ...]
    transcribed_at: datetime
    elapsed_s: float
    # Provenance. Transcripts stored before captions existed are Whisper's: the defaults say so.
    source: str = "asr"  # asr or captions
    caption_kind: str | None = None  # uploaded (by the creator) or automatic (the platform's speech recognition)
    caption_track: str | None = None  # the track's name in the listing (en, en-orig, a label); never its URL
    caption_format: str | None = None  # vtt, srt, json3, ttml, srv3...

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments).strip()


class SectionSpan(Record):
    """Where in the video a summary section starts and ends (seconds), when known."""

    start_s: float | None = None
    end_s: float | None = None


class SummaryRecord(Record):
    """A validated summary with how it was made."""

    video_id: str
    backend: str
    model: str
    prompt_version: str
    summary: Summary
    raw_json: str
    section_spans: tuple[SectionSpan, ...] = ()
    created_at: datetime
    transcript_key: str | None = None  # the transcript it summarizes (None: made before this was recorded)
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_s: float | None = None


class CaptionCheck(Record):
    """What the captions step decided for a video: its captions were used, or why Whisper was needed.

    Written by the download task before any media is fetched; the loader puts the decision beside the
    transcript in the catalog (`transcripts.caption_note`).
    """

    video_id: str
    policy: str  # TUBESCRIBE_CAPTIONS when it was checked: off, uploaded or any
    outcome: str  # used, rejected (a track was tried and failed a check), absent (none eligible), off
    reason: str  # why, in words: "uploaded en (vtt): 212 cues cover 96 % of 182 s" / "coverage 31 % < 50 %"
    kind: str | None = None
    language: str | None = None
    track: str | None = None
    format: str | None = None
    checked_at: datetime


class EmbeddedPassage(Record):
    """One embedded text of a video: a ~30-s chunk of its transcript, or a section of its summary."""

    kind: str  # chunk or section
    idx: int
    start_s: float | None
    end_s: float | None
    text: str


class Embeddings(Record):
    """A video's passages and their vectors under one embedding model (`vectors`: base64 float32 rows)."""

    video_id: str
    model: str  # backend/model, e.g. local/multilingual-e5-small-q4
    dim: int
    transcript_key: str  # what was embedded: a changed transcript or summary makes these stale
    summary_key: str | None
    passages: tuple[EmbeddedPassage, ...]
    vectors: str
    created_at: datetime
    elapsed_s: float


class Failure(Record):
    """Why a video stopped at a stage; cleared when the stage later succeeds."""

    video_id: str
    stage: str
    kind: str  # errors.Kind: permanent, deferred, transient or blocked
    error_class: str
    message: str
    at: datetime


class RunSkips(Record):
    """The channels a run could not list, and why (a block, a dead URL): the run's report fails on them."""

    run_id: str
    skipped: list[str]


class StageRun(Record):
    """How long one stage took for one video in one run (written to the catalog's `stage_runs`)."""

    video_id: str
    stage: str
    run_id: str
    started_at: datetime
    seconds: float
    status: str  # done or failed
    audio_s: float | None = None
    model: str | None = None

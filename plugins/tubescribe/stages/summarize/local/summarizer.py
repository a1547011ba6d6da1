"""The offline summarizer: a deterministic, extractive summary built from the transcript alone.

Method (bump METHOD_VERSION when any of it changes):
- Words are lower-cased and stripped of punctuation; each gets a time interpolated inside its segment.
- Sections: five contiguous parts cut at the segment boundaries nearest each fifth of the words.
- Phrases (one or two words, no stop word, no number; plurals folded) score (1 + ln count) x weight:
  everyday English 0.25, generic programming words 0.5, -ed/-ing/-ly words 0.7, lexicon terms
  1.2-1.6; two-word phrases must recur (or be lexicon terms) and get a bonus; words of the video's
  title x1.5. Section phrases are also weighted by the share of their uses that fall in the section.
  Tags are picked best first, skipping any that shares a word with one already picked.
- Bullets are the word windows (or, for punctuated text, sentence chunks) holding the most of the
  section's phrase weight, picked greedily without overlap, trimmed of fillers, kept in spoken order.
- General topics: each field's lexicon terms are matched (two-word terms first) and a field scores
  the sum of weight x sqrt(count); the best field then lends 12/8/4% of its score to its three
  related fields, so weak runners-up are settled by kinship, not noise. Ties follow GENERAL_TOPICS.
- Complexity = 0.15 + 0.9 x sqrt(lexicon density: share of words that are lexicon terms)
  + 0.3 x rarity (share of content words of 7-13 letters outside the common-word lists), times
  (0.8 + 0.2 x the field's score relative to the best), plus a small per-field depth offset
  (theory and quantum +0.08, AI +0.05, HCI -0.05, ...), clamped to 0.05-0.95, two decimals. Short
  transcripts are thin evidence, so the base is pulled toward 0.45 by a factor n / (n + 30) words.

The steps live beside this module: words and phrases (phrases.py), sections and bullets (sections.py),
fields and complexity (general_topics.py); the word lists in lexicon.py and fields.py.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tubescribe.contract import N_TOPICS, complexity_label, dump_summary, parse_summary
from tubescribe.records import SummaryRecord, Transcript, Video
from tubescribe.stages.summarize.base import SummarizeError, summary_record
from tubescribe.stages.summarize.local.general_topics import general_topics
from tubescribe.stages.summarize.local.lexicon import STOP_WORDS
from tubescribe.stages.summarize.local.phrases import (
    NORM_RE,
    count_phrases,
    pick_tags,
    plurals,
    rank_phrases,
    transcript_words,
)
from tubescribe.stages.summarize.local.sections import PADDING, make_section, section_times, split_sections

METHOD_VERSION = "extractive-1"


class LocalSummarizer:
    """Extractive, offline and deterministic: the default summarizer."""

    backend = "local"
    model = "tubescribe-extractive"
    prompt_version = hashlib.sha256(METHOD_VERSION.encode()).hexdigest()[:8]

    def summarize(self, video: Video, transcript: Transcript) -> SummaryRecord:
        """Summarize one transcript into a contract-valid SummaryRecord."""
        began = time.perf_counter()
        words = transcript_words(transcript.segments)
        if not words:
            raise SummarizeError(
                f"transcript of {video.video_id} has no words to summarize; check the audio and re-run transcription"
            )
        norms = [w.norm for w in words]
        canon = plurals(count_phrases(norms))
        totals = count_phrases(norms, canon)
        named = frozenset(NORM_RE.sub("", raw.lower()) for raw in video.title.split()) - STOP_WORDS
        topics = pick_tags(rank_phrases(totals, totals, named), N_TOPICS, PADDING)
        parts = split_sections(words)
        sections = [
            make_section(number, words, lo, hi, canon, totals, topics) for number, (lo, hi) in enumerate(parts, 1)
        ]
        fields = general_topics(norms)
        summary = parse_summary(
            {
                "introduction": _introduction(video.title, topics, sections, fields[0]),
                "sections": sections,
                "topics": topics,
                "generalTopics": [{"name": name, "complexity": f"{value:.2f}"} for name, value in fields],
            }
        )
        return summary_record(
            self,
            video,
            summary,
            raw_json=dump_summary(summary),
            section_spans=section_times(transcript, words, parts),
            latency_s=round(time.perf_counter() - began, 4),
        )


def _introduction(title: str, tags: Sequence[str], sections: Sequence[dict[str, Any]], field: tuple[str, float]) -> str:
    """Two or three sentences: what the video is about, how it proceeds, and its field and level."""
    head = title.strip().rstrip(".!?:") or "This video"
    steps = list(dict.fromkeys(section["topics"][0] for section in sections))
    first = f"{head}: a video about {_join(tags[:3])}."
    second = f"It covers {_join(steps)}, in that order." if len(steps) > 1 else ""
    name, value = field
    third = f"It belongs mainly to {name} (complexity {value:.2f}: {complexity_label(Decimal(f'{value:.2f}'))})."
    return " ".join(part for part in (first, second, third) if part)


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

"""What gets embedded: stretches of about 30 s of speech, cut at segment boundaries, and summary sections.

A search for a meaning needs more words than one Whisper segment (a few seconds) yet a moment precise
enough to open the video at; 30 s is what yt-fts found to work, and a chunk keeps the start and end
of the segments it is made of, so a hit links to the second its stretch begins.
"""

from __future__ import annotations

from dataclasses import dataclass

from tubescribe.records import SummaryRecord, Transcript

CHUNK_S = 30.0


@dataclass(frozen=True)
class Passage:
    kind: str  # chunk (of the transcript) or section (of the summary)
    idx: int
    start_s: float | None
    end_s: float | None
    text: str


def transcript_chunks(transcript: Transcript, target_s: float = CHUNK_S) -> list[Passage]:
    """Consecutive segments grouped until they span `target_s` seconds."""
    found: list[Passage] = []
    words: list[str] = []
    start = end = 0.0
    for segment in transcript.segments:
        if not segment.text.strip():
            continue
        if not words:
            start = segment.start_s
        words.append(segment.text.strip())
        end = segment.end_s
        if end - start >= target_s:
            found.append(Passage("chunk", len(found), start, end, " ".join(words)))
            words = []
    if words:
        found.append(Passage("chunk", len(found), start, end, " ".join(words)))
    return found


def summary_sections(record: SummaryRecord) -> list[Passage]:
    """Each section of the summary as its title, bullets and topics, with its time range when known."""
    spans = list(record.section_spans) + [None] * (len(record.summary.sections) - len(record.section_spans))
    return [
        Passage(
            "section",
            i,
            span.start_s if span else None,
            span.end_s if span else None,
            " ".join([section.title, *section.content, *section.topics]),
        )
        for i, (section, span) in enumerate(zip(record.summary.sections, spans, strict=True), start=1)
    ]

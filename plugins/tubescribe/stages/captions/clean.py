"""Caption cues turned into what was said: plain text in sentence-sized segments.

Caption files carry markup and display tricks that are not speech: inline tags and word timestamps
(`<00:00:01.234><c> word</c>`), HTML entities, sound labels (`[Music]`, `(applause)`, `♪`), speaker
marks (`>>`). YouTube's automatic VTT "rolls": each cue shows the previous line again above the new
words, with a ~10 ms cue in between that holds the finished line; kept as they are, every word would
appear two or three times.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from tubescribe.records import Segment
from tubescribe.stages.captions.parse import Cue
from tubescribe.text import clean_text

HOLD_CUE_S = 0.05  # rolling captions' hold cues last 10 ms; no one speaks a line that fast
MAX_SEGMENT_S = 15.0  # about Whisper's segment length, so search hits and summaries point as precisely
_PAUSE_S = 2.0  # a silence this long ends a segment even mid-sentence
_TAG = re.compile(r"<[^>]*>")
_WORD_TIMESTAMP = re.compile(r"<\d{1,2}:\d{2}(?::\d{2})?\.\d{3}>")
_NON_SPEECH = re.compile(
    r"\[[^\]\n]{0,40}\]"
    r"|\((?:[^)\n]{0,20}\b)?(?:music|applause|laughter|laughs|laughing|cheering|inaudible|silence|chuckles)\b[^)\n]{0,20}\)"
    r"|[♪♫♬]",
    re.I,
)
_SPEAKER = re.compile(r"^\s*>>\s*")  # a change of speaker in YouTube's captions
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


@dataclass(frozen=True)
class Cleaned:
    """Speech cues, and how many cues held nothing but sound labels."""

    cues: tuple[Cue, ...]
    non_speech: int


def clean_cues(cues: list[Cue], rolling: bool = False) -> Cleaned:
    """Cues as spoken text in time order; `rolling` (or word timestamps in the text) undoes rolling captions."""
    rolling = rolling or any(_WORD_TIMESTAMP.search(cue.text) for cue in cues)
    kept: list[Cue] = []
    non_speech = 0
    shown: list[str] = []  # the lines of the cue before, which a rolling cue repeats
    for cue in sorted(cues, key=lambda c: c.start_s):
        if cue.end_s - cue.start_s <= HOLD_CUE_S:
            continue
        lines = [line for line in (_clean_line(raw) for raw in cue.text.split("\n")) if line is not None]
        spoken = [line for line in lines if line and not (rolling and line in shown)]
        shown = [line for line in lines if line]
        if spoken:
            kept.append(Cue(cue.start_s, cue.end_s, " ".join(spoken)))
        elif any(line == "" for line in lines):
            non_speech += 1
    return Cleaned(tuple(kept), non_speech)


def _clean_line(raw: str) -> str | None:
    """The spoken words of one line; "" when it held only sound labels, None when it held nothing."""
    text = html.unescape(_TAG.sub("", raw))
    text = " ".join(clean_text(text).split())
    if not text:
        return None
    return " ".join(_NON_SPEECH.sub(" ", _SPEAKER.sub("", text)).split())


def to_segments(cues: tuple[Cue, ...]) -> tuple[Segment, ...]:
    """Cues merged into segments that end with a sentence, a pause, or at about MAX_SEGMENT_S."""
    segments: list[Segment] = []
    words: list[str] = []
    start = end = 0.0
    for i, cue in enumerate(cues):
        # A cue often stays on screen while the next is spoken; the next one's start ends it.
        cue_end = min(cue.end_s, cues[i + 1].start_s) if i + 1 < len(cues) else cue.end_s
        cue_end = max(cue_end, cue.start_s)
        if words and (cue.start_s - end > _PAUSE_S or cue_end - start > MAX_SEGMENT_S):
            segments.append(_segment(len(segments), start, end, words))
            words = []
        if not words:
            start = cue.start_s
        words.append(cue.text)
        end = cue_end
        if _SENTENCE_END.search(cue.text):
            segments.append(_segment(len(segments), start, end, words))
            words = []
    if words:
        segments.append(_segment(len(segments), start, end, words))
    return tuple(segments)


def _segment(idx: int, start: float, end: float, words: list[str]) -> Segment:
    return Segment(idx=idx, start_s=round(start, 3), end_s=round(end, 3), text=" ".join(words))


def speech_seconds(cues: tuple[Cue, ...], duration_s: float | None = None) -> float:
    """Seconds during which some cue is shown (overlaps counted once), within the video when its length is known."""
    total, reach = 0.0, 0.0
    for cue in sorted(cues, key=lambda c: c.start_s):
        start, end = max(cue.start_s, reach), cue.end_s
        if duration_s is not None:
            end = min(end, duration_s)
        if end > start:
            total += end - start
            reach = end
    return total

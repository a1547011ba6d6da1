"""What a bullet can be: the transcript's sentences, or for unpunctuated text its spoken stretches.

Whisper punctuates, so its sentences are the units a reader expects. Captions and some transcripts are
unpunctuated lower case; there a segment boundary is where the speaker paused, so a unit is one segment,
a long one cut into even pieces and a very short one joined to the next when no pause comes between.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tubescribe.records import Segment

# Longer than this a unit reads as a paragraph: cut it into even pieces.
MAX_WORDS = 30
# Shorter than this a unit says too little to stand as a bullet alone.
MIN_WORDS = 5
# A gap this long between segments is a pause even where the text runs on.
PAUSE_S = 0.5
# Spoken openers that make a sentence read as a reply rather than a point.
_OPENERS = frozenset(
    [
        "and",
        "so",
        "but",
        "then",
        "now",
        "well",
        "okay",
        "ok",
        "um",
        "uh",
        "like",
        "yeah",
        "also",
        "just",
        "because",
        "or",
        "right",
        "alright",
    ]
)


class Unit(NamedTuple):
    words: tuple[str, ...]
    start_s: float
    end_s: float

    @property
    def text(self) -> str:
        return " ".join(self.words)


def spoken_units(segments: Sequence[Segment]) -> list[Unit]:
    """The transcript as sentences when it is punctuated, else as stretches between pauses."""
    timed = [(word, at, end) for segment in segments for word, at, end in _timed_words(segment)]
    if not timed:
        return []
    ends = sum(word[-1] in ".?!" for word, _, _ in timed)
    if ends * 40 >= len(timed):
        return _pieces(_sentences(timed))
    return _pieces(_stretches(segments))


def _timed_words(segment: Segment) -> list[tuple[str, float, float]]:
    # Marks alone ("...", "-") are no words: a segment of only them says nothing.
    words = [w for w in segment.text.split() if any(c.isalnum() for c in w)]
    step = (segment.end_s - segment.start_s) / max(len(words), 1)
    return [(w, segment.start_s + i * step, segment.start_s + (i + 1) * step) for i, w in enumerate(words)]


def _sentences(timed: Sequence[tuple[str, float, float]]) -> list[Unit]:
    units, start = [], 0
    for i, (word, _, _) in enumerate(timed):
        if word[-1] in ".?!" or i + 1 == len(timed):
            part = timed[start : i + 1]
            units.append(Unit(tuple(w for w, _, _ in part), part[0][1], part[-1][2]))
            start = i + 1
    return units


def _stretches(segments: Sequence[Segment]) -> list[Unit]:
    units: list[Unit] = []
    for segment in segments:
        words = tuple(w for w, _, _ in _timed_words(segment))
        if not words:
            continue
        last = units[-1] if units else None
        if last is not None and len(last.words) < MIN_WORDS and segment.start_s - last.end_s < PAUSE_S:
            units[-1] = Unit(last.words + words, last.start_s, segment.end_s)
        else:
            units.append(Unit(words, segment.start_s, segment.end_s))
    return units


def _pieces(units: Sequence[Unit]) -> list[Unit]:
    """Units over MAX_WORDS cut into even pieces, each with its share of the time."""
    found = []
    for unit in units:
        n = len(unit.words)
        parts = -(-n // MAX_WORDS)
        step = (unit.end_s - unit.start_s) / n
        for k in range(parts):
            lo, hi = k * n // parts, (k + 1) * n // parts
            found.append(Unit(unit.words[lo:hi], unit.start_s + lo * step, unit.start_s + hi * step))
    return found


def bullet_text(unit: Unit) -> str:
    """A unit as a bullet: spoken openers dropped, capitalized, ending in a full stop."""
    words = list(unit.words)
    while len(words) > MIN_WORDS and words[0].lower().strip(",.") in _OPENERS:
        words.pop(0)
    text = " ".join(words).strip(" ,;:-")
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."

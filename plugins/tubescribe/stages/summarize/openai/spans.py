"""Where each section of a summary sits in the video, found by matching its words to the transcript.

Used for LLM summaries, whose sections come with no timing: each section is placed on the run of
segments (or summarized part) whose distinctive words it shares most, keeping the sections in order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from tubescribe.contract import Section, Summary
from tubescribe.records import SectionSpan

# fmt: off
_STOPWORDS = frozenset(
    {
        "about", "after", "also", "been", "before", "being", "between", "both", "could", "does", "each", "from",
        "have", "here", "into", "just", "like", "more", "most", "much", "only", "other", "over", "same", "some",
        "such", "than", "that", "their", "them", "then", "there", "these", "they", "this", "those", "through",
        "very", "what", "when", "where", "which", "while", "will", "with", "would", "your", "section",
        "introduction", "overview", "video",
    }
)
# fmt: on
_MIN_EVIDENCE = 1.0


def section_spans(summary: Summary, units: Sequence[tuple[float, float, str]]) -> tuple[SectionSpan, ...]:
    """Start/end of each section, placing sections in order on the units (time range, text) their words match best.

    A section with no distinctive word in common with any unit gets an unknown span.
    """
    if not units:
        return tuple(SectionSpan() for _ in summary.sections)
    unit_words = [_words(text) for *_, text in units]
    counts = Counter(word for words in unit_words for word in words)
    weight = {word: math.log((len(units) + 1) / count) for word, count in counts.items()}
    section_words = [_words(_section_text(section)) for section in summary.sections]
    scores = [[sum(weight[w] for w in words & unit) for unit in unit_words] for words in section_words]
    placed = [unit if scores[i][unit] >= _MIN_EVIDENCE else None for i, unit in enumerate(_in_order(scores))]
    spans = []
    for i, unit in enumerate(placed):
        if unit is None:
            spans.append(SectionSpan())
            continue
        later = [u for u in placed[i + 1 :] if u is not None]
        if not later:
            end = units[-1][1]
        elif later[0] > unit:
            end = units[later[0]][0]
        else:  # the next section starts in the same unit
            end = units[unit][1]
        spans.append(SectionSpan(start_s=units[unit][0], end_s=end))
    return tuple(spans)


def _in_order(scores: list[list[float]]) -> list[int]:
    """For each section, a unit index, never decreasing, with the highest total score (dynamic programming)."""
    best = scores[0][:]
    choices: list[list[int]] = []
    for row in scores[1:]:
        top, top_at, new, picks = -math.inf, 0, [], []
        for unit, score in enumerate(row):
            if best[unit] > top:
                top, top_at = best[unit], unit
            new.append(top + score)
            picks.append(top_at)
        best = new
        choices.append(picks)
    unit = max(range(len(best)), key=best.__getitem__)
    path = [unit]
    for picks in reversed(choices):
        unit = picks[unit]
        path.append(unit)
    return path[::-1]


def _section_text(section: Section) -> str:
    return " ".join([re.sub(r"^Section \d+\W*", "", section.title), *section.content, *section.topics])


def summary_text(summary: Summary) -> str:
    return " ".join([summary.introduction, *map(_section_text, summary.sections), *summary.topics])


def _words(text: str) -> set[str]:
    words = (word.removesuffix("s") for word in re.findall(r"[a-z0-9]+", text.lower()))
    return {word for word in words if len(word) > 3 and word not in _STOPWORDS}

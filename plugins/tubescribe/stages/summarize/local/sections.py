"""The local summarizer's five sections: where they are cut, when they play, and their titles and bullets.

Sections are contiguous parts cut at the segment boundaries nearest each fifth of the words; bullets are
the word windows (or sentence chunks) richest in the section's phrases, picked without overlap.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from tubescribe.contract import N_BULLETS, N_SECTION_TOPICS, N_SECTIONS
from tubescribe.records import SectionSpan, Transcript
from tubescribe.stages.summarize.local.lexicon import STOP_WORDS
from tubescribe.stages.summarize.local.phrases import Phrase, Word, count_phrases, pick_tags, rank_phrases

_LEAD_TRIM = frozenset({"and", "or", "but", "so", "then", "now", "well", "okay", "ok", "um", "uh", "like", "yeah"})
_LEAD_TRIM |= {"also", "just", "because", "of", "to", "music"}
_CLAUSE_BREAK = frozenset({"and", "so", "but", "then", "now", "because", "which", "when", "while", "where", "if"})
# Padding for transcripts too short to offer enough distinct phrases of their own.
PADDING = ("Overview", "Key Points", "Details", "Examples", "Context")


def split_sections(words: Sequence[Word]) -> list[tuple[int, int]]:
    """Five contiguous word ranges, cut at segment boundaries when there are enough of them."""
    n = len(words)
    starts = [i for i in range(1, n) if words[i].segment != words[i - 1].segment]
    if len(starts) < N_SECTIONS - 1:
        cuts = [min(k * n // N_SECTIONS, n - 1) for k in range(N_SECTIONS)] + [n]
        return [(cuts[k], max(cuts[k + 1], cuts[k] + 1)) for k in range(N_SECTIONS)]
    cuts, low = [0], 0
    for k in range(1, N_SECTIONS):
        room = starts[low : len(starts) - (N_SECTIONS - 1 - k)]
        target = k * n / N_SECTIONS
        j = bisect_right(room, target)
        best = min(room[max(j - 1, 0) : j + 1], key=lambda c: (abs(c - target), c))
        cuts.append(best)
        low = bisect_right(starts, best)
    cuts.append(n)
    return list(pairwise(cuts))


def section_times(transcript: Transcript, words: Sequence[Word], parts: Sequence[tuple[int, int]]) -> list[SectionSpan]:
    if not any(segment.end_s > segment.start_s for segment in transcript.segments):
        return [SectionSpan() for _ in parts]
    starts = [words[lo].at for lo, _ in parts]
    starts[0] = min(starts[0], transcript.segments[0].start_s)
    ends = [*starts[1:], max(segment.end_s for segment in transcript.segments)]
    return [SectionSpan(start_s=round(s, 2), end_s=round(e, 2)) for s, e in zip(starts, ends, strict=True)]


def make_section(
    number: int,
    words: Sequence[Word],
    lo: int,
    hi: int,
    canon: dict[Phrase, Phrase],
    totals: Counter[Phrase],
    topics: Sequence[str],
) -> dict[str, Any]:
    """One section: a title from its two key phrases, four bullets, three key phrases."""
    ranked = rank_phrases(count_phrases([w.norm for w in words[lo:hi]], canon), totals)
    keys = pick_tags(ranked, N_SECTION_TOPICS, [*topics, *PADDING])
    weights: dict[str, float] = {}
    for rank, phrase in enumerate(ranked[:10]):
        for word in phrase:
            weights.setdefault(word, 1.0 / (1 + 0.3 * rank))
    title = f"Section {number}: " + " and ".join(keys[:2])
    return {"title": title, "content": _bullets(words, lo, hi, weights), "topics": keys}


def _units(words: Sequence[Word], lo: int, hi: int) -> list[tuple[int, int]]:
    """Candidate bullets: sentence chunks when the text is punctuated, else overlapping word windows."""
    size = min(18, max(6, (hi - lo) // N_BULLETS))
    if sum(w.ends_sentence for w in words[lo:hi]) * 40 >= hi - lo:
        units, start = [], lo
        for i in range(lo, hi):
            if words[i].ends_sentence or i + 1 == hi or i + 1 - start >= 24:
                units.append((start, i + 1))
                start = i + 1
        # Sentence ends cut off by the section boundary are fragments; use them only when short of bullets.
        whole = [unit for unit in units if unit[1] - unit[0] >= 4]
        return whole if len(whole) >= N_BULLETS else units
    lengths = sorted({max(size - 4, 4), size})
    return [(i, min(i + length, hi)) for i in range(lo, max(hi - size + 1, lo + 1)) for length in lengths]


def _bullets(words: Sequence[Word], lo: int, hi: int, weights: dict[str, float]) -> list[str]:
    """Four bullets: the windows richest in the section's phrases, in the order they were said."""
    decay: dict[str, float] = {}
    units = _units(words, lo, hi)
    chosen: list[tuple[int, int]] = []
    for _ in range(N_BULLETS):
        score = [weights.get(w.norm, 0.0) * decay.get(w.norm, 1.0) for w in words[lo:hi]]
        prefix = [0.0]
        for value in score:
            prefix.append(prefix[-1] + value)
        free = [u for u in units if all(u[1] <= a or u[0] >= b for a, b in chosen)] or units
        best = max(free, key=lambda u: (_unit_score(words, u, lo, prefix), -u[0], -u[1]))
        chosen.append(best)
        for w in words[best[0] : best[1]]:
            decay[w.norm] = 0.3
    bullets = []
    for start, end in sorted(chosen):
        bullets.append(_clean([w.raw for w in words[start:end]], [w.norm for w in words[start:end]]))
    return bullets


def _unit_score(words: Sequence[Word], unit: tuple[int, int], lo: int, prefix: Sequence[float]) -> float:
    start, end = unit
    score = (prefix[end - lo] - prefix[start - lo]) / math.sqrt(end - start)
    if start == lo or words[start].norm in _CLAUSE_BREAK or words[start - 1].ends_sentence:
        score += 0.5
    if end == len(words) or words[end].norm in _CLAUSE_BREAK or words[end - 1].ends_sentence:
        score += 0.3
    return score


def _clean(raws: list[str], norms: list[str]) -> str:
    """A window of spoken words as a bullet: fillers trimmed, capitalized, ending in a period."""
    a, b = 0, len(raws)
    while b - a > 6 and norms[a] in _LEAD_TRIM:
        a += 1
    while b - a > 6 and norms[b - 1] in STOP_WORDS:
        b -= 1
    text = " ".join(raws[a:b]).strip(" ,;:-")
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."

"""The local summarizer's five sections: cut where the talk changes subject, with times, bullets and key phrases.

A section boundary goes where the meaning of the sentences before it and after it differ most (1 - cosine
of the centroids of three sentences either side), searched near each fifth of the talk so that no section
is tiny. Bullets are four of the section's own sentences, chosen by MMR: near what the section (and, less,
the whole video) is about, far from what every video says around its subject, and unlike each other; never
the same text twice. Key phrases are the candidate phrases said in the section, by MMR against its
centroid; a section short of them takes other phrases it says, then padding, never another section's.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from tubescribe.contract import N_BULLETS, N_SECTION_TOPICS, N_SECTIONS
from tubescribe.records import SectionSpan, Transcript
from tubescribe.stages.summarize.local.lexicon import BOILERPLATE
from tubescribe.stages.summarize.local.phrases import (
    Phrase,
    candidates,
    count_phrases,
    display,
    norm,
    pick_tags,
    tag_relevance,
)
from tubescribe.stages.summarize.local.rank import centroid, mmr, reference
from tubescribe.stages.summarize.local.units import MIN_WORDS, Unit, bullet_text

# Sentences either side of a candidate boundary whose meanings are compared.
WINDOW = 3
# Weights of a bullet's nearness to its section and to the whole video; and how much MMR weighs novelty.
SECTION_WEIGHT, VIDEO_WEIGHT = 0.7, 0.3
BULLET_DIVERSITY = 0.3
BOILERPLATE_WEIGHT = 0.5
# Padding for transcripts too short to offer enough distinct phrases of their own.
PADDING = ("Overview", "Key Points", "Details", "Examples", "Context")


def split_sections(vectors: np.ndarray) -> list[tuple[int, int]]:
    """Five contiguous ranges of the embedded units, cut at the strongest shift of meaning near each fifth."""
    n = len(vectors)
    shift = np.zeros(n)
    for j in range(1, n):
        before, after = vectors[max(j - WINDOW, 0) : j], vectors[j : j + WINDOW]
        shift[j] = 1.0 - float(centroid(before) @ centroid(after))
    # Each cut is searched within a twelfth of the talk of its fifth: no section is shorter than ~1/30.
    cuts = [0]
    for k in range(1, N_SECTIONS):
        target = k * n / N_SECTIONS
        lo = max(cuts[-1] + 1, int(target - n / 12))
        hi = min(n - (N_SECTIONS - k), int(target + n / 12))
        room = range(lo, max(hi, lo) + 1)
        cuts.append(max(room, key=lambda j: (round(float(shift[j]), 6), -abs(j - target), -j)))
    return list(pairwise([*cuts, n]))


def section_times(transcript: Transcript, units: Sequence[Unit], parts: Sequence[tuple[int, int]]) -> list[SectionSpan]:
    """Start and end seconds of each section; none when the transcript has no timing."""
    if not any(segment.end_s > segment.start_s for segment in transcript.segments):
        return [SectionSpan() for _ in parts]
    starts = [units[lo].start_s for lo, _ in parts]
    starts[0] = min(starts[0], transcript.segments[0].start_s)
    ends = [*starts[1:], max(segment.end_s for segment in transcript.segments)]
    return [SectionSpan(start_s=round(s, 2), end_s=round(e, 2)) for s, e in zip(starts, ends, strict=True)]


def bullets(units: Sequence[Unit], vectors: np.ndarray, video: np.ndarray) -> list[str]:
    """Four different sentences of a section, near what it is about, in the order they were said."""
    if len(units) < N_BULLETS:
        return _pieces(units)
    here = centroid(vectors)
    relevance = sentence_relevance(vectors, SECTION_WEIGHT * here + VIDEO_WEIGHT * video)
    # A sentence of a few words says too little to stand alone while longer ones are left.
    long_enough = sum(len(u.words) >= MIN_WORDS for u in units) >= N_BULLETS
    texts = [bullet_text(u) for u in units]

    def allowed(i: int, chosen: list[int]) -> bool:
        fits = len(units[i].words) >= MIN_WORDS or not long_enough
        return fits and texts[i].lower() not in {texts[c].lower() for c in chosen}

    chosen = mmr(vectors, relevance, N_BULLETS, diversity=BULLET_DIVERSITY, allowed=allowed)
    picked = [texts[i] for i in sorted(chosen)]
    return picked if len(picked) == N_BULLETS else _pieces(units)


def sentence_relevance(vectors: np.ndarray, about: np.ndarray) -> np.ndarray:
    """How well each sentence says what `about` is: near it, far from what every video says around its subject."""
    return vectors @ about - BOILERPLATE_WEIGHT * (vectors @ reference(BOILERPLATE))


def _pieces(units: Sequence[Unit]) -> list[str]:
    """Four bullets from a section too short to offer four sentences: its words in four even pieces."""
    words = [w for u in units for w in u.words]
    n = len(words)
    cuts = [min(k * n // N_BULLETS, n - 1) for k in range(N_BULLETS)]
    pieces = [words[lo : max(hi, lo + 1)] for lo, hi in zip(cuts, [*cuts[1:], n], strict=True)]
    return [bullet_text(Unit(tuple(piece), 0.0, 0.0)) for piece in pieces]


def key_phrases(
    units: Sequence[Unit],
    vectors: np.ndarray,
    phrases: Sequence[Phrase],
    phrase_vectors: np.ndarray,
    said: Sequence[int],
) -> list[str]:
    """Three distinct tags: the candidate phrases said in the section that are nearest to what it is about."""
    norms = [norm(w) for u in units for w in u.words]
    here = set(pairwise(norms)) | {(w,) for w in norms}
    relevance = tag_relevance(phrase_vectors, said, centroid(vectors))
    picks = pick_tags(phrases, phrase_vectors, relevance, N_SECTION_TOPICS, lambda p: p in here)
    # Short of candidates said here (a very short talk), a section takes what else it says, never another's.
    rest = [display(p) for p in candidates(count_phrases(norms))]
    return list(dict.fromkeys([*picks, *rest, *PADDING]))[:N_SECTION_TOPICS]

"""The local summarizer's candidate tags: the one- and two-word phrases a transcript keeps coming back to.

Candidates are phrases said at least twice, with no stop word, number, month or person's first name in
them (a person or a date is never what a video is about, and the model cannot tell them from concepts);
plurals are folded. The embedding model then ranks them (see `rank.py`); counting only decides which of
them are worth embedding.

A tag's relevance is its cosine to what the video (or section) is about, less half its cosine to plain
English (the centroid of a few everyday words: the model finds "complicated" or "later" near any talk),
plus 0.01 x ln(times said). Measured on the fixtures (benchmarks/summary_quality.py), the plain-English
term is what keeps "Concept" and "Linkedin" out of the Mistral lecture's topics.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from tubescribe.stages.summarize.local.lexicon import (
    ACRONYMS,
    COMMON_WORDS,
    DATES,
    DISPLAY,
    EVERYDAY_SAMPLE,
    NAMES,
    STOP_WORDS,
)
from tubescribe.stages.summarize.local.rank import mmr, reference

Phrase = tuple[str, ...]
NORM_RE = re.compile(r"[^a-z0-9+#]")
_NUMBER_RE = re.compile(r"^\d+(st|nd|rd|th|s|k|x)?$")
# How many candidates are embedded: a phrase costs about 20 ms on two cores, and the 60th by count is
# already rarely a tag.
MAX_CANDIDATES = 60
EVERYDAY_WEIGHT = 0.5
COUNT_WEIGHT = 0.01
# MMR's weight on novelty: higher lets in odd words only because they are unlike the tags already taken.
TAG_DIVERSITY = 0.2


def norm(word: str) -> str:
    return NORM_RE.sub("", word.lower())


def _is_term(word: str) -> bool:
    return (
        len(word) > 1
        and word not in STOP_WORDS
        and word not in DATES
        and word not in NAMES
        and not (_NUMBER_RE.match(word))
    )


def count_phrases(norms: Sequence[str]) -> Counter[Phrase]:
    """One- and two-word phrases of terms, plurals folded into the more frequent spelling."""
    # The word after a first name is taken for a surname ("graydon hoare"), so it is no term either.
    surnames = {after for name, after in pairwise(norms) if name in NAMES}
    terms = [_is_term(word) and word not in surnames for word in norms]
    counts: Counter[Phrase] = Counter()
    for i, word in enumerate(norms):
        if terms[i]:
            counts[(word,)] += 1
            if i + 1 < len(norms) and terms[i + 1] and norms[i + 1] != word:
                counts[(word, norms[i + 1])] += 1
    canon = _plurals(counts)
    folded: Counter[Phrase] = Counter()
    for phrase, count in counts.items():
        folded[canon.get(phrase, phrase)] += count
    return folded


def _plurals(counts: Counter[Phrase]) -> dict[Phrase, Phrase]:
    canon: dict[Phrase, Phrase] = {}
    for phrase in sorted(counts):
        last = phrase[-1]
        for stem in (last[:-3] + "y", last[:-1], last[:-2]) if last.endswith("s") else ():
            twin = (*phrase[:-1], stem)
            if twin in counts:
                keep = twin if counts[twin] >= counts[phrase] else phrase
                canon[phrase] = canon[twin] = keep
                break
    return canon


def candidates(counts: Counter[Phrase]) -> list[Phrase]:
    """The phrases worth embedding, most promising first: said twice or more, everyday words weighed down."""
    usable = [p for p in counts if _tag_worthy(p)] or list(counts)
    recurring = [p for p in usable if counts[p] >= 2] or usable
    return sorted(recurring, key=lambda p: (-_promise(p, counts[p]), p))[:MAX_CANDIDATES]


def _tag_worthy(phrase: Phrase) -> bool:
    """Not a tag: only everyday words or -ed/-ing forms, an adverb, or a pair opening with a plain verb."""
    if all(w in COMMON_WORDS or w.endswith(("ed", "ing")) for w in phrase) or phrase[-1].endswith("ly"):
        return False
    if len(phrase) == 1:
        return not phrase[0].endswith(("ed", "ing"))
    # A pair ending in -ed is mostly a subject and its verb ("hoare started", "compiler checked").
    return phrase[0] not in COMMON_WORDS and not phrase[1].endswith("ed")


def _promise(phrase: Phrase, count: int) -> float:
    weight = math.prod(0.3 if w in COMMON_WORDS else 0.6 if w.endswith(("ed", "ing", "ly")) else 1.0 for w in phrase)
    return (1 + math.log(count)) * weight * (1.3 if len(phrase) == 2 else 1.0)


def display(phrase: Phrase) -> str:
    """A phrase as a tag: title case, with known acronyms and names spelt properly."""
    return " ".join(DISPLAY.get(w, w.upper() if w in ACRONYMS else w.capitalize()) for w in phrase)


def tag_relevance(vectors: np.ndarray, said: Sequence[int], about: np.ndarray) -> np.ndarray:
    """How well each embedded phrase names what `about` is: near it, far from plain English, often said."""
    if not len(vectors):
        return np.zeros(0)
    return (
        vectors @ about
        - EVERYDAY_WEIGHT * (vectors @ reference(EVERYDAY_SAMPLE))
        + COUNT_WEIGHT * np.log(np.asarray(said))
    )


def pick_tags(
    phrases: Sequence[Phrase],
    vectors: np.ndarray,
    relevance: np.ndarray,
    wanted: int,
    usable: Callable[[Phrase], bool] = lambda _p: True,
) -> list[str]:
    """Up to `wanted` tags by MMR, none sharing a word with one already picked."""
    stems = [{w.rstrip("s") for w in phrase} for phrase in phrases]

    def allowed(i: int, chosen: list[int]) -> bool:
        return usable(phrases[i]) and not any(stems[i] & stems[c] for c in chosen)

    picks = mmr(vectors, relevance, wanted, diversity=TAG_DIVERSITY, allowed=allowed) if len(phrases) else []
    return [display(phrases[i]) for i in picks]

"""The local summarizer's words and phrases: a transcript's words with their times, and phrases scored as tags.

Words are lower-cased and stripped of punctuation; one- and two-word phrases are counted, plurals folded,
and scored by how often they are said and how much their words say (see `summarizer.py` for the weights).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from tubescribe.records import Segment
from tubescribe.stages.summarize.local.fields import FIELD_TERMS
from tubescribe.stages.summarize.local.lexicon import ACRONYMS, COMMON_WORDS, DISPLAY, GENERIC_TECH, STOP_WORDS

Phrase = tuple[str, ...]
_NUMBER_RE = re.compile(r"^\d+(st|nd|rd|th|s)?$")
NORM_RE = re.compile(r"[^a-z0-9+#]")

# The field lexicon's terms by length: two-word terms are matched before single words.
UNIGRAMS: dict[str, dict[str, float]] = {}
BIGRAMS: dict[str, dict[str, float]] = {}
for _name, _terms in FIELD_TERMS.items():
    for _term, _value in _terms.items():
        (BIGRAMS if " " in _term else UNIGRAMS).setdefault(_term, {})[_name] = _value


class Word(NamedTuple):
    raw: str
    norm: str
    at: float
    segment: int
    ends_sentence: bool


def transcript_words(segments: Sequence[Segment]) -> list[Word]:
    words = []
    for position, segment in enumerate(segments):
        raws = segment.text.split()
        step = (segment.end_s - segment.start_s) / max(len(raws), 1)
        for i, raw in enumerate(raws):
            norm = NORM_RE.sub("", raw.lower())
            if norm:
                ends = raw[-1] in ".?!"
                words.append(Word(raw, norm, segment.start_s + i * step, position, ends))
    return words


def _is_term(word: str) -> bool:
    if word in STOP_WORDS:
        return False
    return len(word) > 1 and (word in UNIGRAMS or not _NUMBER_RE.match(word))


def _weight(word: str) -> float:
    if word in UNIGRAMS:
        return 1.0 + 0.2 * max(UNIGRAMS[word].values())
    if word in COMMON_WORDS:
        return 0.25
    if word in GENERIC_TECH:
        return 0.5
    if word.endswith(("ed", "ing", "ly")):
        return 0.7  # mostly verbs and adverbs: what is done, not what it is about
    return 0.6 if len(word) <= 3 and word not in ACRONYMS else 1.0


def count_phrases(norms: Sequence[str], canon: dict[Phrase, Phrase] | None = None) -> Counter[Phrase]:
    """Count one- and two-word phrases, folding plurals into the form `canon` names."""
    counts: Counter[Phrase] = Counter()
    for i, word in enumerate(norms):
        if _is_term(word):
            counts[(word,)] += 1
            if i + 1 < len(norms) and _is_term(norms[i + 1]):
                counts[(word, norms[i + 1])] += 1
    if canon is None:
        return counts
    merged: Counter[Phrase] = Counter()
    for phrase, count in counts.items():
        merged[canon.get(phrase, phrase)] += count
    return merged


def plurals(counts: Counter[Phrase]) -> dict[Phrase, Phrase]:
    """Map each phrase whose singular/plural twin is also present onto the more frequent of the two."""
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


def _score(phrase: Phrase, count: int, total: int, named: frozenset[str]) -> float:
    """Score a phrase seen `count` times here and `total` times in the whole transcript."""
    known = " ".join(phrase) in BIGRAMS
    if len(phrase) == 2 and total < 2 and not known:
        return 0.0
    weights = [_weight(word) for word in phrase]
    if known:
        weight = 1.8 * sum(weights) / len(weights)
    else:  # geometric mean: one plain word drags a phrase down ("use typescript")
        weight = math.exp(sum(map(math.log, weights)) / len(weights)) * (1.5 if len(weights) == 2 else 1.0)
    score = (1 + math.log(count)) * weight
    if all(word in named for word in phrase):  # the video's title names it
        score *= 1.5
    return score * math.sqrt(count / total)


def rank_phrases(counts: Counter[Phrase], totals: Counter[Phrase], named: frozenset[str] = frozenset()) -> list[Phrase]:
    """Phrases with a positive score, best first; ties in alphabetical order."""
    scored = {p: _score(p, counts[p], totals[p], named) for p in counts}
    return sorted((p for p in scored if scored[p] > 0), key=lambda p: (-scored[p], p))


def pick_tags(ranked: Sequence[Phrase], wanted: int, fallback: Sequence[str]) -> list[str]:
    """`wanted` distinct tags: first phrases sharing no word with one already taken, then any, then `fallback`."""
    chosen: list[str] = []
    used: set[str] = set()
    for phrase in ranked:
        stems = {word.rstrip("s") for word in phrase}
        if not stems & used and _display(phrase) not in chosen and len(chosen) < wanted:
            chosen.append(_display(phrase))
            used |= stems
    rest = [_display(phrase) for phrase in ranked] + list(fallback)
    return list(dict.fromkeys(chosen + rest))[:wanted]


def _display(phrase: Phrase) -> str:
    """A phrase as a tag: title case, with known acronyms and names spelt properly."""
    return " ".join(DISPLAY.get(w, w.upper() if w in ACRONYMS else w.capitalize()) for w in phrase)

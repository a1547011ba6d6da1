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
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any, NamedTuple

from tubescribe.contract import (
    GENERAL_TOPICS,
    N_BULLETS,
    N_GENERAL_TOPICS,
    N_SECTION_TOPICS,
    N_SECTIONS,
    N_TOPICS,
    complexity_label,
    dump_summary,
    parse_summary,
)
from tubescribe.records import SectionSpan, Segment, SummaryRecord, Transcript, Video
from tubescribe.stages.summarize.base import SummarizeError
from tubescribe.stages.summarize.local.fields import FALLBACK_FIELDS, FIELD_DEPTH, FIELD_TERMS, RELATED_FIELDS
from tubescribe.stages.summarize.local.lexicon import ACRONYMS, COMMON_WORDS, DISPLAY, GENERIC_TECH, STOP_WORDS

METHOD_VERSION = "extractive-1"

Phrase = tuple[str, ...]
_NUMBER_RE = re.compile(r"^\d+(st|nd|rd|th|s)?$")
_NORM_RE = re.compile(r"[^a-z0-9+#]")
_LEAD_TRIM = frozenset({"and", "or", "but", "so", "then", "now", "well", "okay", "ok", "um", "uh", "like", "yeah"})
_LEAD_TRIM |= {"also", "just", "because", "of", "to", "music"}
_CLAUSE_BREAK = frozenset({"and", "so", "but", "then", "now", "because", "which", "when", "while", "where", "if"})
# Padding for transcripts too short to offer enough distinct phrases of their own.
_PADDING = ("Overview", "Key Points", "Details", "Examples", "Context")

_UNIGRAMS: dict[str, dict[str, float]] = {}
_BIGRAMS: dict[str, dict[str, float]] = {}
for _name, _terms in FIELD_TERMS.items():
    for _term, _value in _terms.items():
        (_BIGRAMS if " " in _term else _UNIGRAMS).setdefault(_term, {})[_name] = _value


class _Word(NamedTuple):
    raw: str
    norm: str
    at: float
    segment: int
    ends_sentence: bool


def _words(segments: Sequence[Segment]) -> list[_Word]:
    words = []
    for position, segment in enumerate(segments):
        raws = segment.text.split()
        step = (segment.end_s - segment.start_s) / max(len(raws), 1)
        for i, raw in enumerate(raws):
            norm = _NORM_RE.sub("", raw.lower())
            if norm:
                ends = raw[-1] in ".?!"
                words.append(_Word(raw, norm, segment.start_s + i * step, position, ends))
    return words


def _is_term(word: str) -> bool:
    if word in STOP_WORDS:
        return False
    return len(word) > 1 and (word in _UNIGRAMS or not _NUMBER_RE.match(word))


def _weight(word: str) -> float:
    if word in _UNIGRAMS:
        return 1.0 + 0.2 * max(_UNIGRAMS[word].values())
    if word in COMMON_WORDS:
        return 0.25
    if word in GENERIC_TECH:
        return 0.5
    if word.endswith(("ed", "ing", "ly")):
        return 0.7  # mostly verbs and adverbs: what is done, not what it is about
    return 0.6 if len(word) <= 3 and word not in ACRONYMS else 1.0


def _phrases(norms: Sequence[str], canon: dict[Phrase, Phrase] | None = None) -> Counter[Phrase]:
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


def _plurals(counts: Counter[Phrase]) -> dict[Phrase, Phrase]:
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
    known = " ".join(phrase) in _BIGRAMS
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


def _pick(ranked: Sequence[Phrase], wanted: int, fallback: Sequence[str]) -> list[str]:
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


def _split(words: Sequence[_Word]) -> list[tuple[int, int]]:
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


def _spans(transcript: Transcript, words: Sequence[_Word], parts: Sequence[tuple[int, int]]) -> list[SectionSpan]:
    if not any(segment.end_s > segment.start_s for segment in transcript.segments):
        return [SectionSpan() for _ in parts]
    starts = [words[lo].at for lo, _ in parts]
    starts[0] = min(starts[0], transcript.segments[0].start_s)
    ends = [*starts[1:], max(segment.end_s for segment in transcript.segments)]
    return [SectionSpan(start_s=round(s, 2), end_s=round(e, 2)) for s, e in zip(starts, ends, strict=True)]


def _units(words: Sequence[_Word], lo: int, hi: int) -> list[tuple[int, int]]:
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


def _bullets(words: Sequence[_Word], lo: int, hi: int, weights: dict[str, float]) -> list[str]:
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


def _unit_score(words: Sequence[_Word], unit: tuple[int, int], lo: int, prefix: Sequence[float]) -> float:
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


def _field_scores(norms: Sequence[str]) -> tuple[dict[str, float], int]:
    """Each field's lexicon score, and how many words matched a lexicon term of weight 1 or more."""
    terms: Counter[tuple[str, str]] = Counter()
    i, matched = 0, 0
    while i < len(norms):
        pair = " ".join(norms[i : i + 2])
        step = 2 if pair in _BIGRAMS else 1
        term = pair if step == 2 else norms[i]
        hits = _BIGRAMS.get(term) or _UNIGRAMS.get(term, {})
        for field in hits:
            terms[(term, field)] += 1
        matched += step if hits and max(hits.values()) >= 1 else 0
        i += step
    scores = dict.fromkeys(GENERAL_TOPICS, 0.0)
    for (term, field), count in terms.items():
        scores[field] += FIELD_TERMS[field][term] * math.sqrt(count)
    return scores, matched


def _general_topics(norms: Sequence[str]) -> list[tuple[str, float]]:
    """The three best-matching fields, each with its complexity."""
    scores, matched = _field_scores(norms)
    order = {name: k for k, name in enumerate(GENERAL_TOPICS)}
    fields = sorted(GENERAL_TOPICS, key=lambda f: (-scores[f], order[f]))
    top = fields[0] if scores[fields[0]] > 0 else FALLBACK_FIELDS[0]
    for share, name in zip((0.12, 0.08, 0.04), RELATED_FIELDS[top], strict=True):
        scores[name] += share * scores[top]
    ranked = sorted((f for f in GENERAL_TOPICS if scores[f] > 0), key=lambda f: (-scores[f], order[f]))
    ranked = list(dict.fromkeys([*ranked, top, *FALLBACK_FIELDS, *GENERAL_TOPICS]))
    content = [w for w in norms if w not in STOP_WORDS]
    # 14+ letters is mostly caption words run together, not jargon.
    rare = sum(7 <= len(w) < 14 and w not in COMMON_WORDS and w not in GENERIC_TECH for w in content)
    base = 0.15 + 0.9 * math.sqrt(matched / len(norms)) + 0.3 * rare / max(len(content), 1)
    # A few words are thin evidence: pull short transcripts toward the middle of the scale.
    base = 0.45 + (base - 0.45) * len(norms) / (len(norms) + 30)
    best = max(scores[ranked[0]], 1e-9)
    picked = []
    for name in ranked[:N_GENERAL_TOPICS]:
        value = base * (0.8 + 0.2 * scores[name] / best) + FIELD_DEPTH.get(name, 0.0)
        picked.append((name, round(min(max(value, 0.05), 0.95), 2)))
    return picked


class LocalSummarizer:
    """Extractive, offline and deterministic: the default summarizer."""

    backend = "local"
    model = "tubescribe-extractive"
    prompt_version = hashlib.sha256(METHOD_VERSION.encode()).hexdigest()[:8]

    def summarize(self, video: Video, transcript: Transcript) -> SummaryRecord:
        """Summarize one transcript into a contract-valid SummaryRecord."""
        began = time.perf_counter()
        words = _words(transcript.segments)
        if not words:
            raise SummarizeError(
                f"transcript of {video.video_id} has no words to summarize; check the audio and re-run transcription"
            )
        norms = [w.norm for w in words]
        canon = _plurals(_phrases(norms))
        totals = _phrases(norms, canon)
        named = frozenset(_NORM_RE.sub("", raw.lower()) for raw in video.title.split()) - STOP_WORDS
        topics = _pick(_rank(totals, totals, named), N_TOPICS, _PADDING)
        parts = _split(words)
        sections = [_section(number, words, lo, hi, canon, totals, topics) for number, (lo, hi) in enumerate(parts, 1)]
        fields = _general_topics(norms)
        summary = parse_summary(
            {
                "introduction": _introduction(video.title, topics, sections, fields[0]),
                "sections": sections,
                "topics": topics,
                "generalTopics": [{"name": name, "complexity": f"{value:.2f}"} for name, value in fields],
            }
        )
        return SummaryRecord(
            video_id=video.video_id,
            backend=self.backend,
            model=self.model,
            prompt_version=self.prompt_version,
            summary=summary,
            raw_json=dump_summary(summary),
            section_spans=tuple(_spans(transcript, words, parts)),
            created_at=datetime.now(UTC),
            latency_s=round(time.perf_counter() - began, 4),
        )


def _rank(counts: Counter[Phrase], totals: Counter[Phrase], named: frozenset[str] = frozenset()) -> list[Phrase]:
    """Phrases with a positive score, best first; ties in alphabetical order."""
    scored = {p: _score(p, counts[p], totals[p], named) for p in counts}
    return sorted((p for p in scored if scored[p] > 0), key=lambda p: (-scored[p], p))


def _section(
    number: int,
    words: Sequence[_Word],
    lo: int,
    hi: int,
    canon: dict[Phrase, Phrase],
    totals: Counter[Phrase],
    topics: Sequence[str],
) -> dict[str, Any]:
    """One section: a title from its two key phrases, four bullets, three key phrases."""
    ranked = _rank(_phrases([w.norm for w in words[lo:hi]], canon), totals)
    keys = _pick(ranked, N_SECTION_TOPICS, [*topics, *_PADDING])
    weights: dict[str, float] = {}
    for rank, phrase in enumerate(ranked[:10]):
        for word in phrase:
            weights.setdefault(word, 1.0 / (1 + 0.3 * rank))
    title = f"Section {number}: " + " and ".join(keys[:2])
    return {"title": title, "content": _bullets(words, lo, hi, weights), "topics": keys}


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

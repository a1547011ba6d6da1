"""The local summarizer's general topics: the three fields of computer science a transcript belongs to, and how
hard it reads in each (the lexicon's field scores, kinship between fields, and word rarity).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from tubescribe.contract import GENERAL_TOPICS, N_GENERAL_TOPICS
from tubescribe.stages.summarize.local.fields import FALLBACK_FIELDS, FIELD_DEPTH, FIELD_TERMS, RELATED_FIELDS
from tubescribe.stages.summarize.local.lexicon import COMMON_WORDS, GENERIC_TECH, STOP_WORDS
from tubescribe.stages.summarize.local.phrases import BIGRAMS, UNIGRAMS


def _field_scores(norms: Sequence[str]) -> tuple[dict[str, float], int]:
    """Each field's lexicon score, and how many words matched a lexicon term of weight 1 or more."""
    terms: Counter[tuple[str, str]] = Counter()
    i, matched = 0, 0
    while i < len(norms):
        pair = " ".join(norms[i : i + 2])
        step = 2 if pair in BIGRAMS else 1
        term = pair if step == 2 else norms[i]
        hits = BIGRAMS.get(term) or UNIGRAMS.get(term, {})
        for field in hits:
            terms[(term, field)] += 1
        matched += step if hits and max(hits.values()) >= 1 else 0
        i += step
    scores = dict.fromkeys(GENERAL_TOPICS, 0.0)
    for (term, field), count in terms.items():
        scores[field] += FIELD_TERMS[field][term] * math.sqrt(count)
    return scores, matched


def general_topics(norms: Sequence[str]) -> list[tuple[str, float]]:
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

"""The local summarizer's general topics: which three of the twelve fields a transcript belongs to, and how
hard it reads in each, by what its sentences mean (zero-shot, no word lists).

Each field is described by six short phrases of what its videos talk about. A sentence's affinity to a
field is its cosine to the nearest of those phrases, minus its mean over the twelve fields (so a sentence
close to everything votes for nothing); a field's score is its mean affinity over the transcript.

Complexity is on the user's scale, calibrated on their two worked examples: the Mistral lecture (AI 0.87,
system design 0.68, languages 0.65) and the job-board build (web 0.59, system design 0.61, databases 0.53).
A transcript's level is how much nearer its sentences are to a graduate lecture than to a beginner's
tutorial, mapped linearly so those two examples land on their mean (0.73 and 0.58); each field then gets
the examples' mean offset for its rank (+0.075, -0.01, -0.065). A few words are thin evidence, so short
transcripts are pulled toward the middle of the scale.
"""

from __future__ import annotations

import functools

import numpy as np

from tubescribe.contract import GENERAL_TOPICS, N_GENERAL_TOPICS
from tubescribe.stages.embed.local import LocalEmbedder

# Six phrases per field, in GENERAL_TOPICS order.
_FIELD_PHRASES = """
sorting algorithms; binary search trees; graph traversal; hash tables; dynamic programming; big o time complexity
neural networks; training a machine learning model; large language models; transformer attention; deep learning;
    model inference on gpus
cpu instructions; cache and memory hierarchy; processor registers; hardware; operating system kernel;
    assembly language
data analysis; statistics; pandas dataframes; data visualization charts; jupyter notebooks; analytics dashboards
sql queries; database tables; indexes and transactions; key value store; storing data in a database; redis cache
user experience; usability; interface design; accessibility; user research; interaction design
programming language syntax; compiler; type system; functions and variables; memory management; writing code
system design; scalable architecture; deployment; containers and docker; testing; microservices
web development; html and css; javascript frameworks; front end; backend server and api; http requests
rendering; 3d graphics; shaders; opengl; animation; game engine
computability; automata; formal languages; complexity classes; mathematical proofs; lambda calculus
qubits; superposition; entanglement; quantum gates; quantum algorithms; quantum computer
"""
FIELD_PHRASES: dict[str, tuple[str, ...]] = {
    name: tuple(p.strip() for p in line.split(";"))
    for name, line in zip(GENERAL_TOPICS, _FIELD_PHRASES.replace("\n    ", " ").strip().splitlines(), strict=True)
}
LEVELS = (
    "an advanced graduate lecture explaining research papers and the mathematics behind them",
    "a beginner friendly introduction for people new to programming",
)
# level = _LEVEL_AT_ZERO + _LEVEL_SLOPE x (graduate - beginner similarity): the Mistral lecture measures
# -0.0045 and the job-board build -0.0149, which this maps onto 0.73 and 0.58.
_LEVEL_SLOPE = 14.4
_LEVEL_AT_ZERO = 0.795
RANK_OFFSET = (0.075, -0.01, -0.065)


@functools.cache
def _prototypes() -> tuple[np.ndarray, np.ndarray]:
    """Every field's phrases (12 x 6 rows, in GENERAL_TOPICS order) and the two levels, embedded once."""
    embedder = LocalEmbedder()
    phrases = embedder.passages([p for name in GENERAL_TOPICS for p in FIELD_PHRASES[name]])
    return phrases, embedder.passages(list(LEVELS))


def general_topics(units: np.ndarray, n_words: int) -> list[tuple[str, float]]:
    """The three fields nearest in meaning to the embedded sentences `units`, each with its complexity."""
    phrases, levels = _prototypes()
    per_field = (units @ phrases.T).reshape(len(units), len(GENERAL_TOPICS), -1).max(axis=2)
    affinity = (per_field - per_field.mean(axis=1, keepdims=True)).mean(axis=0)
    ranked = sorted(range(len(GENERAL_TOPICS)), key=lambda f: (-round(float(affinity[f]), 6), f))
    level = _LEVEL_AT_ZERO + _LEVEL_SLOPE * float((units @ levels[0] - units @ levels[1]).mean())
    level = 0.45 + (level - 0.45) * n_words / (n_words + 30)
    return [
        (GENERAL_TOPICS[f], round(min(max(level + offset, 0.05), 0.95), 2))
        for f, offset in zip(ranked[:N_GENERAL_TOPICS], RANK_OFFSET, strict=True)
    ]

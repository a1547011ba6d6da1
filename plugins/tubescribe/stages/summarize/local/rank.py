"""Choosing by meaning: centroids of embedded texts and maximal marginal relevance (MMR).

MMR picks, one at a time, the item most similar to what the summary is about and least similar to
what was already picked, so five tags or four bullets are five or four different things. Vectors are
L2-normalized, so a dot product is a cosine. Ties go to the earlier item: the same input always gives
the same picks.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from tubescribe.stages.embed.local import LocalEmbedder


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The normalized mean of some rows: what they are about together."""
    mean = vectors.mean(axis=0) if len(vectors) else np.zeros(vectors.shape[1], dtype=np.float32)
    size = float(np.linalg.norm(mean))
    return mean / size if size > 0 else mean


@functools.cache
def reference(texts: tuple[str, ...]) -> np.ndarray:
    """The centroid of some fixed texts, embedded once per process."""
    return centroid(LocalEmbedder().passages(list(texts)))


def mmr(
    vectors: np.ndarray,
    relevance: np.ndarray,
    wanted: int,
    *,
    diversity: float,
    allowed: Callable[[int, list[int]], bool] = lambda _i, _chosen: True,
) -> list[int]:
    """Up to `wanted` row indexes: relevance minus `diversity` x the highest similarity to one already chosen."""
    chosen: list[int] = []
    nearest = np.full(len(vectors), -1.0, dtype=np.float64)
    while len(chosen) < wanted:
        score = (1 - diversity) * relevance.astype(np.float64) - (diversity * nearest if chosen else 0.0)
        order = [int(i) for i in np.argsort(-score, kind="stable") if int(i) not in chosen]
        pick = next((i for i in order if allowed(i, chosen)), None)
        if pick is None:
            break
        chosen.append(pick)
        nearest = np.maximum(nearest, vectors @ vectors[pick])
    return chosen

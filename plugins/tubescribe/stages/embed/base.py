"""What every embedding backend shares: its interface, its error, and the names vectors are kept under."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Protocol

from tubescribe.errors import Kind, TubescribeError

if TYPE_CHECKING:
    import numpy as np


class EmbedError(TubescribeError):
    """Texts could not be embedded; the message says why. Worth another try unless the kind says otherwise."""

    kind = Kind.TRANSIENT


class Embedder(Protocol):
    backend: str
    model: str

    def passages(self, texts: list[str]) -> np.ndarray:
        """One normalized float32 row per text, for what is stored and searched."""
        ...

    def query(self, text: str) -> np.ndarray:
        """One normalized float32 vector for a search question."""
        ...


def model_name(embedder: Embedder) -> str:
    """What the catalog's `embeddings.model` says: backend and model, e.g. local/multilingual-e5-small-q4."""
    return f"{embedder.backend}/{embedder.model}"


def embedding_key(embedder: Embedder) -> str:
    """Short stable key of the embedding model, for the artifact's name."""
    return hashlib.sha256(model_name(embedder).encode()).hexdigest()[:12]

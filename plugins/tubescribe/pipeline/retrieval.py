"""Finding moments in the catalog by words, by meaning, or both: the one entry point `search` and `ask` share.

The catalog layer ranks; embedding the question is a stage's job, so the two meet here: the question
is embedded with the configured model (the one whose vectors the catalog holds), then searched.
"""

from __future__ import annotations

from datetime import date

from tubescribe.catalog.search import Hit, Question, SearchError, search
from tubescribe.settings import Settings


def find(
    settings: Settings,
    text: str,
    *,
    mode: str = "hybrid",
    channel: str | None = None,
    since: date | None = None,
    limit: int = 10,
) -> list[Hit]:
    """The best `limit` hits for `text` in `mode` (keyword, semantic or hybrid), best first.

    With embeddings off, hybrid is keyword search and semantic search says how to turn them on.
    """
    from tubescribe.stages.embed import get_embedder, model_name

    embedder = get_embedder(settings) if mode != "keyword" and text.strip() else None
    if embedder is None:
        if mode == "semantic" and text.strip():
            raise SearchError("semantic search needs embeddings: set TUBESCRIBE_EMBEDDINGS=local (or openai)")
        return search(settings, Question(text), channel=channel, since=since, limit=limit)
    question = Question(text, mode, embedder.query(text).tolist(), model_name(embedder))
    return search(settings, question, channel=channel, since=since, limit=limit)

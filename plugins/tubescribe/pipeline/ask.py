"""`tubescribe ask`: answer a question from the catalog, every claim citing the moment it was said.

Retrieval is hybrid search (retrieval.find). With an LLM configured (the openai summarizer's server,
model and key), the model answers from the numbered passages only, citing them as [n]; each [n] is
turned into `[title @ m:ss](link)` of that passage. What the model writes is untrusted: a citation of a
passage it was not given, or any link of its own, is removed, and a sentence left without a citation
is dropped, so every claim shown rests on a retrieved moment. Without an LLM the answer is the best
passages themselves, with their links.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from tubescribe.catalog.search import Hit, clock
from tubescribe.pipeline.retrieval import find
from tubescribe.settings import Settings

if TYPE_CHECKING:
    from tubescribe.stages.summarize.openai.client import ChatClient

log = logging.getLogger(__name__)
PASSAGES = 8
NOT_IN_CATALOG = "The catalog does not say."
_CITE = re.compile(r"\[(\d{1,3})\]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # a markdown link the model wrote itself
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

INSTRUCTION = (
    "Answer the question using only the numbered passages from video transcripts below. Write a few "
    "sentences. After every claim put the number of the passage it comes from in brackets, like [2]. "
    "Do not use anything you know beyond the passages. If the passages do not answer the question, "
    f"reply exactly: {NOT_IN_CATALOG}"
)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str | None  # the cited answer; None without an LLM (then the passages are the answer)
    passages: tuple[Hit, ...]  # what was retrieved, best first
    cited: tuple[Hit, ...]  # the passages the answer cites, in the order first cited
    model: str | None
    dropped: int = 0  # sentences removed for citing nothing the model was given


def cite(hit: Hit) -> str:
    """`[title @ m:ss](link)`: how an answer names the moment a claim comes from."""
    title = hit.title.replace("[", "(").replace("]", ")")
    return f"[{title} @ {clock(hit.start_s)}]({hit.link})"


def ask(
    settings: Settings,
    question: str,
    *,
    channel: str | None = None,
    since: date | None = None,
    limit: int = PASSAGES,
    offline: bool = False,
) -> Answer:
    """Retrieve passages for `question` and, with an LLM configured (unless `offline`), answer from them."""
    passages = tuple(find(settings, question, mode="hybrid", channel=channel, since=since, limit=limit))
    client = None if offline or not passages else _client(settings)
    if client is None:
        return Answer(question, None, passages, (), None)
    from tubescribe.stages.summarize.openai.client import Tally

    numbered = "\n\n".join(
        f"[{i}] {hit.title} @ {clock(hit.start_s)}: {hit.snippet}" for i, hit in enumerate(passages, start=1)
    )
    messages = [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": f"Passages:\n\n{numbered}\n\nQuestion: {question}"},
    ]
    raw = client.complete(messages, "ask", Tally())
    text, cited, dropped = resolve(raw, passages)
    return Answer(question, text, passages, cited, f"openai/{client.model}", dropped)


def resolve(raw: str, passages: tuple[Hit, ...]) -> tuple[str, tuple[Hit, ...], int]:
    """The model's answer with [n] made into moment links, and only the sentences that cite a given passage."""
    if raw.strip() == NOT_IN_CATALOG or not raw.strip():
        return NOT_IN_CATALOG, (), 0
    cited: list[Hit] = []
    kept: list[str] = []
    dropped = 0
    for sentence in _SENTENCE.split(_LINK.sub(r"\1", raw.strip())):
        numbers = [int(n) for n in _CITE.findall(sentence)]
        valid = [n for n in numbers if 1 <= n <= len(passages)]
        if not valid:
            dropped += 1
            continue

        def link(match: re.Match[str]) -> str:
            n = int(match.group(1))
            if not 1 <= n <= len(passages):
                return ""
            hit = passages[n - 1]
            if hit not in cited:
                cited.append(hit)
            return cite(hit)

        kept.append(re.sub(r"\s+([.!?,;])", r"\1", _CITE.sub(link, sentence)).strip())
    if dropped:
        log.warning("ask: dropped %d sentence(s) that cited no passage the model was given", dropped)
    return (" ".join(kept) if kept else NOT_IN_CATALOG), tuple(cited), dropped


def _client(settings: Settings) -> ChatClient | None:
    """The openai backend's chat client, or None when no LLM is configured (no key and no local server)."""
    import os

    from tubescribe.stages.summarize.openai.client import ChatClient

    # OPENAI_API_KEY is only tested for presence here; the client reads it when it makes the request.
    configured = settings.summarizer == "openai" or settings.openai_base_url or os.environ.get("OPENAI_API_KEY")
    if not configured:
        return None
    return ChatClient(
        settings,
        max_attempts=settings.openai_max_attempts,
        retry_base_s=settings.retry_base_s,
        max_delay_s=60.0,
        chunk_tokens=settings.openai_chunk_tokens,
        plain=True,
    )

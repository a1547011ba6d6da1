"""Structured output as each OpenAI-compatible server takes it, and what one server + model is known to take.

Servers differ: OpenAI, vLLM, Ollama, LM Studio and llama.cpp's `llama-server` take `json_schema`;
llama-cpp-python's server answers it with HTTP 500 (a validation error of the request) but compiles
`json_object` with a `schema` to a grammar; some take only bare `json_object`; a few nothing. A request
is asked in the strongest form first and, when the server says that form is not supported, in the next
one, never in a rejected form again. What was learned (the form, the context window) is stored under
`platforms/` in the store, beside the platforms' blocks, so every worker of a 1,000-video backfill, on any
machine and in later runs, starts from it instead of negotiating again.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from tubescribe.blobs import Blobs
from tubescribe.contract import inlined_schema
from tubescribe.settings import Settings

FORMS = ("json_schema", "json_object+schema", "json_object", "plain")
# A rejection of the request's form, whatever its status: the body names the parameter, or is a
# validation error of the request (llama-cpp-python: HTTP 500 "Input should be 'text' or 'json_object'").
REJECTING_STATUS = frozenset({400, 415, 422, 500, 501})
_REJECTION_RE = re.compile(
    r"response_format|json_schema|json_object|structured output|guided_json|grammar|"
    r"validation error|input should be|extra (inputs|fields) (are )?not permitted|unrecognized request argument",
    re.IGNORECASE,
)
# Context windows as servers state them in an error: llama-cpp-python "exceed context window of 2048",
# OpenAI and vLLM "maximum context length is 4096 tokens", llama.cpp "the context size (4096)".
_WINDOW_RES = (
    re.compile(r"context window of (\d+)", re.IGNORECASE),
    re.compile(r"maximum context length is (\d+)", re.IGNORECASE),
    re.compile(r"context (?:size|length|window)[^0-9]{0,20}\(?(\d{3,7})\)?", re.IGNORECASE),
)
# Where `/v1/models` entries state the window: vLLM, LM Studio and others, llama.cpp's `meta`.
_WINDOW_FIELDS = ("max_model_len", "context_length", "context_window", "max_context_length", "n_ctx", "n_ctx_train")


def response_format(form: str) -> dict[str, Any] | None:
    """The `response_format` of a request in `form` (None: plain, the instruction alone asks for JSON)."""
    if form == "json_schema":
        # strict=False: OpenAI's strict mode rejects minItems/maxItems, pattern and minLength, all of which
        # the contract needs; non-strict still steers the model with the full schema, and every answer is
        # validated against the contract whatever the server promised.
        return {"type": "json_schema", "json_schema": {"name": "video_summary", "schema": inlined_schema(),
                                                        "strict": False}}  # fmt: skip
    if form == "json_object+schema":
        return {"type": "json_object", "schema": inlined_schema()}
    if form == "json_object":
        return {"type": "json_object"}
    return None


def rejects_form(status: int, message: str, param: str | None = None) -> bool:
    """Whether an error answer says the request's form of structured output is not supported."""
    return status in REJECTING_STATUS and (param == "response_format" or bool(_REJECTION_RE.search(message)))


def stated_window(message: str) -> int | None:
    """The context window (tokens) an error message states, if it does."""
    for pattern in _WINDOW_RES:
        if found := pattern.search(message):
            return int(found.group(1))
    return None


def listed_window(entry: Any) -> int | None:
    """The context window one `/v1/models` entry states, if it does (top level or under `meta`)."""
    data = entry if isinstance(entry, dict) else getattr(entry, "model_extra", None)
    if not isinstance(data, dict):
        return None
    meta = data.get("meta")
    for place in (data, meta if isinstance(meta, dict) else {}):
        for name in _WINDOW_FIELDS:
            value = place.get(name)
            if isinstance(value, int) and value > 0:
                return value
    return None


@dataclass
class Facts:
    """What one server + model is known to take: the strongest form it accepted, its context window."""

    form: str | None = None
    context_tokens: int | None = None


class Memory:
    """Facts about one base URL + model, kept in the store (`platforms/llm-<hash>.json`) across workers and runs."""

    def __init__(self, settings: Settings, base_url: str, model: str) -> None:
        self.blobs = Blobs(settings)
        digest = hashlib.sha256(f"{base_url}\0{model}".encode()).hexdigest()[:16]
        self.key = f"platforms/llm-{digest}.json"
        self.base_url, self.model = base_url, model

    def load(self) -> Facts:
        raw = self.blobs.read(self.key)
        try:
            data = json.loads(raw) if raw is not None else {}
        except ValueError:
            data = {}
        form = data.get("form") if data.get("form") in FORMS else None
        window = data.get("context_tokens")
        return Facts(form, window if isinstance(window, int) and window > 0 else None)

    def save(self, facts: Facts) -> None:
        # The URL is stored without credentials (the caller passes public_url's form) and never the key.
        record = {"base_url": self.base_url, "model": self.model, **asdict(facts)}
        self.blobs.write(self.key, json.dumps(record).encode("utf-8"))

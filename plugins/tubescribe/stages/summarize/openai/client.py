"""One chat completion from an OpenAI-compatible server: retries, structured-output negotiation, its errors as ours.

The SDK's own retries are off (`max_retries=0`) so there is one cap on attempts, ours. A server that
rejects a form of structured output is asked again in the next of `forms.FORMS`, for good, and what it
takes (and its context window) is remembered for the server + model (`forms.Memory`). What the server
said is turned into our errors here, each with its kind; which server and key is `endpoint.py`'s, and
what the answer means is `summarizer.py`'s.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from tubescribe.errors import Kind
from tubescribe.settings import Settings
from tubescribe.stages.summarize.base import SummarizeError
from tubescribe.stages.summarize.openai import forms, prompt
from tubescribe.stages.summarize.openai.endpoint import (
    CONNECTION_ID,
    DEFAULT_BASE_URL,
    KEYLESS_PLACEHOLDER,
    key_and_base_url,
    public_url,
)

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

FORMS = forms.FORMS
RETRYABLE_STATUS = frozenset({408, 409, 429})
NOT_A_COMPLETION = (
    "answered with something that is not a chat completion: is the base URL an OpenAI-compatible "
    "endpoint (usually ending in /v1)?"
)
_CONTEXT_RE = re.compile(
    r"context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long|available context size",
    re.IGNORECASE,
)


class SummaryRefusedError(SummarizeError):
    """The model (or the server's content filter) refused to summarize."""

    kind = Kind.PERMANENT


class ContextLengthError(SummarizeError):
    """The request does not fit the model's context window (`window`: its size, when the server said)."""

    kind = Kind.PERMANENT

    def __init__(self, message: str, window: int | None = None) -> None:
        super().__init__(message)
        self.window = window


class UnsupportedRequestError(SummarizeError):
    """The server rejects the request as invalid in every form tubescribe can ask it: not worth a retry."""

    kind = Kind.PERMANENT


class TruncatedAnswerError(SummarizeError):
    """The answer was cut off at the server's output token limit."""

    kind = Kind.PERMANENT


@dataclass
class Tally:
    """Tokens the server counted over every request of one summary, when it says."""

    tokens_in: int | None = None
    tokens_out: int | None = None

    def add(self, usage: Any) -> None:
        if usage is None:
            return
        self.tokens_in = (self.tokens_in or 0) + (getattr(usage, "prompt_tokens", 0) or 0)
        self.tokens_out = (self.tokens_out or 0) + (getattr(usage, "completion_tokens", 0) or 0)


class ChatClient:
    """Chat completions from one server and model, retried up to `max_attempts` times."""

    def __init__(
        self,
        settings: Settings,
        *,
        max_attempts: int,
        retry_base_s: float,
        max_delay_s: float,
        chunk_tokens: int,
        sleep: Callable[[float], None] = time.sleep,
        plain: bool = False,
    ) -> None:
        self.settings = settings
        self.model = settings.openai_model
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.max_delay_s = max_delay_s
        self.chunk_tokens = chunk_tokens  # only named in the advice of a ContextLengthError
        self._sleep = sleep
        # Index into FORMS; only ever moves forward. Plain text (`ask`'s answers) asks for no JSON at all.
        self.plain = plain
        self._format = len(FORMS) - 1 if plain else 0
        self._client: openai.OpenAI | None = None
        self._memory: forms.Memory | None = None
        self._facts = forms.Facts()
        self._asked_models = False

    def complete(self, messages: list[prompt.Message], label: str, tally: Tally) -> str:
        """The text of one chat completion, retrying transient failures up to `max_attempts` times."""
        import openai

        client = self._connect()
        attempt = 0
        while True:
            attempt += 1
            log.info(
                "%s: request attempt %d/%d, model %s, ~%d prompt tokens, format %s",
                label,
                attempt,
                self.max_attempts,
                self.model,
                prompt.estimate_messages(messages),
                FORMS[self._format],
            )
            try:
                completion = client.chat.completions.create(**self._request(messages))
            except openai.APIStatusError as exc:
                message = _message(exc)
                if exc.status_code in (400, 413, 422, 500) and _is_context_error(exc):
                    window = _window(exc)
                    if window is not None:
                        self._learn(context_tokens=window)
                    stated = f" of {window} tokens" if window else ""
                    raise ContextLengthError(
                        f"{label}: the request (~{prompt.estimate_messages(messages)} tokens) does not fit the "
                        f"context window{stated} of {self.model}: set TUBESCRIBE_OPENAI_CONTEXT_TOKENS to the "
                        f"server's window, or lower chunk_tokens (TUBESCRIBE_OPENAI_CHUNK_TOKENS, now "
                        f"{self.chunk_tokens})",
                        window=window,
                    ) from None
                # A form the server does not take is no transient failure, whatever the status says (400,
                # 422 from proxies such as LiteLLM, 500 from llama-cpp-python): ask in the next form, for good.
                if forms.rejects_form(exc.status_code, message, exc.param):
                    if self._format < len(FORMS) - 1:
                        rejected, self._format = FORMS[self._format], self._format + 1
                        self._learn(form=FORMS[self._format])
                        log.warning(
                            "%s: %s does not take structured output as %s (HTTP %d), asking as %s from now on",
                            label, self._where(), rejected, exc.status_code, FORMS[self._format],
                        )  # fmt: skip
                        attempt -= 1  # not a failed attempt: the same request, asked differently
                        continue
                    raise UnsupportedRequestError(
                        f"{label}: {self._where()} rejects the request (HTTP {exc.status_code}) even without "
                        f"structured output: {self._clean(message)}"
                    ) from None
                if not _is_retryable(exc):
                    raise self._status_error(exc, label) from None
                failure, asked_wait = f"HTTP {exc.status_code}", _retry_after(exc.response)
            except openai.APIConnectionError as exc:  # includes APITimeoutError
                failure = "timed out" if isinstance(exc, openai.APITimeoutError) else "connection failed"
                asked_wait = None
            except openai.APIError as exc:
                raise SummarizeError(f"{label}: unusable reply from {self._where()}: {self._clean(str(exc))}") from None
            except json.JSONDecodeError:
                raise SummarizeError(f"{label}: {self._where()} {NOT_A_COMPLETION}") from None
            else:
                usage = getattr(completion, "usage", None)
                tally.add(usage)
                _warn_if_truncated_prompt(usage, prompt.estimate_messages(messages), label)
                return _answer_text(completion, label, self.settings.openai_max_output_tokens)
            if attempt >= self.max_attempts:
                raise SummarizeError(f"{label}: gave up after {attempt} attempts, the last {failure} ({self._where()})")
            delay = self._delay(attempt, asked_wait)
            log.warning("%s: attempt %d %s, retrying in %.2f s", label, attempt, failure, delay)
            self._sleep(delay)

    def _request(self, messages: list[prompt.Message]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.settings.openai_max_output_tokens:
            request["max_tokens"] = self.settings.openai_max_output_tokens
        if (response_format := forms.response_format(FORMS[self._format])) is not None:
            request["response_format"] = response_format
        return request

    def context_window(self) -> int | None:
        """The model's context window in tokens: TUBESCRIBE_OPENAI_CONTEXT_TOKENS, else what this server +
        model is known to have, else what its `/v1/models` entry says (asked once); None when unknown."""
        import openai

        if self.settings.openai_context_tokens:
            return self.settings.openai_context_tokens
        client = self._connect()
        if self._facts.context_tokens is None and not self._asked_models:
            self._asked_models = True
            try:
                entries = [m for m in client.models.list().data if getattr(m, "id", None) == self.model]
            except (openai.APIError, json.JSONDecodeError):
                entries = []  # not every server lists its models; the window is then learned from an error
            window = forms.listed_window(entries[0]) if entries else None
            if window is not None:
                self._learn(context_tokens=window)
        return self._facts.context_tokens

    def _learn(self, *, form: str | None = None, context_tokens: int | None = None) -> None:
        """Remember a fact about this server + model, for this client and (through the store) every other."""
        if form is not None:
            self._facts.form = form
        if context_tokens is not None:
            self._facts.context_tokens = context_tokens
        if self._memory is not None:
            self._memory.save(self._facts)

    def _delay(self, attempt: int, asked_wait: float | None) -> float:
        """Seconds before the next attempt: the server's Retry-After when given, else exponential backoff."""
        wait = self.retry_base_s * 2 ** (attempt - 1) if asked_wait is None else asked_wait
        return min(max(wait, 0.0), self.max_delay_s)

    def _status_error(self, exc: openai.APIStatusError, label: str) -> SummarizeError:
        where = self._where()
        if exc.status_code == 401:
            return SummarizeError(
                f"{label}: {where} rejected the API key (HTTP 401): check OPENAI_API_KEY "
                f"or the password of the Airflow connection {CONNECTION_ID!r}",
                kind=Kind.PERMANENT,
            )
        if exc.status_code == 429:  # not retryable: out of quota
            return SummarizeError(
                f"{label}: {where} says the account is out of quota (HTTP 429): check its billing", kind=Kind.BLOCKED
            )
        if exc.status_code == 404:
            return SummarizeError(
                f"{label}: {where} answered 404: check the model name {self.model!r} and the base URL"
            )
        return SummarizeError(
            f"{label}: {where} refused the request (HTTP {exc.status_code}): {self._clean(_message(exc))}"
        )

    def _connect(self) -> openai.OpenAI:
        """The SDK client, made on first use so the key is read at call time, not at construction."""
        if self._client is None:
            import openai

            key, base_url = key_and_base_url(self.settings)
            self._client = openai.OpenAI(
                api_key=key, base_url=base_url, max_retries=0, timeout=self.settings.openai_timeout_s
            )
            self._memory = forms.Memory(self.settings, self._where(), self.model)
            self._facts = self._memory.load()
            if not self.plain and self._facts.form is not None:
                self._format = FORMS.index(self._facts.form)
        return self._client

    def _where(self) -> str:
        return public_url(str(self._client.base_url) if self._client is not None else DEFAULT_BASE_URL)

    def _clean(self, text: str) -> str:
        """Server-provided text with the key scrubbed out, in case the server echoes it."""
        key = self._client.api_key if self._client is not None else ""
        if key and key != KEYLESS_PLACEHOLDER:
            text = text.replace(key, "<redacted>")
        return text[:500]


def _warn_if_truncated_prompt(usage: Any, estimate: int, label: str) -> None:
    """Say so when the server read far fewer tokens than were sent: it likely cut the prompt to fit its context."""
    counted = getattr(usage, "prompt_tokens", None)
    if isinstance(counted, int) and estimate > 1000 and counted < estimate / 2:
        log.warning(
            "%s: the server counted %d prompt tokens for a prompt of ~%d: it may have cut the transcript to fit "
            "its context window (Ollama: raise num_ctx) or lower chunk_tokens",
            label,
            counted,
            estimate,
        )


def _answer_text(completion: Any, label: str, limit: int = 0) -> str:
    choices = getattr(completion, "choices", None)
    choice = choices[0] if isinstance(choices, list) and choices else None
    message = getattr(choice, "message", None)
    if choice is None or message is None:
        raise SummarizeError(f"{label}: the server {NOT_A_COMPLETION}")
    refusal = getattr(message, "refusal", None)
    if refusal or choice.finish_reason == "content_filter":
        reason = f": {str(refusal)[:300]}" if refusal else " (content filter)"
        raise SummaryRefusedError(f"{label}: the model refused to summarize{reason}")
    if choice.finish_reason == "length":
        where = f"TUBESCRIBE_OPENAI_MAX_OUTPUT_TOKENS ({limit})" if limit else "the server's output token limit"
        raise TruncatedAnswerError(
            f"{label}: the answer was cut off at {where} (finish_reason=length); "
            "raise that limit or use a model that writes shorter answers"
        )
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else ""


def _message(exc: openai.APIStatusError) -> str:
    """What the server said: `error.message`, else an error given as a string (LM Studio), else FastAPI's
    `detail` (a 422's validation errors), else the SDK's own summary."""
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict):
        if body.get("message"):
            return str(body["message"])
        if isinstance(body.get("error"), str) and body["error"]:
            return str(body["error"])
        if detail := body.get("detail"):
            return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    if isinstance(body, str) and body.strip():
        return body
    return exc.message


def _window(exc: openai.APIStatusError) -> int | None:
    """The context window a context error states: in its text, or (llama.cpp's `llama-server`) as `n_ctx`."""
    body = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else None
    stated = body.get("n_ctx") if isinstance(body, dict) else None
    return forms.stated_window(_message(exc)) or (stated if isinstance(stated, int) and stated > 0 else None)


def _is_context_error(exc: openai.APIStatusError) -> bool:
    kind = exc.body.get("error", exc.body).get("type") if isinstance(exc.body, dict) else None
    return (
        exc.code == "context_length_exceeded"
        or kind == "exceed_context_size_error"
        or bool(_CONTEXT_RE.search(_message(exc)))
    )


def _is_retryable(exc: openai.APIStatusError) -> bool:
    if exc.code == "insufficient_quota":
        return False
    return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500


def _retry_after(response: Any) -> float | None:
    """The wait a response asks for (Retry-After as seconds or an HTTP date, or retry-after-ms), if any."""
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    if milliseconds := headers.get("retry-after-ms"):
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
    except (TypeError, ValueError):
        return None

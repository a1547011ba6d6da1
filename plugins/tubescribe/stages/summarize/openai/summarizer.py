"""Summaries from any OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, LiteLLM, ...).

The SDK's own retries are off (`max_retries=0`) so there is one cap on attempts, ours. Every answer
is validated against the contract here, whatever the server promised; a bad answer gets one repair
request, then raises `SummaryContractError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tubescribe import credentials
from tubescribe.contract import ContractError, Summary, parse_summary
from tubescribe.errors import Kind
from tubescribe.records import SummaryRecord, Transcript, Video
from tubescribe.settings import Settings
from tubescribe.stages.summarize.base import SummarizeError
from tubescribe.stages.summarize.openai import prompt
from tubescribe.stages.summarize.openai.spans import section_spans, summary_text

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

CONNECTION_ID = "openai_default"
DEFAULT_HOST = "api.openai.com"
KEYLESS_PLACEHOLDER = "not-needed"  # Ollama, vLLM & co. accept any key, but the SDK wants one
# Tried in order when a server rejects structured output; the first it accepts is kept.
FORMATS = ("json_schema", "json_object", "plain")
RETRYABLE_STATUS = frozenset({408, 409, 429})
NOT_A_COMPLETION = (
    "answered with something that is not a chat completion: is the base URL an OpenAI-compatible "
    "endpoint (usually ending in /v1)?"
)
# A bad answer is quoted back in the repair request only this far: a runaway answer (a model looping
# until max_tokens) would otherwise double the request and could push it past the context window.
REPAIR_ANSWER_CHARS = 4000
REPAIR_PROBLEM_CHARS = 1500
_FENCE_RE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)
_CONTEXT_RE = re.compile(
    r"context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long", re.IGNORECASE
)
_FORMAT_RE = re.compile(r"response_format|json_schema|json_object|structured output", re.IGNORECASE)


class SummaryContractError(SummarizeError):
    """The model's answer broke the contract even after one repair request."""

    kind = Kind.TRANSIENT


class SummaryRefusedError(SummarizeError):
    """The model (or the server's content filter) refused to summarize."""

    kind = Kind.PERMANENT


class ContextLengthError(SummarizeError):
    """The request does not fit the model's context window."""

    kind = Kind.PERMANENT


class TruncatedAnswerError(SummarizeError):
    """The answer was cut off at the server's output token limit."""

    kind = Kind.PERMANENT


class _BadAnswer(Exception):
    """An answer that is not JSON or breaks the contract; the message is quoted back to the model."""


@dataclass
class _Tally:
    tokens_in: int | None = None
    tokens_out: int | None = None

    def add(self, usage: Any) -> None:
        if usage is None:
            return
        self.tokens_in = (self.tokens_in or 0) + (getattr(usage, "prompt_tokens", 0) or 0)
        self.tokens_out = (self.tokens_out or 0) + (getattr(usage, "completion_tokens", 0) or 0)


class OpenAISummarizer:
    """Summarizer backed by an OpenAI-compatible `/chat/completions` endpoint."""

    backend = "openai"

    def __init__(
        self,
        settings: Settings,
        *,
        max_attempts: int | None = None,
        retry_base_s: float = 1.0,
        max_delay_s: float = 60.0,
        chunk_tokens: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        max_attempts = settings.openai_max_attempts if max_attempts is None else max_attempts
        chunk_tokens = settings.openai_chunk_tokens if chunk_tokens is None else chunk_tokens
        if max_attempts < 1 or chunk_tokens < 100:
            raise ValueError("max_attempts must be at least 1 and chunk_tokens at least 100")
        self.settings = settings
        self.model = settings.openai_model
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.max_delay_s = max_delay_s
        self.chunk_tokens = chunk_tokens
        self._sleep = sleep
        self._format = 0  # index into FORMATS; only ever moves forward
        self._client: openai.OpenAI | None = None
        shape = f"{prompt.template_fingerprint()}\0few_shot={settings.openai_few_shot}\0chunk_tokens={chunk_tokens}"
        self.prompt_version = hashlib.sha256(shape.encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"OpenAISummarizer(model={self.model!r}, prompt_version={self.prompt_version!r})"

    def summarize(self, video: Video, transcript: Transcript) -> SummaryRecord:
        """Summarize one transcript, in parts and then combined when it is over the token budget."""
        started = time.monotonic()
        tally = _Tally()
        parts = prompt.split_transcript(transcript.segments, self.chunk_tokens)
        if not parts:
            raise SummarizeError(
                f"video {video.video_id}: the transcript holds no speech, so there is nothing to summarize"
            )
        label = f"video {video.video_id}"
        if len(parts) == 1:
            turn = prompt.whole_turn(video.title, parts[0].text)
            summary, raw = self._ask([*self._opening(), _user(turn)], label, tally)
            units = _buckets(parts[0])
        else:
            log.info(
                "%s: transcript is over %d tokens, summarizing it in %d parts", label, self.chunk_tokens, len(parts)
            )
            done: list[tuple[prompt.Part, Summary]] = []
            for part in parts:
                turn = prompt.part_turn(video.title, part, len(parts))
                part_label = f"{label} part {part.index}/{len(parts)}"
                done.append((part, self._ask([*self._opening(), _user(turn)], part_label, tally)[0]))
            turn = prompt.combine_turn(video.title, done)
            summary, raw = self._ask([*self._opening(), _user(turn)], f"{label} combined", tally)
            units = [(part.start_s, part.end_s, summary_text(part_summary)) for part, part_summary in done]
        return SummaryRecord(
            video_id=video.video_id,
            backend=self.backend,
            model=self.model,
            prompt_version=self.prompt_version,
            summary=summary,
            raw_json=raw,
            section_spans=section_spans(summary, units),
            created_at=datetime.now(UTC),
            tokens_in=tally.tokens_in,
            tokens_out=tally.tokens_out,
            latency_s=round(time.monotonic() - started, 3),
        )

    def _opening(self) -> list[prompt.Message]:
        return prompt.opening(self.settings.openai_few_shot)

    def _ask(self, messages: list[prompt.Message], label: str, tally: _Tally) -> tuple[Summary, str]:
        """One validated summary for `messages`, with a single repair request if the answer is bad."""
        answer = self._complete(messages, label, tally)
        try:
            return _validate(answer)
        except _BadAnswer as problem:
            log.warning("%s: the answer is unusable, asking once for a repair", label)
            repair = [
                *messages,
                {"role": "assistant", "content": _excerpt(answer, REPAIR_ANSWER_CHARS)},
                _user(prompt.repair_turn(_excerpt(str(problem), REPAIR_PROBLEM_CHARS))),
            ]
        answer = self._complete(repair, f"{label} repair", tally)
        try:
            return _validate(answer)
        except _BadAnswer as problem:
            raise SummaryContractError(
                f"{label}: the model's answer broke the contract after a repair request: {problem}"
            ) from None

    def _complete(self, messages: list[prompt.Message], label: str, tally: _Tally) -> str:
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
                FORMATS[self._format],
            )
            try:
                completion = client.chat.completions.create(**self._request(messages))
            except openai.APIStatusError as exc:
                if exc.status_code in (400, 422) and _is_context_error(exc):
                    raise ContextLengthError(
                        f"{label}: the request (~{prompt.estimate_messages(messages)} tokens) does not fit the "
                        f"context window of {self.model}: lower chunk_tokens (now {self.chunk_tokens}) or set "
                        "TUBESCRIBE_OPENAI_FEW_SHOT=false"
                    ) from None
                # 422: some proxies (LiteLLM) use it, rather than 400, for parameters they do not support.
                if exc.status_code in (400, 422) and _is_format_error(exc) and self._format < len(FORMATS) - 1:
                    self._format += 1
                    log.warning(
                        "%s: server rejected structured output, falling back to %s", label, FORMATS[self._format]
                    )
                    attempt -= 1  # not a failed attempt: the same request, asked differently
                    continue
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
                return _answer_text(completion, label)
            if attempt >= self.max_attempts:
                raise SummarizeError(f"{label}: gave up after {attempt} attempts, the last {failure} ({self._where()})")
            delay = self._delay(attempt, asked_wait)
            log.warning("%s: attempt %d %s, retrying in %.2f s", label, attempt, failure, delay)
            self._sleep(delay)

    def _request(self, messages: list[prompt.Message]) -> dict[str, Any]:
        request: dict[str, Any] = {"model": self.model, "messages": messages}
        if FORMATS[self._format] == "json_schema":
            request["response_format"] = prompt.as_json_schema_format()
        elif FORMATS[self._format] == "json_object":
            request["response_format"] = {"type": "json_object"}
        return request

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

            key, base_url = _credentials(self.settings)
            self._client = openai.OpenAI(
                api_key=key, base_url=base_url, max_retries=0, timeout=self.settings.openai_timeout_s
            )
        return self._client

    def _where(self) -> str:
        url = str(self._client.base_url) if self._client is not None else f"https://{DEFAULT_HOST}/v1"
        parts = urlsplit(url)  # without any user:password@ a URL may carry
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}".rstrip("/")

    def _clean(self, text: str) -> str:
        """Server-provided text with the key scrubbed out, in case the server echoes it."""
        key = self._client.api_key if self._client is not None else ""
        if key and key != KEYLESS_PLACEHOLDER:
            text = text.replace(key, "<redacted>")
        return text[:500]


def _credentials(settings: Settings) -> tuple[str, str | None]:
    """(API key, base URL) from the environment, else the Airflow connection `openai_default`."""
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    base_url = settings.openai_base_url
    if not key:
        connection = credentials.connection(CONNECTION_ID)
        if connection is not None:
            key = (connection.password or "").strip()
            base_url = base_url or (connection.host or "").strip() or None
    if key:
        return key, base_url
    if base_url is None or urlsplit(base_url).hostname == DEFAULT_HOST:
        raise SummarizeError(
            "no OpenAI API key: set OPENAI_API_KEY (or the password of the Airflow connection "
            f"{CONNECTION_ID!r}), or set OPENAI_BASE_URL to a local OpenAI-compatible server such as Ollama"
        )
    return KEYLESS_PLACEHOLDER, base_url


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


def _answer_text(completion: Any, label: str) -> str:
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
        raise TruncatedAnswerError(
            f"{label}: the answer was cut off at the server's output token limit (finish_reason=length); "
            "raise the server's output limit or use a model that writes shorter answers"
        )
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else ""


def _validate(answer: str) -> tuple[Summary, str]:
    """The contract's summary and the answer's JSON re-serialized as given."""
    text = answer.strip()
    fenced = _FENCE_RE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadAnswer(f"it is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise _BadAnswer(f"it must be one JSON object, not a JSON {type(data).__name__}")
    try:
        summary = parse_summary(data)
    except ContractError as exc:
        raise _BadAnswer(str(exc)) from None
    return summary, json.dumps(data, ensure_ascii=False)


def _excerpt(text: str, limit: int) -> str:
    """`text`, or its head and tail with a note of how much was cut between them when over `limit`."""
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}"


def _user(content: str) -> prompt.Message:
    return {"role": "user", "content": content}


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return exc.message


def _is_context_error(exc: openai.APIStatusError) -> bool:
    return exc.code == "context_length_exceeded" or bool(_CONTEXT_RE.search(_message(exc)))


def _is_format_error(exc: openai.APIStatusError) -> bool:
    return exc.param == "response_format" or bool(_FORMAT_RE.search(_message(exc)))


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


def _buckets(part: prompt.Part, count: int = 30) -> list[tuple[float, float, str]]:
    """The transcript as up to `count` consecutive runs of segments, the units sections are matched to."""
    size = math.ceil(len(part.segments) / count)
    runs = [part.segments[i : i + size] for i in range(0, len(part.segments), size)]
    return [(run[0].start_s, run[-1].end_s, " ".join(s.text for s in run)) for run in runs]

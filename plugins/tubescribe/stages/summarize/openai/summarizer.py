"""Summaries from any OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, LiteLLM, ...).

Every answer is validated against the contract here, whatever the server promised (and an answer that
copies the template's placeholders is no summary); a bad answer gets one repair request, then raises
`SummaryContractError`. A transcript over the token budget, or over what the model's context window
leaves for it, is summarized in parts, then the parts combined (in rounds when their summaries do not
fit one request either). Talking to the server is `client.py`'s.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from tubescribe.contract import ContractError, Summary, parse_summary
from tubescribe.errors import Kind
from tubescribe.records import SummaryRecord, Transcript, Video
from tubescribe.settings import Settings
from tubescribe.stages.summarize.base import SummarizeError, summary_record
from tubescribe.stages.summarize.openai import prompt
from tubescribe.stages.summarize.openai.client import ChatClient, ContextLengthError, Tally
from tubescribe.stages.summarize.openai.spans import section_spans, summary_text

log = logging.getLogger(__name__)

# A bad answer is quoted back in the repair request only this far: a runaway answer (a model looping
# until max_tokens) would otherwise double the request and could push it past the context window.
REPAIR_ANSWER_CHARS = 4000
REPAIR_PROBLEM_CHARS = 1500
# What a request must leave free of the context window: the answer (a summary runs 500-900 tokens, or
# TUBESCRIBE_OPENAI_MAX_OUTPUT_TOKENS when that is more, since servers count max_tokens against the window),
# and the same again so that the repair request, which quotes the answer back (at most
# REPAIR_ANSWER_CHARS, ~1,000 tokens), still fits; plus the turn's words.
ANSWER_TOKENS = 1000
TURN_TOKENS = 150
MIN_PART_TOKENS = 200
_FENCE_RE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?\s*```$", re.DOTALL)


class SummaryContractError(SummarizeError):
    """The model's answer broke the contract even after one repair request."""

    kind = Kind.TRANSIENT


@dataclass(frozen=True)
class _Plan:
    """How one summary is asked: the opening messages, the transcript tokens per request, and whether those were
    fitted to a known context window (then part summaries are combined in rounds that fit it too)."""

    opening: list[prompt.Message]
    budget: int
    fitted: bool


class _BadAnswer(Exception):
    """An answer that is not JSON or breaks the contract; the message is quoted back to the model."""


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
        self.chunk_tokens = chunk_tokens
        self.client = ChatClient(
            settings,
            max_attempts=max_attempts,
            retry_base_s=retry_base_s,
            max_delay_s=max_delay_s,
            chunk_tokens=chunk_tokens,
            sleep=sleep,
        )
        shape = f"{prompt.template_fingerprint()}\0few_shot={settings.openai_few_shot}\0chunk_tokens={chunk_tokens}"
        self.prompt_version = hashlib.sha256(shape.encode()).hexdigest()[:12]

    def __repr__(self) -> str:
        return f"OpenAISummarizer(model={self.model!r}, prompt_version={self.prompt_version!r})"

    def summarize(self, video: Video, transcript: Transcript) -> SummaryRecord:
        """Summarize one transcript, in parts and then combined when it is over the token budget."""
        started = time.monotonic()
        tally = Tally()
        label = f"video {video.video_id}"
        if not any(segment.text.strip() for segment in transcript.segments):
            raise SummarizeError(f"{label}: the transcript holds no speech, so there is nothing to summarize")
        plan = self._plan(label)
        try:
            summary, raw, units = self._summarize(video, transcript, label, tally, plan)
        except ContextLengthError as exc:
            # The server has just said how big its window is: plan again for it, once, if that sends less.
            again = self._plan(label) if exc.window is not None else plan
            smaller = len(prompt.split_transcript(transcript.segments, again.budget)) > len(
                prompt.split_transcript(transcript.segments, plan.budget)
            )
            if not smaller and len(again.opening) >= len(plan.opening):
                raise
            log.warning("%s: the model's context window is %d tokens: summarizing in parts that fit", label, exc.window)
            summary, raw, units = self._summarize(video, transcript, label, tally, again)
        return summary_record(
            self,
            video,
            summary,
            raw_json=raw,
            section_spans=section_spans(summary, units),
            latency_s=round(time.monotonic() - started, 3),
            tokens_in=tally.tokens_in,
            tokens_out=tally.tokens_out,
        )

    def _summarize(
        self, video: Video, transcript: Transcript, label: str, tally: Tally, plan: _Plan
    ) -> tuple[Summary, str, list[tuple[float, float, str]]]:
        opening, budget = plan.opening, plan.budget
        parts = prompt.split_transcript(transcript.segments, budget)
        if len(parts) == 1:
            turn = prompt.whole_turn(video.title, parts[0].text)
            summary, raw = self._ask([*opening, _user(turn)], label, tally)
            return summary, raw, _buckets(parts[0])
        log.info("%s: transcript is over %d tokens, summarizing it in %d parts", label, budget, len(parts))
        done: list[tuple[prompt.Part, Summary]] = []
        for part in parts:
            turn = prompt.part_turn(video.title, part, len(parts))
            part_label = f"{label} part {part.index}/{len(parts)}"
            done.append((part, self._ask([*opening, _user(turn)], part_label, tally)[0]))
        limit = budget if plan.fitted else None
        summary, raw = self._combine(opening, video.title, done, limit, label, tally)
        return summary, raw, [(part.start_s, part.end_s, summary_text(part_summary)) for part, part_summary in done]

    def _plan(self, label: str) -> _Plan:
        """The opening messages and the transcript tokens per request, fitted to the model's context window."""
        opening = prompt.opening(self.settings.openai_few_shot)
        window = self.client.context_window()
        if window is None:
            return _Plan(opening, self.chunk_tokens, fitted=False)
        # The answer (up to the limit the request sends, if any) and, in a repair, the answer quoted back.
        answer = max(ANSWER_TOKENS, self.settings.openai_max_output_tokens)
        room = window - answer - ANSWER_TOKENS - TURN_TOKENS
        if self.settings.openai_few_shot and prompt.estimate_messages(opening) > room // 2:
            log.warning(
                "%s: the worked examples do not fit the model's context window of %d tokens with a transcript; "
                "sending the instruction without them", label, window,
            )  # fmt: skip
            opening = prompt.opening(False)
        budget = min(self.chunk_tokens, room - prompt.estimate_messages(opening))
        if budget < MIN_PART_TOKENS:
            raise ContextLengthError(
                f"{label}: the context window of {self.model} ({window} tokens) cannot hold the instruction, a "
                f"part of the transcript and the answer: use a model with a larger window (at least "
                f"{window - budget + MIN_PART_TOKENS} tokens) or raise the server's (llama.cpp: --n_ctx)"
            )
        return _Plan(opening, budget, fitted=True)

    def _combine(
        self,
        opening: list[prompt.Message],
        title: str,
        done: list[tuple[prompt.Part, Summary]],
        budget: int | None,
        label: str,
        tally: Tally,
    ) -> tuple[Summary, str]:
        """One summary of the parts' summaries; in rounds of consecutive groups when the model's context window
        is known (`budget`) and they do not fit one request."""
        turn = prompt.combine_turn(title, done)
        if budget is None or prompt.estimate_tokens(turn) <= budget + TURN_TOKENS or len(done) <= 2:
            return self._ask([*opening, _user(turn)], f"{label} combined", tally)
        groups: list[list[tuple[prompt.Part, Summary]]] = [[]]
        for item in done:
            if len(groups[-1]) >= 2 and prompt.estimate_tokens(prompt.combine_turn(title, [*groups[-1], item])) > (
                budget + TURN_TOKENS
            ):
                groups.append([])
            groups[-1].append(item)
        if len(groups) == 1:  # every summary in one group anyway: nothing to gain from another round
            return self._ask([*opening, _user(turn)], f"{label} combined", tally)
        log.info("%s: combining %d part summaries in %d groups first", label, len(done), len(groups))
        merged = []
        for number, group in enumerate(groups, start=1):
            span = prompt.Part(number, tuple(segment for part, _ in group for segment in part.segments))
            group_turn = prompt.combine_turn(title, group)
            merged.append((span, self._ask([*opening, _user(group_turn)], f"{label} group {number}", tally)[0]))
        return self._combine(opening, title, merged, budget, label, tally)

    def _ask(self, messages: list[prompt.Message], label: str, tally: Tally) -> tuple[Summary, str]:
        """One validated summary for `messages`, with a single repair request if the answer is bad."""
        answer = self.client.complete(messages, label, tally)
        try:
            return _validate(answer)
        except _BadAnswer as problem:
            log.warning("%s: the answer is unusable, asking once for a repair", label)
            repair = [
                *messages,
                {"role": "assistant", "content": _excerpt(answer, REPAIR_ANSWER_CHARS)},
                _user(prompt.repair_turn(_excerpt(str(problem), REPAIR_PROBLEM_CHARS))),
            ]
        answer = self.client.complete(repair, f"{label} repair", tally)
        try:
            return _validate(answer)
        except _BadAnswer as problem:
            raise SummaryContractError(
                f"{label}: the model's answer broke the contract after a repair request: {problem}"
            ) from None


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
    if copied := prompt.echoes(data):
        quoted = ", ".join(repr(text[:80]) for text in copied[:6])
        raise _BadAnswer(
            f"it copies the template's placeholder text instead of summarizing ({quoted}): write what this "
            "video says in their place"
        )
    return summary, json.dumps(data, ensure_ascii=False)


def _excerpt(text: str, limit: int) -> str:
    """`text`, or its head and tail with a note of how much was cut between them when over `limit`."""
    if len(text) <= limit:
        return text
    head, tail = limit * 3 // 4, limit // 4
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}"


def _user(content: str) -> prompt.Message:
    return {"role": "user", "content": content}


def _buckets(part: prompt.Part, count: int = 30) -> list[tuple[float, float, str]]:
    """The transcript as up to `count` consecutive runs of segments, the units sections are matched to."""
    size = math.ceil(len(part.segments) / count)
    runs = [part.segments[i : i + size] for i in range(0, len(part.segments), size)]
    return [(run[0].start_s, run[-1].end_s, " ".join(s.text for s in run)) for run in runs]

"""The OpenAI-compatible summarizer on long or odd transcripts: parts and their combination, section spans."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI, Reply, Request, completion
from openai_support import VALID, VALID_2, short, summarizer, transcript, video
from tubescribe.stages.summarize import SummarizeError
from tubescribe.stages.summarize.openai import prompt

pytestmark = pytest.mark.usefixtures("openai_env")


def test_section_spans_point_at_the_matching_segments(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    texts = []
    for section in VALID["sections"]:
        texts += [" ".join(section["content"]), " ".join(section["topics"]), "so yeah um okay"]
    openai_server.script(completion(VALID))
    record = summarizer(tmp_path, openai_server).summarize(video(), transcript(texts, seconds_each=20.0))
    starts = [span.start_s for span in record.section_spans]
    assert starts == [0.0, 60.0, 120.0, 180.0, 240.0]
    assert [span.end_s for span in record.section_spans] == [60.0, 120.0, 180.0, 240.0, 300.0]


def test_section_spans_unknown_without_evidence(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.script(completion(VALID))
    record = summarizer(tmp_path, openai_server).summarize(video(), transcript(["la la la", "na na na"]))
    assert all(span.start_s is None and span.end_s is None for span in record.section_spans)


def test_three_hour_transcript_is_summarized_in_parts_then_combined(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    # ~30k words over 3 hours: 1080 segments of 10 s, each with a unique marker word.
    texts = [f"marker{i:04d} " + " ".join(["attention", "cache", "experts"] * 9) for i in range(1080)]
    long = transcript(texts)
    assert sum(len(t.split()) for t in texts) >= 30_000

    def answer(request: Request) -> Reply:
        return completion(VALID_2 if "<part index=" in request.last_user_text else VALID)

    budget = 6000
    expected_parts = len(prompt.split_transcript(long.segments, budget))
    openai_server.script(*[answer] * (expected_parts + 1))
    record = summarizer(tmp_path, openai_server, chunk_tokens=budget).summarize(video(), long)

    requests = openai_server.chat_requests()
    assert expected_parts >= 7 and len(requests) == expected_parts + 1
    bodies = [r.last_user_text.split("<transcript>\n")[1].split("\n</transcript>")[0] for r in requests[:-1]]
    for number, (request, body) in enumerate(zip(requests[:-1], bodies, strict=True), start=1):
        assert f"part {number} of {expected_parts}" in request.last_user_text
        assert prompt.estimate_tokens(body) <= budget
    sent = " ".join(bodies).split()
    assert [w for w in sent if w.startswith("marker")] == [f"marker{i:04d}" for i in range(1080)]
    combine = requests[-1].last_user_text
    positions = [combine.index(f'<part index="{n}"') for n in range(1, expected_parts + 1)]
    assert positions == sorted(positions) and 'start="0:00"' in combine and 'end="3:00:00"' in combine
    assert json.loads(record.raw_json) == VALID_2
    assert record.tokens_in == 100 * (expected_parts + 1)
    part_starts = {p.start_s for p in prompt.split_transcript(long.segments, budget)}
    assert all(span.start_s is None or span.start_s in part_starts for span in record.section_spans)


def test_oversized_segment_is_split_not_truncated() -> None:
    words = [f"w{i}" for i in range(5000)]
    parts = prompt.split_transcript(transcript([" ".join(words)]).segments, budget=1000)
    assert len(parts) > 1
    assert " ".join(p.text for p in parts).split() == words
    assert all(prompt.estimate_tokens(p.text) <= 1000 for p in parts)
    assert parts[0].start_s == 0.0 and parts[-1].end_s == 10.0


def test_empty_transcript_is_refused_before_any_request(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    with pytest.raises(SummarizeError, match="no speech"):
        summarizer(tmp_path, openai_server).summarize(video(), transcript(["  ", ""]))
    assert openai_server.requests == []


def test_server_reading_far_fewer_tokens_than_sent_is_flagged(
    tmp_path: Path, openai_server: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tubescribe")
    openai_server.script(completion(VALID, prompt_tokens=300))  # an Ollama with a small num_ctx drops the rest silently
    summarizer(tmp_path, openai_server, openai_few_shot=True).summarize(video(), short())
    assert "may have cut the transcript" in caplog.text

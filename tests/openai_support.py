"""Shared pieces of the OpenAI-compatible summarizer tests: settings, records and answers to script.

The scripted server (`openai_server`) and the clean environment (`openai_env`) are fixtures in conftest.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from catalog_records import make_video, timed_transcript
from fake_openai import FakeOpenAI
from tubescribe.records import Transcript, Video
from tubescribe.settings import Settings
from tubescribe.stages.summarize.openai import prompt
from tubescribe.stages.summarize.openai.summarizer import OpenAISummarizer

KEY = "sk-tubescribe-SECRET-7f3a9c1e5b"
EXAMPLES = json.loads((prompt.PROMPTS_DIR / "examples.json").read_text(encoding="utf-8"))
VALID = EXAMPLES[0]["summary"]
VALID_2 = EXAMPLES[1]["summary"]
BASE_S = 0.001  # retry backoff base: fast tests


def openai_settings(tmp_path: Path, base_url: str | None, **overrides: Any) -> Settings:
    """Settings of a home in `tmp_path` whose summarizer asks the fake model at `base_url`."""
    values: dict[str, Any] = {"openai_model": "fake-model", "openai_few_shot": False, "openai_timeout_s": 5.0}
    return Settings.load(home=tmp_path, summarizer="openai", openai_base_url=base_url, **{**values, **overrides})


def summarizer(
    tmp_path: Path, server: FakeOpenAI, delays: list[float] | None = None, **kwargs: Any
) -> OpenAISummarizer:
    overrides = {k: kwargs.pop(k) for k in list(kwargs) if k.startswith("openai_")}
    sleep = delays.append if delays is not None else (lambda _: None)
    return OpenAISummarizer(
        openai_settings(tmp_path, server.base_url, **overrides), retry_base_s=BASE_S, sleep=sleep, **kwargs
    )


def video() -> Video:
    return make_video("vid-1", "Mistral explained")


def transcript(texts: list[str], seconds_each: float = 10.0) -> Transcript:
    return timed_transcript("vid-1", texts, seconds_each)


def short() -> Transcript:
    return transcript(["today we look at mistral and sliding window attention", "then the kv cache"])


def broken_summary() -> dict[str, Any]:
    bad = copy.deepcopy(VALID)
    bad["sections"] = bad["sections"][:4]
    bad["generalTopics"][0]["name"] = "Cooking"
    bad["generalTopics"][1]["complexity"] = 1.5
    return bad

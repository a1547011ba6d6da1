"""`tubescribe ask`: answers whose every claim cites a retrieved moment, through a scripted OpenAI-compatible
server on loopback; without an LLM, the best passages with their links."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import tubescribe
from fake_openai import FakeOpenAI, Request, completion
from sample_catalog import build_sample_catalog
from tubescribe.pipeline.ask import NOT_IN_CATALOG, ask
from tubescribe.settings import Settings

QUESTION = "how does rust keep memory safe without a garbage collector?"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("ask") / "home"
    build_sample_catalog(Settings.load(home=path))
    yield str(path)


@pytest.fixture
def llm(home: str, openai_env: None, openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> FakeOpenAI:
    monkeypatch.setenv("TUBESCRIBE_HOME", home)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("TUBESCRIBE_RETRY_BASE_S", "0.01")
    return openai_server


def _llm_env(llm: FakeOpenAI) -> dict[str, str]:
    """The scripted server and its key, for a `tubescribe` subprocess."""
    return {"OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": os.environ["OPENAI_API_KEY"]}


def _passages(request: Request) -> dict[int, str]:
    """The numbered passages the model was given: number -> title."""
    return {int(n): title for n, title in re.findall(r"^\[(\d+)\] (.+?) @ ", request.last_user_text, flags=re.M)}


def test_an_answer_cites_each_claim_as_a_moment_link(llm: FakeOpenAI) -> None:
    def answer(request: Request):  # type: ignore[no-untyped-def]
        given = _passages(request)
        rust = next(n for n, title in given.items() if title.startswith("Rust"))
        return completion(f"Rust checks ownership when it compiles [{rust}]. Each value has one owner [{rust}].")

    llm.script(answer)
    result = ask(Settings.load(), QUESTION)
    assert result.model == "openai/gpt-4o-mini" and result.dropped == 0
    assert [hit.video_id for hit in result.cited] == ["rust"]
    link = result.cited[0].link
    assert result.text is not None and result.text.count("](http") == 2
    assert "[Rust in 100 Seconds @ " in result.text and link in result.text
    assert re.search(r"#t=\d+\)", result.text)  # the moment, to the second
    # The model saw only the retrieved passages, and was told to answer from them alone.
    [request] = llm.chat_requests()
    assert "only the numbered passages" in request.messages[0]["content"]
    assert "response_format" not in request.body  # a plain-text answer, not the summary's JSON


def test_a_citation_of_a_passage_it_was_not_given_is_removed_with_its_claim(llm: FakeOpenAI) -> None:
    def answer(request: Request):  # type: ignore[no-untyped-def]
        rust = next(n for n, title in _passages(request).items() if title.startswith("Rust"))
        return completion(
            f"Rust has a borrow checker [{rust}]. It was designed on the moon [99]. "
            "See also [my site](http://evil.example/x) for more."
        )

    llm.script(answer)
    result = ask(Settings.load(), QUESTION)
    assert result.text is not None
    assert "moon" not in result.text and "evil.example" not in result.text and "[99]" not in result.text
    assert "borrow checker" in result.text and result.dropped == 2


def test_an_answer_beyond_the_passages_is_refused(llm: FakeOpenAI) -> None:
    llm.script(completion(NOT_IN_CATALOG))
    result = ask(Settings.load(), "what is the capital of france?")
    assert result.text == NOT_IN_CATALOG and result.cited == ()


def test_an_answer_citing_nothing_given_says_the_catalog_does_not_say(llm: FakeOpenAI) -> None:
    llm.script(completion("Paris is the capital [42]. Everyone knows it."))
    result = ask(Settings.load(), QUESTION)
    assert result.text == NOT_IN_CATALOG and result.dropped == 2


def test_without_an_llm_the_answer_is_the_best_passages(home: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUBESCRIBE_HOME", home)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = ask(Settings.load(), QUESTION)
    assert result.text is None and result.model is None
    assert result.passages[0].video_id == "rust"
    out = tubescribe(Path(home), "ask", QUESTION)
    assert out.returncode == 0, out.stderr
    assert "no LLM configured" in out.stdout and "[Rust in 100 Seconds @ " in out.stdout


def test_ask_prints_json_with_the_answer_and_its_sources(llm: FakeOpenAI, home: str) -> None:
    def answer(request: Request):  # type: ignore[no-untyped-def]
        rust = next(n for n, title in _passages(request).items() if title.startswith("Rust"))
        return completion(f"Rust frees memory when its owner goes out of scope [{rust}].")

    llm.script(answer)
    out = tubescribe(Path(home), "ask", QUESTION, "--format", "json", env=_llm_env(llm))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["cited"][0]["video_id"] == "rust" and data["cited"][0]["link"] in data["text"]


def test_a_hostile_answer_is_printed_as_text(llm: FakeOpenAI, home: str) -> None:
    def answer(request: Request):  # type: ignore[no-untyped-def]
        rust = next(n for n, title in _passages(request).items() if title.startswith("Rust"))
        return completion(f"[bold red]Rust[/] \x1b[31mowns memory\x1b[0m [{rust}].")

    llm.script(answer)
    out = tubescribe(Path(home), "ask", QUESTION, env=_llm_env(llm))
    assert out.returncode == 0, out.stderr
    assert "\x1b[31m" not in out.stdout and "[bold red]Rust[/]" in out.stdout

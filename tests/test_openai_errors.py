"""The OpenAI-compatible summarizer when things go wrong: retries, server errors, keys and connections."""

from __future__ import annotations

import json
import logging
import socket
import time
from pathlib import Path

import pytest

from fake_openai import FakeOpenAI, Reply, Request, completion, error
from openai_support import BASE_S, KEY, VALID, openai_settings, short, summarizer, video
from tubescribe.stages.summarize import SummarizeError
from tubescribe.stages.summarize.openai.summarizer import OpenAISummarizer

pytestmark = pytest.mark.usefixtures("openai_env")


def test_rate_limit_waits_for_retry_after_then_succeeds(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    delays: list[float] = []
    openai_server.script(
        error(429, "slow down", type="rate_limit_error", headers={"Retry-After": "2"}), completion(VALID)
    )
    record = summarizer(tmp_path, openai_server, delays).summarize(video(), short())
    assert delays == [2.0]
    assert len(openai_server.chat_requests()) == 2 and json.loads(record.raw_json) == VALID


def test_retry_after_is_capped(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    delays: list[float] = []
    openai_server.script(error(429, "slow down", headers={"Retry-After": "3600"}), completion(VALID))
    summarizer(tmp_path, openai_server, delays, max_delay_s=5.0).summarize(video(), short())
    assert delays == [5.0]


def test_server_error_is_retried_with_backoff(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    delays: list[float] = []
    openai_server.script(error(500, "boom", type="server_error"), completion(VALID))
    record = summarizer(tmp_path, openai_server, delays).summarize(video(), short())
    assert delays == [BASE_S] and len(openai_server.chat_requests()) == 2
    assert json.loads(record.raw_json) == VALID


def test_timeout_is_retried(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    def slow(_: Request) -> Reply:
        time.sleep(0.15)
        return completion(VALID)

    openai_server.script(slow, completion(VALID))
    record = summarizer(tmp_path, openai_server, openai_timeout_s=0.05).summarize(video(), short())
    assert len(openai_server.chat_requests()) == 2 and json.loads(record.raw_json) == VALID


def test_attempts_are_capped(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    delays: list[float] = []
    openai_server.script(*[error(500, "down", type="server_error")] * 10)
    with pytest.raises(SummarizeError, match="gave up after 3 attempts"):
        summarizer(tmp_path, openai_server, delays, max_attempts=3).summarize(video(), short())
    assert len(openai_server.chat_requests()) == 3
    assert delays == [BASE_S, 2 * BASE_S]


def test_unreachable_server_is_retried_then_reported(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []
    summary = OpenAISummarizer(
        openai_settings(tmp_path, f"http://127.0.0.1:{port}/v1"), retry_base_s=BASE_S, sleep=delays.append
    )
    with pytest.raises(SummarizeError, match="gave up after 4 attempts, the last connection failed"):
        summary.summarize(video(), short())
    assert len(delays) == 3


def test_rejected_key_asks_to_check_it(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.script(error(401, "Incorrect API key provided.", code="invalid_api_key"))
    with pytest.raises(SummarizeError, match="check OPENAI_API_KEY"):
        summarizer(tmp_path, openai_server).summarize(video(), short())
    assert len(openai_server.chat_requests()) == 1


def test_other_client_errors_are_reported_with_the_servers_message(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.script(error(400, "temperature must be positive"))
    with pytest.raises(SummarizeError, match=r"HTTP 400.*temperature must be positive"):
        summarizer(tmp_path, openai_server).summarize(video(), short())


def test_key_never_leaks(tmp_path: Path, openai_server: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("openai", "httpx", "httpx2", "httpcore", "tubescribe"):
        caplog.set_level(logging.DEBUG, logger=name)
    openai_server.script(
        error(500, "boom", type="server_error"),
        completion("not json"),
        completion(VALID),
        error(400, f"Invalid key {KEY} for this project"),
        error(401, f"Incorrect API key provided: {KEY}"),
    )
    summary = summarizer(tmp_path, openai_server)
    record = summary.summarize(video(), short())
    messages = []
    for _ in range(2):
        with pytest.raises(SummarizeError) as raised:
            summary.summarize(video(), short())
        messages.append(str(raised.value))
    assert openai_server.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"  # the key was really used
    assert caplog.records, "expected DEBUG logs to check"
    for text in (caplog.text, record.model_dump_json(), repr(summary), repr(record), *messages):
        assert KEY not in text


def test_missing_key_with_openai_url_says_to_set_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    summary = OpenAISummarizer(openai_settings(tmp_path, None), retry_base_s=BASE_S)
    with pytest.raises(SummarizeError, match="set OPENAI_API_KEY"):
        summary.summarize(video(), short())


def test_local_server_without_key_gets_a_placeholder(
    tmp_path: Path, openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    openai_server.script(completion(VALID))
    summarizer(tmp_path, openai_server).summarize(video(), short())
    assert openai_server.chat_requests()[0].headers["authorization"] == "Bearer not-needed"


def test_airflow_connection_supplies_key_and_url(
    tmp_path: Path, openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every task process imports the tasks module, which registers Airflow's connection lookup.
    import tubescribe.orchestration.tasks  # noqa: F401

    monkeypatch.delenv("OPENAI_API_KEY")
    connection = {"conn_type": "openai", "password": "sk-from-airflow", "host": openai_server.base_url}
    monkeypatch.setenv("AIRFLOW_CONN_OPENAI_DEFAULT", json.dumps(connection))
    openai_server.script(completion(VALID))
    OpenAISummarizer(openai_settings(tmp_path, None), retry_base_s=BASE_S).summarize(video(), short())
    assert openai_server.chat_requests()[0].headers["authorization"] == "Bearer sk-from-airflow"


def test_exhausted_quota_is_not_retried(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.script(error(429, "You exceeded your current quota.", code="insufficient_quota"))
    with pytest.raises(SummarizeError, match="out of quota"):
        summarizer(tmp_path, openai_server).summarize(video(), short())
    assert len(openai_server.chat_requests()) == 1


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, "<html>welcome to nginx</html>", {"Content-Type": "text/html"}),
        Reply(200, "<html>welcome to nginx</html>"),
        Reply(200, {"status": "ok"}),
    ],
    ids=["html", "html-as-json", "other-json"],
)
def test_server_that_is_not_openai_compatible_is_reported(
    tmp_path: Path, openai_server: FakeOpenAI, reply: Reply
) -> None:
    openai_server.script(reply)
    with pytest.raises(SummarizeError, match="not a chat completion"):
        summarizer(tmp_path, openai_server).summarize(video(), short())

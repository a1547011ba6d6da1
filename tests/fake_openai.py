"""A scripted OpenAI-compatible server on 127.0.0.1 for tests: no network, no real model.

Script it with replies (or functions of the request that return one); it answers
`POST /v1/chat/completions` with them in order, records every request, and answers 500 with a
message saying so when the script runs out. `GET /v1/models` is answered with the `models` entries
when a test sets them (as vLLM or llama.cpp list theirs, window and all), else 404 like a
server that lists none.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"


@dataclass(frozen=True)
class Reply:
    """One scripted answer: status, body (dict/list as JSON, str as raw text) and extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def last_user_text(self) -> str:
        return next((m["content"] for m in reversed(self.messages) if m.get("role") == "user"), "")


Script = Reply | Callable[[Request], Reply]


def completion(
    content: str | dict[str, Any] | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int = 100,
    completion_tokens: int = 50,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A 200 chat completion whose message is `content` (a dict is sent as JSON text)."""
    text = json.dumps(content) if isinstance(content, dict) else content
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": text, "refusal": refusal},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return Reply(200, body, headers or {})


def error(
    status: int,
    message: str,
    *,
    code: str | None = None,
    type: str = "invalid_request_error",  # the field's name in OpenAI's error body
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error reply shaped like OpenAI's."""
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return Reply(status, body, headers or {})


class FakeOpenAI:
    """The server; use as a context manager or via the `fake_openai` fixture."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        # The entries `GET /v1/models` lists (None: answered 404, as by a server without the endpoint).
        self.models: list[dict[str, Any]] | None = None
        self._script: deque[Script] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("fake OpenAI server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def pending(self) -> int:
        """Scripted replies not yet used."""
        with self._lock:
            return len(self._script)

    def script(self, *replies: Script) -> None:
        """Queue replies, answered in order."""
        with self._lock:
            self._script.extend(replies)

    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == CHAT_PATH]

    def models_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path == MODELS_PATH]

    def start(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            number = len(self.requests)
            if request.method == "GET" and request.path == MODELS_PATH and self.models is not None:
                return Reply(200, {"object": "list", "data": list(self.models)})
            if request.method != "POST" or request.path != CHAT_PATH:
                return error(404, f"fake_openai serves only POST {CHAT_PATH}, not {request.method} {request.path}")
            if not self._script:
                return error(
                    500,
                    f"fake_openai: script ran out: no reply scripted for request #{number}",
                    type="server_error",
                )
            step = self._script.popleft()
        return step(request) if callable(step) else step


def _handler_for(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so stopping never waits on a kept-alive socket.
        protocol_version = "HTTP/1.0"

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            request = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            reply = fake._answer(request)
            payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
            data = payload.encode()
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped waiting (a timeout test): nothing left to tell it

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A running scripted OpenAI-compatible server, stopped after the test."""
    with FakeOpenAI() as server:
        yield server

"""The OpenAI-compatible summarizer against each server's own shape: the errors it answers, what it lists.

Each scripted server answers as the real one does (its error bodies as its code or its users show them):
which `response_format` every request went out with, what was remembered in the store for the next run,
how a long transcript is fitted to the window a server lists or states, and answers copying the template.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from fake_openai import FakeOpenAI, Reply, Request, completion, error
from openai_support import BASE_S, KEY, VALID, VALID_2, openai_settings, short, summarizer, transcript, video
from tubescribe.contract import inlined_schema
from tubescribe.errors import Kind
from tubescribe.records import Transcript
from tubescribe.stages.summarize.openai import prompt
from tubescribe.stages.summarize.openai.client import ContextLengthError, UnsupportedRequestError
from tubescribe.stages.summarize.openai.forms import Facts, Memory
from tubescribe.stages.summarize.openai.summarizer import ANSWER_TOKENS, OpenAISummarizer, SummaryContractError
from tubescribe.stages.summarize.openai.summarizer import TURN_TOKENS as TURN

pytestmark = pytest.mark.usefixtures("openai_env")

# llama-cpp-python's server: FastAPI's RequestValidationError caught by its route handler, sent as a 500.
LLAMA_CPP_PYTHON_500 = error(
    500,
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': "
    "\"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or "
    "'json_object'\"}}\n",
    type="internal_server_error",
)
OPENAI_NO_JSON_SCHEMA = error(
    400,
    "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model. Learn more "
    "about supported models at the Structured Outputs guide: https://platform.openai.com/docs/guides/structured-outputs",
    param="response_format",
)
OPENAI_UNKNOWN_SCHEMA = error(
    400, "Unknown parameter: 'response_format.schema'.", param="response_format.schema", code="unknown_parameter"
)
LM_STUDIO_NO_JSON_OBJECT = Reply(400, {"error": "'response_format.type' must be 'json_schema' or 'text'"})
XGRAMMAR = "The provided JSON schema contains features not supported by xgrammar."


def sent_forms(server: FakeOpenAI) -> list[str]:
    """The form of every chat request, as `forms.FORMS` names them."""
    sent = [request.body.get("response_format") for request in server.chat_requests()]
    return ["plain" if f is None else f["type"] + ("+schema" if "schema" in f else "") for f in sent]


def remembered(home: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((home / "platforms").glob("llm-*.json"))]


def model_entry(**fields: Any) -> dict[str, Any]:
    return {"id": "fake-model", "object": "model", "created": 0, "owned_by": "organization_owner", **fields}


def long_transcript(segments: int) -> Transcript:
    """`segments` segments of 10 s, ~52 tokens each, each with a unique marker word."""
    return transcript([f"marker{i:04d} " + "attention cache experts " * 13 for i in range(segments)])


def budget_for(window: int) -> int:
    """The transcript tokens a request gets in `window`, without the worked examples."""
    return window - 2 * ANSWER_TOKENS - TURN - prompt.estimate_messages(prompt.opening(False))


def turn_body(request: Request) -> str:
    return request.last_user_text.split("<transcript>\n")[1].split("\n</transcript>")[0]


def kinds(server: FakeOpenAI) -> list[str]:
    """Each chat request as whole / part / combine, from its user turn."""
    texts = [request.last_user_text for request in server.chat_requests()]
    return ["combine" if "was summarized in" in t else "part" if "This is part" in t else "whole" for t in texts]


def test_llama_cpp_python_500_validation_error_falls_back_once_for_every_worker(
    tmp_path: Path, openai_server: FakeOpenAI
) -> None:
    openai_server.models = [model_entry(owned_by="me", permissions=[])]  # lists no window
    openai_server.script(LLAMA_CPP_PYTHON_500, completion(VALID), completion(VALID_2))
    delays: list[float] = []
    first = summarizer(tmp_path, openai_server, delays)
    first.summarize(video(), short())
    first.summarize(video(), short())
    assert sent_forms(openai_server) == ["json_schema", "json_object+schema", "json_object+schema"]
    assert openai_server.chat_requests()[1].body["response_format"]["schema"] == inlined_schema()
    assert delays == []  # a rejected form, not a transient failure: no wait, no retry of the same form
    (memory,) = remembered(tmp_path)
    assert memory["form"] == "json_object+schema" and memory["context_tokens"] is None
    assert memory["base_url"] == openai_server.base_url and memory["model"] == "fake-model"
    assert KEY not in next((tmp_path / "platforms").glob("llm-*.json")).read_text()

    openai_server.script(completion(VALID))  # another worker, or tomorrow's run, on the same home
    summarizer(tmp_path, openai_server).summarize(video(), short())
    assert sent_forms(openai_server)[3:] == ["json_object+schema"]


def test_memory_keeps_no_credentials_of_the_base_url(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    with_password = openai_server.base_url.replace("http://", "http://user:hunter2-secret@")
    openai_server.script(LLAMA_CPP_PYTHON_500, completion(VALID))
    OpenAISummarizer(openai_settings(tmp_path, with_password), retry_base_s=BASE_S).summarize(video(), short())
    text = next((tmp_path / "platforms").glob("llm-*.json")).read_text()
    assert "hunter2" not in text and KEY not in text and json.loads(text)["base_url"] == openai_server.base_url


def test_openai_model_without_json_schema_steps_down_to_json_object(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    # OpenAI rejects an unknown `schema` inside json_object too, so each rejected form goes out exactly once.
    openai_server.script(OPENAI_NO_JSON_SCHEMA, OPENAI_UNKNOWN_SCHEMA, completion(VALID), completion(VALID))
    summary = summarizer(tmp_path, openai_server)
    summary.summarize(video(), short())
    summary.summarize(video(), short())
    assert sent_forms(openai_server) == ["json_schema", "json_object+schema", "json_object", "json_object"]
    assert [m["form"] for m in remembered(tmp_path)] == ["json_object"]


def test_lm_studio_takes_json_schema_first_time(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.models = [model_entry()]  # LM Studio's /v1/models states no window
    openai_server.script(completion(VALID), completion(VALID_2))
    summary = summarizer(tmp_path, openai_server)
    summary.summarize(video(), short())
    summary.summarize(video(), short())
    assert sent_forms(openai_server) == ["json_schema", "json_schema"]
    assert len(openai_server.models_requests()) == 1  # asked once, not per video
    assert remembered(tmp_path) == []  # nothing learned, nothing written


FASTAPI_EXTRA_FORBIDDEN = Reply(422, {"detail": [{"type": "extra_forbidden", "loc": ["body", "response_format"],
                                                  "msg": "Extra inputs are not permitted", "input": {}}]})  # fmt: skip


@pytest.mark.parametrize(
    ("remembered_form", "replies", "expected"),
    [
        # The store remembers json_object+schema for this URL + model (another server answered there before).
        ("json_object+schema", [LM_STUDIO_NO_JSON_OBJECT] * 2, ["json_object+schema", "json_object", "plain"]),
        (None, [FASTAPI_EXTRA_FORBIDDEN], ["json_schema", "json_object+schema"]),
    ],
    ids=["lm-studio-string-error", "fastapi-422-detail"],
)
def test_rejection_bodies_without_error_message_fall_back(
    tmp_path: Path, openai_server: FakeOpenAI, remembered_form: str | None, replies: list[Reply], expected: list[str]
) -> None:
    settings = openai_settings(tmp_path, openai_server.base_url)
    if remembered_form is not None:
        Memory(settings, openai_server.base_url, "fake-model").save(Facts(form=remembered_form))
    openai_server.script(*replies, completion(VALID))
    record = OpenAISummarizer(settings, retry_base_s=BASE_S).summarize(video(), short())
    assert sent_forms(openai_server) == expected and json.loads(record.raw_json) == VALID


def test_vllm_takes_json_schema_and_lists_its_window(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.models = [model_entry(owned_by="vllm", root="fake-model", parent=None, max_model_len=32768)]
    openai_server.script(completion(VALID))
    summarizer(tmp_path, openai_server).summarize(video(), short())
    assert sent_forms(openai_server) == ["json_schema"]
    assert remembered(tmp_path) == [{"base_url": openai_server.base_url, "model": "fake-model", "form": None,
                                     "context_tokens": 32768}]  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {"object": "error", "message": XGRAMMAR, "type": "BadRequestError", "param": None, "code": 400},
        {"error": {"message": XGRAMMAR, "type": "BadRequestError", "param": None, "code": 400}},
    ],
    ids=["top-level", "nested"],
)
def test_vllm_schema_its_backend_cannot_compile_falls_back(
    tmp_path: Path, openai_server: FakeOpenAI, body: dict[str, Any]
) -> None:
    openai_server.script(Reply(400, body), completion(VALID))
    record = summarizer(tmp_path, openai_server).summarize(video(), short())
    assert sent_forms(openai_server) == ["json_schema", "json_object+schema"]
    assert json.loads(record.raw_json) == VALID


def test_ollama_gets_the_schema_inlined_with_every_rule(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.models = [model_entry(owned_by="library")]
    openai_server.script(completion(VALID))
    summarizer(tmp_path, openai_server).summarize(video(), short())
    (request,) = openai_server.chat_requests()
    schema = request.body["response_format"]["json_schema"]["schema"]
    assert "$ref" not in json.dumps(schema) and "$defs" not in json.dumps(schema)
    sections = schema["properties"]["sections"]
    assert (sections["minItems"], sections["maxItems"]) == (5, 5)
    content = sections["items"]["properties"]["content"]
    assert (content["minItems"], content["maxItems"], content["items"]["minLength"]) == (4, 4, 1)
    assert set(schema["required"]) >= {"introduction", "sections", "topics", "generalTopics"}
    assert sections["items"]["required"] == ["title", "content", "topics"]


def test_plain_internal_server_error_is_transient(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    delays: list[float] = []
    openai_server.script(Reply(500, "Internal Server Error", {"Content-Type": "text/plain"}), completion(VALID))
    summarizer(tmp_path, openai_server, delays).summarize(video(), short())
    assert sent_forms(openai_server) == ["json_schema", "json_schema"] and delays == [BASE_S]
    assert remembered(tmp_path) == []


def test_server_rejecting_even_plain_is_permanent(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    # A pydantic-validating proxy that forbids extra fields and a system turn, its errors OpenAI-shaped.
    extra = error(422, "1 validation error for ChatRequest\nresponse_format\n  Extra inputs are not permitted")
    role = error(422, "1 validation error for ChatRequest\nmessages.0.role\n  Input should be 'user' or 'assistant'")
    openai_server.script(extra, extra, extra, role, completion(VALID))
    with pytest.raises(UnsupportedRequestError, match="even without structured output") as raised:
        summarizer(tmp_path, openai_server).summarize(video(), short())
    assert raised.value.kind == Kind.PERMANENT
    assert sent_forms(openai_server) == ["json_schema", "json_object+schema", "json_object", "plain"]
    assert openai_server.pending == 1  # nothing asked after plain was rejected


@pytest.mark.parametrize(
    "entry",
    [
        model_entry(owned_by="vllm", max_model_len=8192),
        model_entry(owned_by="llamacpp", meta={"vocab_type": 2, "n_vocab": 32000, "n_ctx_train": 8192}),
        model_entry(owned_by="llamacpp", meta={"n_ctx": 8192, "n_ctx_train": 131072}),
        model_entry(context_length=8192),
    ],
    ids=["vllm", "llama-server", "llama-server-n_ctx", "context_length"],
)
def test_listed_window_splits_a_long_transcript_into_parts_that_fit(
    tmp_path: Path, openai_server: FakeOpenAI, entry: dict[str, Any]
) -> None:
    openai_server.models = [entry]
    budget = budget_for(8192)  # the worked examples take over half the room: dropped
    assert prompt.estimate_messages(prompt.opening(True)) > (8192 - 2 * ANSWER_TOKENS - TURN) // 2 and budget < 6000
    long = long_transcript(240)
    parts = prompt.split_transcript(long.segments, budget)
    openai_server.script(*[completion(VALID)] * (len(parts) + 1))
    summarizer(tmp_path, openai_server, openai_few_shot=True).summarize(video(), long)
    assert kinds(openai_server) == ["part"] * len(parts) + ["combine"] and len(parts) >= 2
    for request in openai_server.chat_requests():
        assert [m["role"] for m in request.messages] == ["system", "user"]  # no worked examples
    assert all(prompt.estimate_tokens(turn_body(r)) <= budget for r in openai_server.chat_requests()[:-1])
    assert len(openai_server.models_requests()) == 1 and remembered(tmp_path)[0]["context_tokens"] == 8192


def test_worked_examples_stay_when_the_window_has_room(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.models = [model_entry(max_model_len=32768)]
    openai_server.script(completion(VALID))
    summarizer(tmp_path, openai_server, openai_few_shot=True).summarize(video(), short())
    roles = [m["role"] for m in openai_server.chat_requests()[0].messages]
    assert roles == ["system", "user", "assistant", "user", "assistant", "user"]


def test_stated_window_replans_once_in_parts(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    # llama-cpp-python's own wording of llama.cpp's "Requested tokens (5200) exceed context window of 4096".
    too_long = error(
        400, "This model's maximum context length is 4096 tokens. However, you requested 5200 tokens (4200 in the "
        "messages, None in the completion). Please reduce the length of the messages or completion.",
        param="messages", code="context_length_exceeded",
    )  # fmt: skip
    long = long_transcript(60)  # ~3100 tokens: one request under chunk_tokens, not under the window
    budget = budget_for(4096)
    parts = prompt.split_transcript(long.segments, budget)
    openai_server.script(too_long, *[completion(VALID)] * 20)
    summarizer(tmp_path, openai_server).summarize(video(), long)
    sent = kinds(openai_server)
    assert sent[0] == "whole" and sent[1 : 1 + len(parts)] == ["part"] * len(parts) and len(parts) >= 3
    assert set(sent[1 + len(parts) :]) == {"combine"}
    assert remembered(tmp_path)[0]["context_tokens"] == 4096


def test_window_still_too_small_after_replanning_is_raised(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    too_long = error(400, "This model's maximum context length is 4096 tokens.", code="context_length_exceeded")
    openai_server.script(too_long, too_long, completion(VALID))
    with pytest.raises(ContextLengthError):
        summarizer(tmp_path, openai_server).summarize(video(), long_transcript(60))
    assert len(openai_server.chat_requests()) == 2 and openai_server.pending == 1  # planned again once only


def test_llama_server_context_size_error_replans(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    # Older llama-server builds list only the trained window (n_ctx_train), far over the --ctx-size it runs with.
    openai_server.models = [model_entry(owned_by="llamacpp", meta={"n_ctx_train": 131072})]
    exceeded = {"error": {"code": 400, "message": "the request exceeds the available context size. try increasing "
                          "the context size or enable context shift", "type": "exceed_context_size_error",
                          "n_prompt_tokens": 9000, "n_ctx": 4096}}  # fmt: skip
    openai_server.script(Reply(400, exceeded), *[completion(VALID)] * 20)
    summarizer(tmp_path, openai_server).summarize(video(), long_transcript(60))
    assert kinds(openai_server)[:2] == ["whole", "part"]


def test_context_tokens_setting_overrides_the_listing(
    tmp_path: Path, openai_server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUBESCRIBE_OPENAI_CONTEXT_TOKENS", "4096")
    openai_server.models = [model_entry(max_model_len=131072)]
    long = long_transcript(60)
    budget = budget_for(4096)
    parts = prompt.split_transcript(long.segments, budget)
    openai_server.script(*[completion(VALID)] * 20)
    summarizer(tmp_path, openai_server).summarize(video(), long)
    assert openai_server.models_requests() == []
    assert kinds(openai_server)[: len(parts)] == ["part"] * len(parts) and len(parts) >= 3
    assert all(prompt.estimate_tokens(turn_body(r)) <= budget for r in openai_server.chat_requests()[: len(parts)])


def test_many_part_summaries_are_combined_in_rounds(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.models = [model_entry(max_model_len=4096)]
    long = long_transcript(150)
    budget = budget_for(4096)
    parts = prompt.split_transcript(long.segments, budget)
    openai_server.script(*[completion(VALID)] * 40)
    record = summarizer(tmp_path, openai_server).summarize(video(), long)
    sent = kinds(openai_server)
    combines = [r.last_user_text for r in openai_server.chat_requests() if "was summarized in" in r.last_user_text]
    assert sent[: len(parts)] == ["part"] * len(parts) and len(parts) >= 5 and len(combines) >= 3
    assert all(text.count("<part index=") < len(parts) for text in combines)  # groups, never all at once
    final = combines[-1]  # the last round's groups span the whole video
    assert 'start="0:00"' in final and f'end="{prompt.clock(long.segments[-1].end_s)}"' in final
    assert json.loads(record.raw_json) == VALID


def echoing() -> dict[str, Any]:
    copied = copy.deepcopy(VALID)
    copied["introduction"] = "High level synopsis here"
    copied["sections"][0]["content"][0] = "Bullet point 1"
    copied["sections"][0]["topics"][0] = "Topic1"
    return copied


def test_answer_copying_the_template_gets_one_repair(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.script(completion(echoing()), completion(VALID_2))
    record = summarizer(tmp_path, openai_server).summarize(video(), short())
    _, repair = openai_server.chat_requests()
    assert "placeholder" in repair.last_user_text
    for copied in ("'High level synopsis here'", "'Bullet point 1'", "'Topic1'"):
        assert copied in repair.last_user_text
    assert sent_forms(openai_server) == ["json_schema", "json_schema"] and json.loads(record.raw_json) == VALID_2


def test_worked_examples_copy_no_placeholder() -> None:
    assert prompt.echoes(echoing()) == ["High level synopsis here", "Bullet point 1", "Topic1"]
    for _, summary in prompt.examples():
        assert prompt.echoes(json.loads(summary)) == []


def test_answer_copying_the_template_again_after_repair_is_refused(tmp_path: Path, openai_server: FakeOpenAI) -> None:
    openai_server.script(completion(echoing()), completion(echoing()), completion(VALID))
    with pytest.raises(SummaryContractError, match="placeholder"):
        summarizer(tmp_path, openai_server).summarize(video(), short())
    assert len(openai_server.chat_requests()) == 2 and openai_server.pending == 1

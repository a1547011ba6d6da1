"""Topic normalization: spellings of one topic share one normalized form."""

from __future__ import annotations

import pytest

from tubescribe.topics import ALIASES, normalize_topic, singular


@pytest.mark.parametrize(
    ("spellings", "normalized"),
    [
        (["LLMs", "Large Language Models", "llm", "large-language model", "LLM"], "large language model"),
        (["JS", "JavaScript", "javascript"], "javascript"),
        (["K8s", "Kubernetes", "kubernetes"], "kubernetes"),
        (["DB", "DBs", "Database", "databases"], "database"),
        (["AI", "A.I.", "Artificial Intelligence"], "artificial intelligence"),
        (["ML", "machine learning", "Machine-Learning"], "machine learning"),
        (["APIs", "API", "Application Programming Interfaces"], "api"),
        (["GPUs", "gpu", "Graphics Processing Unit"], "gpu"),
        (["Node.js", "NodeJS", "node"], "nodejs"),
        (["CI/CD", "ci-cd"], "continuous integration and delivery"),
        (["WebAssembly", "Web Assembly", "WASM"], "webassembly"),
    ],
)
def test_spellings_of_one_topic_normalize_together(spellings: list[str], normalized: str) -> None:
    assert {normalize_topic(s) for s in spellings} == {normalized}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("libraries", "library"),
        ("processes", "process"),
        ("matches", "match"),
        ("caches", "cache"),
        ("components", "component"),
        ("videos", "video"),
        ("kubernetes", "kubernetes"),
        ("redis", "redis"),
        ("status", "status"),
        ("analytics", "analytics"),
        ("class", "class"),
        ("aws", "aws"),
        ("gps", "gps"),
    ],
)
def test_singular(word: str, expected: str) -> None:
    assert singular(word) == expected


def test_only_the_head_noun_loses_its_plural() -> None:
    assert normalize_topic("Systems Programming") == "systems programming"
    assert normalize_topic("Design Patterns") == "design pattern"


def test_language_names_with_symbols_survive() -> None:
    assert [normalize_topic(t) for t in ("C++", "C#", "F#")] == ["c++", "c#", "f#"]


def test_punctuation_and_spacing_do_not_matter() -> None:
    assert normalize_topic("  Memory   Safety! ") == normalize_topic("memory-safety") == "memory safety"
    assert normalize_topic("Ownership & Borrowing") == "ownership and borrowing"


def test_a_tag_of_only_punctuation_keeps_its_text() -> None:
    assert normalize_topic("!!") == "!!"


def test_aliases_are_already_normalized() -> None:
    # A canonical form must be a fixed point, or counts would split between it and its own normal form.
    assert all(normalize_topic(canonical) == canonical for canonical in ALIASES.values())

"""The offline summarizer: contract-valid, deterministic, general (checked on held-out examples), fast."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from catalog_records import make_video, timed_transcript
from tubescribe.contract import GENERAL_TOPICS, parse_summary
from tubescribe.records import Segment, SummaryRecord, Transcript, Video
from tubescribe.stages.summarize import SummarizeError
from tubescribe.stages.summarize.local.lexicon import STOP_WORDS
from tubescribe.stages.summarize.local.summarizer import LocalSummarizer

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe"
PRACTICE = {path.stem: path.read_text() for path in sorted((PACKAGE / "sample_channel").glob("*.txt"))}
EXAMPLES = json.loads((PACKAGE / "prompts" / "examples.json").read_text())
HELD_OUT = {"mistral": EXAMPLES[0]["transcript"], "job_board": EXAMPLES[1]["transcript"]}
ALL_TEXTS = {**PRACTICE, **HELD_OUT}
# Words nobody tags a video with; listed here independently of the module's own lists.
FILLER = {"guys", "gonna", "basically", "really", "thing", "things", "lets", "dont", "like", "just", "actually", "so"}


def make_transcript(text: str, *, seconds: float = 4.0, texts: list[str] | None = None) -> Transcript:
    """Fake segments of 12 words and `seconds` each (or one per entry of `texts`)."""
    words = text.split()
    return timed_transcript("vid", texts or [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)], seconds)


def video_named(name: str) -> Video:
    """A video whose title is its name in title case (the title weighs in the summary's tags)."""
    return make_video(name, name.replace("_", " ").title())


def summarize(name: str, text: str) -> SummaryRecord:
    return LocalSummarizer().summarize(video_named(name), make_transcript(text))


def test_summarizer_identifies_itself() -> None:
    summarizer = LocalSummarizer()
    assert (summarizer.backend, summarizer.model) == ("local", "tubescribe-extractive")
    assert len(summarizer.prompt_version) == 8


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_raw_json_follows_the_contract(name: str) -> None:
    record = summarize(name, ALL_TEXTS[name])
    assert parse_summary(record.raw_json) == record.summary
    assert (record.backend, record.video_id, record.tokens_in, record.tokens_out) == ("local", name, None, None)
    assert record.latency_s is not None and record.created_at.tzinfo is not None


def test_same_input_gives_same_summary() -> None:
    first = summarize("rust", PRACTICE["rust"])
    second = summarize("rust", PRACTICE["rust"])
    assert first.raw_json == second.raw_json
    assert first.section_spans == second.section_spans


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_sections_are_contiguous_and_chronological(name: str) -> None:
    transcript = make_transcript(ALL_TEXTS[name])
    spans = LocalSummarizer().summarize(video_named(name), transcript).section_spans
    assert len(spans) == 5
    assert spans[0].start_s == transcript.segments[0].start_s
    assert spans[-1].end_s == transcript.segments[-1].end_s
    for span, following in pairwise(spans):
        assert span.start_s is not None and span.end_s is not None
        assert span.start_s < span.end_s == following.start_s


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("mistral", "Artificial Intelligence (AI) and Machine Learning"),
        ("job_board", "Web Development and Internet Technologies"),
    ],
)
def test_held_out_examples_get_the_right_first_general_topic(name: str, field: str) -> None:
    assert summarize(name, HELD_OUT[name]).summary.generalTopics[0].name == field


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_general_topics_are_three_distinct_fields_with_plausible_complexity(name: str) -> None:
    topics = summarize(name, ALL_TEXTS[name]).summary.generalTopics
    assert len({topic.name for topic in topics}) == 3
    assert all(topic.name in GENERAL_TOPICS for topic in topics)
    assert all(0.25 <= float(topic.complexity) <= 0.8 for topic in topics)


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_topics_hold_no_stop_words_filler_or_numbers(name: str) -> None:
    summary = summarize(name, ALL_TEXTS[name]).summary
    tags = summary.topics + [tag for section in summary.sections for tag in section.topics]
    for tag in tags:
        for word in tag.lower().split():
            assert word not in FILLER and word not in STOP_WORDS, tag
            assert not word.isdigit(), tag


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_tags_are_short_and_distinct(name: str) -> None:
    summary = summarize(name, ALL_TEXTS[name]).summary
    assert len(set(summary.topics)) == 5 and all(1 <= len(tag.split()) <= 2 for tag in summary.topics)
    for section in summary.sections:
        assert len(set(section.topics)) == 3


@pytest.mark.parametrize("name", sorted(PRACTICE))
def test_bullets_are_cleaned_spoken_clauses(name: str) -> None:
    for section in summarize(name, PRACTICE[name]).summary.sections:
        for bullet in section.content:
            assert bullet[0].isupper() and bullet.endswith(".")
            assert 4 <= len(bullet.split()) <= 25
            assert bullet.split()[0].lower() not in {"so", "and", "um", "uh", "okay"}


def test_section_titles_name_their_key_phrases() -> None:
    for number, section in enumerate(summarize("zig", PRACTICE["zig"]).summary.sections, start=1):
        assert section.title.startswith(f"Section {number}: ")
        assert section.title.removeprefix(f"Section {number}: ") == " and ".join(section.topics[:2])


def test_introduction_names_the_title_and_topics() -> None:
    summary = summarize("rust", PRACTICE["rust"]).summary
    assert summary.introduction.startswith("Rust: a video about ")
    assert summary.topics[0] in summary.introduction
    assert summary.generalTopics[0].name in summary.introduction


def test_very_short_transcript_still_follows_the_contract() -> None:
    record = summarize("tiny", "rust compiler checks memory safety")
    assert parse_summary(record.raw_json) == record.summary
    assert len(record.section_spans) == 5


def test_single_word_transcript_still_follows_the_contract() -> None:
    record = summarize("one", "hello")
    assert parse_summary(record.raw_json) == record.summary


def test_empty_transcript_raises_summarize_error() -> None:
    with pytest.raises(SummarizeError, match="no words"):
        summarize("empty", "")


def test_blank_segments_raise_summarize_error() -> None:
    transcript = make_transcript("placeholder").model_copy(
        update={"segments": (Segment(idx=0, start_s=0.0, end_s=2.0, text="  ... "),)}
    )
    with pytest.raises(SummarizeError):
        LocalSummarizer().summarize(video_named("blank"), transcript)


def test_transcript_without_timing_gets_empty_spans() -> None:
    record = LocalSummarizer().summarize(video_named("rust"), make_transcript(PRACTICE["rust"], seconds=0.0))
    assert parse_summary(record.raw_json) == record.summary
    assert all(span.start_s is None and span.end_s is None for span in record.section_spans)


def test_punctuated_capitalized_transcript_gives_sentence_bullets() -> None:
    sentences = [
        "Rust is a memory safe compiled programming language.",
        "The borrow checker validates every reference at compile time.",
        "Ownership means each value has exactly one owner variable.",
        "Cargo is the package manager and every package is a crate.",
        "The standard library handles files, concurrency and input output.",
    ]
    transcript = make_transcript("", texts=sentences * 6)
    summary = LocalSummarizer().summarize(video_named("rust"), transcript).summary
    bullets = [bullet for section in summary.sections for bullet in section.content]
    assert set(bullets) <= set(sentences)
    assert summary.generalTopics[0].name == "Programming Languages and Software Development"


def test_three_hour_transcript_gives_a_valid_summary() -> None:
    # How fast this is belongs to benchmarks, not to an assert here.
    words = " ".join(ALL_TEXTS.values()).split()
    text = " ".join((words * (32_400 // len(words) + 1))[:32_400])
    transcript = make_transcript(text)
    assert transcript.segments[-1].end_s >= 3 * 3600
    record = LocalSummarizer().summarize(video_named("long"), transcript)
    assert parse_summary(record.raw_json) == record.summary

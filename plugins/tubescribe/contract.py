"""The summary contract: the user's JSON template, declared once.

This one model drives the LLM request (its JSON Schema is sent as structured output), validates
every answer, is printed by `tubescribe schema`, and decides what lands in the catalog.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema, model_validator

from tubescribe.errors import Kind, TubescribeError

GENERAL_TOPICS: tuple[str, ...] = (
    "Algorithms and Data Structures",
    "Artificial Intelligence (AI) and Machine Learning",
    "Computer Architecture",
    "Data Science and Analytics",
    "Database Systems and Management",
    "Human-Computer Interaction (HCI)",
    "Programming Languages and Software Development",
    "Software Engineering and System Design",
    "Web Development and Internet Technologies",
    "Computer Graphics and Visualization",
    "Theoretical Computer Science",
    "Quantum Computing",
)

COMPLEXITY_SCALE: tuple[tuple[Decimal, str], ...] = (
    (Decimal("0.00"), "Elementary"),
    (Decimal("0.10"), "Middle School"),
    (Decimal("0.20"), "High School"),
    (Decimal("0.30"), "Advanced High School"),
    (Decimal("0.40"), "Introductory College"),
    (Decimal("0.50"), "Average College Lecture"),
    (Decimal("0.60"), "Advanced College"),
    (Decimal("0.70"), "Graduate Level"),
    (Decimal("0.80"), "Advanced Graduate Level"),
    (Decimal("0.90"), "PhD Level Lecture"),
)

N_SECTIONS = 5
N_BULLETS = 4
N_SECTION_TOPICS = 3
N_TOPICS = 5
N_GENERAL_TOPICS = 3

GeneralTopicName = Literal[GENERAL_TOPICS]  # type: ignore[valid-type]


class ContractError(TubescribeError, ValueError):
    """A summary does not follow the contract; the message says which rule it broke (a model may do better later)."""

    kind = Kind.TRANSIENT


# Complexity written as text: the same spellings the published schema's pattern allows.
_COMPLEXITY_TEXT = re.compile(r"(0(\.[0-9]{1,2})?|1(\.00?)?)")


def _complexity(value: Any) -> Decimal:
    # The user's own examples write complexity both as "0.87" and as 0.59: accept either spelling,
    # but nothing that is not a two-decimal number in [0, 1] ("high", 1.5, 0.655, true).
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError("complexity must be a number between 0.00 and 1.00")
    if isinstance(value, str) and not _COMPLEXITY_TEXT.fullmatch(value):
        raise ValueError(f'complexity {value!r} is not a number like "0.65" between 0.00 and 1.00')
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"complexity {value!r} is not a number between 0.00 and 1.00") from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        raise ValueError(f"complexity {value!r} is outside 0.00-1.00")
    if number != number.quantize(Decimal("0.01")):
        raise ValueError(f"complexity {value!r} has more than two decimals")
    return abs(number.quantize(Decimal("0.01")))  # abs: "-0" is zero, not "-0.00"


Complexity = Annotated[
    Decimal,
    BeforeValidator(_complexity),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {"type": "string", "pattern": f"^{_COMPLEXITY_TEXT.pattern}$"},
            ],
            "description": "Two-decimal score on the complexity scale, 0.00 (elementary) to 1.00 (PhD level).",
        }
    ),
]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Section(_Strict):
    title: Annotated[str, Field(pattern=r"^Section [1-5]\b", description='Starts with "Section N", N = 1..5 in order.')]
    content: Annotated[list[NonEmpty], Field(min_length=N_BULLETS, max_length=N_BULLETS)]
    topics: Annotated[list[NonEmpty], Field(min_length=N_SECTION_TOPICS, max_length=N_SECTION_TOPICS)]


class GeneralTopic(_Strict):
    name: GeneralTopicName
    complexity: Complexity


class Summary(_Strict):
    """One video's summary, exactly the user's template."""

    introduction: NonEmpty
    sections: Annotated[list[Section], Field(min_length=N_SECTIONS, max_length=N_SECTIONS)]
    topics: Annotated[list[NonEmpty], Field(min_length=N_TOPICS, max_length=N_TOPICS)]
    generalTopics: Annotated[list[GeneralTopic], Field(min_length=N_GENERAL_TOPICS, max_length=N_GENERAL_TOPICS)]

    @model_validator(mode="after")
    def _sections_in_order(self) -> Summary:
        for number, section in enumerate(self.sections, start=1):
            if not re.match(rf"Section {number}\b", section.title):
                raise ValueError(f'section {number} title {section.title!r} must start with "Section {number}"')
        names = [topic.name for topic in self.generalTopics]
        if len(set(names)) != len(names):
            raise ValueError("generalTopics must name three different topics")
        return self


def json_schema() -> dict[str, Any]:
    """The contract as JSON Schema (what `tubescribe schema` prints and the LLM is asked to follow)."""
    schema = Summary.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "tubescribe video summary"
    return schema


def inlined_schema() -> dict[str, Any]:
    """`json_schema()` with every `$ref` replaced by the definition it names and no `$defs`.

    What servers get: the grammar converters of local servers (llama.cpp's among them) follow `$ref`
    loosely or not at all, and dropped the rules behind one (5 topics became 3). Every rule is kept.
    """
    schema = json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                merged = {**defs[ref.removeprefix("#/$defs/")], **{k: v for k, v in node.items() if k != "$ref"}}
                return inline(merged)
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    return dict(inline(schema))


def parse_summary(data: str | bytes | dict[str, Any]) -> Summary:
    """Validate a summary given as JSON text or a parsed object; raise ContractError naming each broken rule."""
    try:
        if isinstance(data, dict):
            return Summary.model_validate(data)
        return Summary.model_validate_json(data)
    except ValidationError as exc:
        raise ContractError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "summary"
        problems.append(f"{where}: {error['msg']}")
    return "summary breaks the contract: " + "; ".join(problems)


def dump_summary(summary: Summary) -> str:
    """Canonical JSON for a summary, complexity written as a number."""
    data = summary.model_dump(mode="python")
    for topic in data["generalTopics"]:
        topic["complexity"] = float(topic["complexity"])
    return json.dumps(data, ensure_ascii=False)


def complexity_label(value: Decimal) -> str:
    """The scale's name for a complexity score."""
    label = COMPLEXITY_SCALE[0][1]
    for floor, name in COMPLEXITY_SCALE:
        if value >= floor:
            label = name
    return label

"""docs/catalog.md describes the catalog as a fresh one has it: every table, view and column, and the
summary contract's fields land in the columns the docs say. Checked against DuckDB's own description of
a catalog made by the migrations, so docs, DDL and contract cannot drift apart unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tubescribe.catalog.connection import connect_read_only, writer
from tubescribe.contract import GeneralTopic, Section, Summary
from tubescribe.settings import Settings

DOC = (Path(__file__).resolve().parents[1] / "docs" / "catalog.md").read_text(encoding="utf-8")
INTERNAL = {"schema_migrations"}  # documented in prose at the top of the page


@pytest.fixture(scope="module")
def described(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, list[str]]]:
    """name -> (BASE TABLE | VIEW, columns) of a catalog made from scratch by the migrations."""
    settings = Settings.load(home=tmp_path_factory.mktemp("docs") / "home")
    with writer(settings):
        pass
    con = connect_read_only(settings)
    try:
        kinds = dict(
            con.execute(
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_catalog = 'catalog' AND table_schema = 'main'"
            ).fetchall()
        )
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = 'catalog' AND table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall():
            columns.setdefault(table, []).append(column)
    finally:
        con.close()
    return {name: (kind, columns.get(name, [])) for name, kind in kinds.items()}


def _table_sections() -> dict[str, str]:
    """Each `### `name`[, `name`]` heading's text, under every name it lists."""
    sections: dict[str, str] = {}
    for block in re.split(r"^### ", DOC, flags=re.M)[1:]:
        heading, _, body = block.partition("\n")
        for name in re.findall(r"`([a-z_]+)`", heading.split(" — ")[0]):
            sections[name] = body.split("\n## ")[0]
    return sections


def _view_rows() -> dict[str, str]:
    """Each view's row in the views tables: name -> its columns cell."""
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]* \| ([^\n]*) \|$", DOC, flags=re.M)
    return dict(rows)


def test_every_table_and_view_is_documented(described):
    documented = set(_table_sections()) | set(_view_rows())
    missing = sorted(set(described) - documented - INTERNAL)
    assert not missing, f"not in docs/catalog.md: {missing}"


def test_every_column_of_every_table_is_documented(described):
    sections = _table_sections()
    for name, (kind, columns) in described.items():
        if kind != "BASE TABLE" or name in INTERNAL:
            continue
        # A row may document several columns at once ("| summary_id, video_id | VARCHAR | as above |").
        rows = {
            c for cell in re.findall(r"^\| ([a-z_0-9, ]+) \|", sections[name], flags=re.M) for c in cell.split(", ")
        }
        missing = [c for c in columns if c not in rows]
        assert not missing, f"{name}: columns not in docs/catalog.md: {missing}"


def test_every_column_of_every_view_is_documented(described):
    views = _view_rows()
    for name, (kind, columns) in described.items():
        if kind != "VIEW":
            continue
        cell = views[name]
        listed = set(re.findall(r"\b([a-z_][a-z_0-9]*)\b", cell))
        if "every `summaries` column" in cell:
            listed |= set(described["summaries"][1]) - ({"is_latest"} if "but is_latest" in cell else set())
        missing = [c for c in columns if c not in listed]
        assert not missing, f"view {name}: columns not in docs/catalog.md: {missing}"


def _leaves(model, prefix="") -> list[str]:
    found = []
    for field, info in model.model_fields.items():
        inner = {Section: Section, GeneralTopic: GeneralTopic}
        kind = next((m for m in inner if m.__name__ in str(info.annotation)), None)
        found += _leaves(kind, f"{prefix}{field}.") if kind else [f"{prefix}{field}"]
    return found


# Where each field of the contract lands (table.column): the one map from the model to the catalog.
CONTRACT_COLUMNS = {
    "introduction": "summaries.introduction",
    "sections.title": "summary_sections.title",
    "sections.content": "section_bullets.text",
    "sections.topics": "section_topics.topic",
    "topics": "topic_tags.tag",
    "generalTopics.name": "general_topics.name",
    "generalTopics.complexity": "general_topics.complexity",
}


def test_every_field_of_the_contract_has_a_column(described):
    assert sorted(_leaves(Summary)) == sorted(CONTRACT_COLUMNS), "the contract changed: map its new field here"
    for field, place in CONTRACT_COLUMNS.items():
        table, column = place.split(".")
        assert column in described[table][1], f"{field} should land in {place}"
        assert re.search(rf"^\| ([a-z_, ]+, )?{column}( ,[a-z_, ]+)? \|", _table_sections()[table], flags=re.M), place

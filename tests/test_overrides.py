"""Run-time settings overrides are declared once (settings.OVERRIDES): the DAG params, the CLI options and the
settings a task builds from its params all follow that one list, so an override cannot exist in one place only."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import typer

from tubescribe.cli.app import app
from tubescribe.orchestration import tasks
from tubescribe.pipeline.steps import settings_from_params
from tubescribe.settings import OVERRIDES, Settings

DECLARED = {override.name for override in OVERRIDES}
SETTING_FIELDS = {field.name for field in dataclasses.fields(Settings)}


def _options(command: str) -> set[str]:
    """The names of a CLI command's parameters that are settings (not its own --since, --limit, ...)."""
    group = typer.main.get_command(app)
    return {param.name for param in group.commands[command].params if param.name in SETTING_FIELDS}  # type: ignore[attr-defined]


def _value(name: str) -> str:
    [override] = [o for o in OVERRIDES if o.name == name]
    # Not the default, so the test sees the override take effect.
    return override.choices[-1] if override.choices else "some-other-model"


def test_every_override_is_a_setting() -> None:
    assert DECLARED and DECLARED <= SETTING_FIELDS


def test_the_dag_params_are_the_declared_overrides() -> None:
    assert set(tasks.setting_params()) == DECLARED


def test_ingest_has_an_option_for_every_override_and_no_other_setting() -> None:
    assert _options("ingest") == DECLARED


@pytest.mark.parametrize("command", ["resummarize", "demo"])
def test_other_commands_override_only_declared_settings(command: str) -> None:
    assert _options(command) and _options(command) <= DECLARED


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_a_run_param_overrides_its_setting(home: Path, name: str) -> None:
    assert getattr(settings_from_params({name: _value(name)}), name) == _value(name)
    # None (the DAG's default) means the environment's setting.
    assert getattr(settings_from_params({name: None}), name) == getattr(Settings.load(), name)


def test_run_overrides_hand_every_override_on_and_a_task_gets_the_same_settings(home: Path) -> None:
    chosen = Settings.load(**{name: _value(name) for name in DECLARED})
    handed = chosen.run_overrides()
    assert set(handed) == DECLARED
    assert settings_from_params(handed) == chosen


def test_a_param_with_choices_refuses_any_other_value() -> None:
    from airflow.sdk.definitions.param import ParamValidationError

    for override in OVERRIDES:
        param = tasks.setting_params()[override.name]
        assert param.resolve(None) is None
        for choice in override.choices:
            assert param.resolve(choice) == choice
        if override.choices:
            with pytest.raises(ParamValidationError):
                param.resolve("nope")


def test_a_resolved_param_does_not_become_the_next_dags_default() -> None:
    # Param.resolve keeps what it resolved: Params shared between DAGs made one value every DAG's default
    # (a test that resolved "openai" turned the next dag.test() runs' summarizer to openai).
    override = next(o for o in OVERRIDES if o.choices)
    tasks.setting_params()[override.name].resolve(override.choices[-1])
    assert tasks.setting_params()[override.name].resolve() is None  # the default, not the value resolved above

"""Settings: read from the environment when asked, bad values refused with the variable's name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tubescribe.settings import Settings, SettingsError


def test_long_audio_is_transcribed_in_five_minute_windows_by_default(home: Path) -> None:
    assert Settings.load().whisper_chunk_s == 300


@pytest.mark.parametrize("value, expected", [("120", 120.0), ("90.5", 90.5), ("0", 0.0)])
def test_window_length_is_read_from_the_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: float
) -> None:
    monkeypatch.setenv("TUBESCRIBE_WHISPER_CHUNK_S", value)
    assert Settings.load().whisper_chunk_s == expected


@pytest.mark.parametrize("value", ["30", "-1", "ten"])
def test_window_length_below_a_minute_or_not_a_number_is_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TUBESCRIBE_WHISPER_CHUNK_S", value)
    with pytest.raises(SettingsError, match="TUBESCRIBE_WHISPER_CHUNK_S"):
        Settings.load()


def test_batched_inference_is_off_by_default_and_read_from_the_environment(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings.load().whisper_batch_size == 0
    monkeypatch.setenv("TUBESCRIBE_WHISPER_BATCH_SIZE", "8")
    assert Settings.load().whisper_batch_size == 8


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TUBESCRIBE_WHISPER_BATCH_SIZE": "-2"}, "BATCH_SIZE must be 0"),
        (
            {"TUBESCRIBE_WHISPER_BATCH_SIZE": "8", "TUBESCRIBE_WHISPER_VAD": "false"},
            "needs TUBESCRIBE_WHISPER_VAD=true",
        ),
    ],
)
def test_a_batch_size_that_cannot_work_is_refused(
    home: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.load()

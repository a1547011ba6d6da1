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

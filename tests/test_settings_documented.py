"""Every setting the package reads is documented in .env.example, so the file users copy is the whole list."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A setting is an environment variable of ours spelled out in the package's source.
NAME = re.compile(r"[\"'](TUBESCRIBE_[A-Z0-9_]*[A-Z0-9]|OPENAI_[A-Z_]+)[\"']")


def _read_in_package() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "plugins" / "tubescribe").rglob("*.py"):
        found.update(NAME.findall(path.read_text(encoding="utf-8")))
    return found


def _documented() -> set[str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))


def test_every_setting_read_is_in_env_example():
    missing = _read_in_package() - _documented()
    assert not missing, f"read by the package but not in .env.example: {', '.join(sorted(missing))}"


def test_the_check_finds_settings():
    # Guards the guard: a pattern that matched nothing would pass the test above vacuously.
    assert {"TUBESCRIBE_HOME", "TUBESCRIBE_WHISPER_MODEL", "TUBESCRIBE_STORE_URL"} <= _read_in_package()

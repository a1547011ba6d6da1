"""Shared fixtures: a temp $TUBESCRIBE_HOME, the sample channel on loopback, an embedded Airflow.

Airflow reads its configuration once, when first imported, so this module points it at a
session-wide temporary home before any test module imports a DAG.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

_AIRFLOW_SESSION_HOME = Path(tempfile.mkdtemp(prefix="tubescribe-test-airflow-"))
os.environ["TUBESCRIBE_HOME"] = str(_AIRFLOW_SESSION_HOME)
from fake_openai import FakeOpenAI  # noqa: E402
from openai_support import KEY as OPENAI_KEY  # noqa: E402
from tubescribe.orchestration import embedded as airflow_env  # noqa: E402
from tubescribe.settings import Settings  # noqa: E402
from tubescribe.store import Store  # noqa: E402

airflow_env.configure(Settings.load())

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO / "plugins" / "tubescribe" / "sample_channel"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty $TUBESCRIBE_HOME for one test."""
    path = tmp_path / "home"
    monkeypatch.setenv("TUBESCRIBE_HOME", str(path))
    for name in list(os.environ):
        if name.startswith("TUBESCRIBE_") and name != "TUBESCRIBE_HOME":
            monkeypatch.delenv(name)
    return path


@pytest.fixture
def settings(home: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings of the test's fresh home, with quick retries (a test never waits out the real backoff)."""
    monkeypatch.setenv("TUBESCRIBE_RETRY_BASE_S", "0.01")
    return Settings.load()


@pytest.fixture
def store(settings: Settings) -> Store:
    """The artifact store of the test's home."""
    return Store(settings)


@pytest.fixture
def sample_feed() -> Iterator[str]:
    """The whole sample channel served on 127.0.0.1; yields the feed URL."""
    from tubescribe.sample import serve_sample_channel

    with serve_sample_channel() as url:
        yield url


@pytest.fixture
def small_feed() -> Iterator[str]:
    """A feed with the two shortest sample videos (rust: webm/opus, react: mp4 with a video track)."""
    from tubescribe.sample import serve_sample_channel

    with serve_sample_channel(only=["rust", "react"]) as url:
        yield url


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database, migrated once per test session."""
    airflow_env.initialise(Settings.load(home=_AIRFLOW_SESSION_HOME))
    return _AIRFLOW_SESSION_HOME / "airflow"


# -- the OpenAI-compatible summarizer's tests (tests/test_openai_*.py, helpers in openai_support.py) ---
@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    """A scripted OpenAI-compatible server on loopback."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The key in the environment, Airflow's home private, and no other OpenAI settings leaking in."""
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    for name in ("OPENAI_BASE_URL", "AIRFLOW_CONN_OPENAI_DEFAULT", "OPENAI_LOG"):
        monkeypatch.delenv(name, raising=False)

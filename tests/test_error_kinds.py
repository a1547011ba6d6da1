"""A failure's kind is declared by the exception class that raises it (issue 11, item 12; STYLE.md 11).

`classify` reads messages only for third-party errors; one rule for HTTP 429, wherever it happens.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yt_dlp

from fake_openai import FakeOpenAI, completion
from openai_support import VALID, short, summarizer, video
from tubescribe import errors
from tubescribe.errors import (
    DeferredError,
    DiskFullError,
    Kind,
    NotMediaError,
    TubescribeError,
    classify,
    disk_full_as,
    hint,
)
from tubescribe.stages.discover import DiscoverError
from tubescribe.stages.summarize.openai.summarizer import REPAIR_ANSWER_CHARS
from tubescribe.stages.transcribe.whisper import TranscribeError
from tubescribe.store import write_text


class _Ours(TubescribeError):
    kind = Kind.DEFERRED


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (DeferredError, Kind.DEFERRED),
        (NotMediaError, Kind.PERMANENT),
        (TranscribeError, Kind.PERMANENT),
        (DiscoverError, Kind.PERMANENT),
        (_Ours, Kind.DEFERRED),
    ],
)
def test_our_errors_carry_the_kind_their_class_declares(cls: type[TubescribeError], kind: Kind) -> None:
    assert classify(cls("x")) is kind


def test_a_class_kind_wins_over_words_in_its_message() -> None:
    # A message quoting a platform must not change what our class already decided.
    assert classify(_Ours("HTTP Error 429: Too Many Requests")) is Kind.DEFERRED
    assert classify(NotMediaError("connection timed out while reading")) is Kind.PERMANENT


def test_an_instance_may_carry_the_kind_of_the_third_party_error_it_wraps() -> None:
    original = yt_dlp.utils.DownloadError("ERROR: HTTP Error 429: Too Many Requests")
    wrapped = DiscoverError("could not list", kind=classify(original))
    assert wrapped.kind is Kind.BLOCKED
    assert not wrapped.transient
    assert DiscoverError("x").kind is Kind.PERMANENT, "an instance's kind must not leak into the class"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        # One rule for 429: listing or downloading, it is a block, never a transient retry.
        ("[generic] feed: Unable to download webpage: HTTP Error 429: Too Many Requests", Kind.BLOCKED),
        ("ERROR: unable to download video data: HTTP Error 429: Too Many Requests", Kind.BLOCKED),
        ("HTTP Error 401: Unauthorized (caused by <HTTPError 401: Unauthorized>)", Kind.PERMANENT),
        ("HTTP Error 403: Forbidden (caused by <HTTPError 403: Forbidden>)", Kind.PERMANENT),
        ("file:// URLs are disabled by default in yt-dlp for security reasons.", Kind.PERMANENT),
        ("No connection adapters were found for 'file:///etc/hostname'", Kind.PERMANENT),
        ("Did not get any data blocks", Kind.PERMANENT),
        ("HTTP Error 503: Service Unavailable", Kind.TRANSIENT),
        ("Read timed out", Kind.TRANSIENT),
    ],
)
def test_a_third_party_error_is_classified_by_its_message(message: str, kind: Kind) -> None:
    assert classify(yt_dlp.utils.DownloadError(message)) is kind


def test_disk_full_from_the_os_or_sqlite_is_its_own_error() -> None:
    import errno
    import sqlite3

    assert classify(OSError(errno.ENOSPC, "No space left on device")) is DiskFullError.kind
    assert classify(sqlite3.OperationalError("database or disk is full")) is DiskFullError.kind
    message = str(DiskFullError("/data/home", "writing a transcript"))
    assert "/data/home" in message and "free" in message


def test_401_advises_checking_the_key_and_403_access() -> None:
    assert "check the key" in hint("HTTP Error 401: Unauthorized")
    assert "403" in hint("HTTP Error 403: Forbidden")
    assert hint("HTTP Error 404: Not Found") == ""


def test_classify_names_no_class_as_a_string() -> None:
    """No table of class names: a renamed class would silently lose its kind."""
    tree = ast.parse(inspect.getsource(errors))
    ours = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    ours |= {"DownloadError", "TranscribeError", "ContractError", "SummaryContractError", "SummaryRefusedError"}
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not ours & strings
    assert "__name__" not in inspect.getsource(errors.classify)


def test_a_repair_request_quotes_a_runaway_answer_only_as_a_bounded_excerpt(
    tmp_path: Path, openai_server: FakeOpenAI, openai_env: None
) -> None:
    runaway = "Here is the summary. " + "and then " * 20_000 + "THE END"
    openai_server.script(completion(runaway), completion(VALID))
    summarizer(tmp_path, openai_server).summarize(video(), short())
    _, repair = openai_server.chat_requests()
    quoted = repair.messages[-2]["content"]
    assert len(quoted) <= REPAIR_ANSWER_CHARS + 100
    assert quoted.startswith("Here is the summary.") and quoted.endswith("THE END"), "head and tail both kept"
    assert "characters cut" in quoted
    assert len(repair.last_user_text) < 5000


# -- a full disk (issue 11, item 11) ----------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 20 MB filesystem (tmpfs), so writes fail with the kernel's own ENOSPC."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as handle:
        while True:
            handle.write(b"\0" * 65536)
    return filler


def test_a_write_on_a_full_disk_names_the_path_and_keeps_what_was_stored(small_disk: Path) -> None:
    record = small_disk / "work" / "v1" / "video.json"
    write_text(record, '{"video_id": "v1"}')
    _fill(small_disk)
    with pytest.raises(DiskFullError) as raised, disk_full_as(record.parent, "writing video.json"):
        write_text(record, '{"video_id": "v1", "title": "' + "x" * 200_000 + '"}')
    assert str(record.parent) in str(raised.value) and "free" in str(raised.value)
    assert record.read_text() == '{"video_id": "v1"}', "the stored record must survive the failed rewrite"
    assert [p.name for p in record.parent.iterdir()] == ["video.json"], "no half-written temporary file left"


FIRST_USE = """
from tubescribe.orchestration import embedded as airflow_env
from tubescribe.settings import Settings
settings = Settings.load()
airflow_env.configure(settings)
try:
    airflow_env.initialise(settings)
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}")
    raise SystemExit(3)
print("ready")
"""


@pytest.mark.slow
def test_airflow_first_use_on_a_full_disk_says_what_to_free_then_works_once_freed(small_disk: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUBESCRIBE_", "AIRFLOW"))}
    env["TUBESCRIBE_HOME"] = str(small_disk / "home")
    filler = _fill(small_disk)
    full = subprocess.run([sys.executable, "-c", FIRST_USE], env=env, capture_output=True, text=True, timeout=300)
    assert full.returncode == 3, full.stdout + full.stderr[-3000:]
    assert full.stdout.startswith("DiskFullError: no space left on the disk holding " + str(small_disk / "home"))
    assert "free some space" in full.stdout
    filler.unlink()
    freed = subprocess.run([sys.executable, "-c", FIRST_USE], env=env, capture_output=True, text=True, timeout=300)
    assert freed.stdout.strip().endswith("ready"), freed.stdout + freed.stderr[-3000:]

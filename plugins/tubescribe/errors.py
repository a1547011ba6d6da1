"""What kind of failure a video hit, and therefore what to do about it.

- permanent: private, deleted, members-only, geo-blocked, age-gated, unsupported, corrupt media, or a
  model that cannot do the job as configured. Recorded; the nightly run does not retry it (an explicit
  backfill does).
- deferred: an upcoming premiere or a live stream. Retried on a later run, not counted against it.
- transient: network trouble, 5xx, timeouts, a garbled answer. Retried with backoff now, then on the
  next run, until `TUBESCRIBE_MAX_ATTEMPTS` runs have failed; then it becomes permanent.
- blocked: the platform rate-limits us or asks to prove we are human. Every further request to that
  platform stops for `TUBESCRIBE_BLOCK_COOLDOWN_S`; its videos stay pending.

yt-dlp reports most of these only as message text, so the patterns below quote its real messages.
Order matters: "Private video. Sign in if you've been granted access" and "Sign in to confirm your
age" are permanent, and only "Sign in to confirm you're not a bot" is a block.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from enum import StrEnum


class Kind(StrEnum):
    PERMANENT = "permanent"
    DEFERRED = "deferred"
    TRANSIENT = "transient"
    BLOCKED = "blocked"


class TubescribeError(Exception):
    """Base of tubescribe's own errors: each class declares its kind, so no rule guesses it from a name.

    A class whose meaning depends on what a third party said (a yt-dlp message wrapped by discover or
    download) passes `kind=classify(original)` for that one instance.
    """

    kind: Kind = Kind.PERMANENT

    def __init__(self, message: str, *, kind: Kind | None = None) -> None:
        super().__init__(message)
        if kind is not None:
            self.kind = kind

    @property
    def transient(self) -> bool:
        """Worth retrying soon (network trouble), as opposed to blocked, deferred or permanent."""
        return self.kind is Kind.TRANSIENT


class DeferredError(TubescribeError):
    """The video is not available yet (upcoming premiere, live now); try again on a later run."""

    kind = Kind.DEFERRED


class NotMediaError(TubescribeError):
    """A download is empty or not audio/video at all (an HTML page, a text file): fetching again gives the same."""

    kind = Kind.PERMANENT


class DiskFullError(TubescribeError):
    """A disk ran out of space: nothing was half-written, and the run can go on once space is freed."""

    kind = Kind.TRANSIENT

    def __init__(self, path: object, what: str = "") -> None:
        super().__init__(
            f"no space left on the disk holding {path}{f' ({what})' if what else ''}: free some space there "
            "(for example media under <home>/media of videos you will not re-transcribe) or point TUBESCRIBE_HOME / "
            "TUBESCRIBE_SCRATCH_DIR at a bigger disk, then run again; nothing already stored was lost"
        )
        self.path = path


@contextlib.contextmanager
def disk_full_as(path: object, what: str = "") -> Iterator[None]:
    """Turn running out of disk space inside the block into a DiskFullError naming `path`.

    One rule for every writer (the store, the catalog, Airflow's metadata): callers print its
    message, not a traceback of `[Errno 28]` or SQLite's `database or disk is full`.
    """
    try:
        yield
    except DiskFullError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise DiskFullError(path, what) from exc
        raise


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC from the OS, or SQLite/DuckDB saying the same in words."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return bool(_DISK_FULL.search(str(exc)))


_DISK_FULL = re.compile(r"database or disk is full|No space left on device|\[Errno 28\]|disk quota exceeded", re.I)


# Third-party messages only (yt-dlp, urllib, PyAV): our own errors carry their kind. yt-dlp words a 429
# the same while listing and while downloading, and it is always a block: retrying it only digs deeper.
_RULES: tuple[tuple[re.Pattern[str], Kind], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"confirm you.?re not a bot", Kind.BLOCKED),
        (r"HTTP Error 429|Too Many Requests|rate.?limit", Kind.BLOCKED),
        (r"Private video|This video is private", Kind.PERMANENT),
        (r"Sign in to confirm your age|age.?restricted|inappropriate for some users", Kind.PERMANENT),
        (r"members.?only|available to this channel's members|Join this channel", Kind.PERMANENT),
        (r"not made this video available in your country|geo.?restrict|not available in your country", Kind.PERMANENT),
        (
            r"Premieres? in|will begin in|This live event|is_upcoming|is_live|live stream recording is not",
            Kind.DEFERRED,
        ),
        (
            r"Video unavailable|video is (no longer |not |un)available|has been removed|account .* terminated|"
            r"copyright claim",
            Kind.PERMANENT,
        ),
        # file:// (an enclosure, or a redirect to one) is refused by yt-dlp and urllib alike, and always will be.
        (
            r"file:// URLs are disabled|file URLs? (are|is) (disabled|not allowed)|unsafe redirect|"
            r"unknown url type|Unsupported url scheme|No connection adapters were found for 'file:",
            Kind.PERMANENT,
        ),
        # yt-dlp's words for a 200 answer with no body: an empty file, served the same next time.
        (r"Did not get any data blocks", Kind.PERMANENT),
        (r"Unsupported URL|HTTP Error 4(00|01|03|04|10)\b|\b40[13]:? (Unauthorized|Forbidden)", Kind.PERMANENT),
        (
            r"timed? ?out|Connection (refused|reset|aborted)|Temporary failure|HTTP Error 5\d\d|Remote end closed|"
            r"IncompleteRead|bytes read|Network is unreachable|Got error",
            Kind.TRANSIENT,
        ),
    )
)

# What to tell the user beside a platform's refusal: the message alone does not say it is ours to fix.
_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"HTTP Error 401|\b401:? Unauthorized", re.I),
        "the server wants credentials (HTTP 401): check the key or cookies (TUBESCRIBE_COOKIES_FILE)",
    ),
    (
        re.compile(r"HTTP Error 403|\b403:? Forbidden", re.I),
        "the server refuses access (HTTP 403): check the key or cookies, or whether the item is public",
    ),
)


def classify(exc: BaseException) -> Kind:
    """The kind of a failure: our own errors declare theirs; a third party's is read from its message."""
    if isinstance(exc, TubescribeError):
        return exc.kind
    if is_disk_full(exc):
        return DiskFullError.kind
    message = str(exc)
    for pattern, kind in _RULES:
        if pattern.search(message):
            return kind
    return Kind.TRANSIENT


def hint(message: str) -> str:
    """A short what-to-do for a third party's refusal (401, 403), or "" when its message says enough."""
    for pattern, text in _HINTS:
        if pattern.search(message):
            return text
    return ""


_SECRET = re.compile(
    # A Cookie header holds many cookies separated by ';': everything to the end of the line goes.
    r"(?i)((?:set-)?cookie\s*[:=]\s*)[^\n]+"
    r"|((?:authorization|x-api-key|api[_-]?key)\s*[:=]\s*)[^\n,;]+"
    r"|(\b(?:sk|key)-[A-Za-z0-9_-]{8,})"
    r"|([?&](?:sig|signature|token|key|auth)=)[^&\s]+"
)


def redact(text: str) -> str:
    """Text fit for logs and the catalog: cookies, auth headers, API keys and URL tokens removed."""
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2) or m.group(4) or "") + "<redacted>", text)

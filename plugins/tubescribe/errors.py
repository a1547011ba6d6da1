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

import re
from enum import StrEnum


class Kind(StrEnum):
    PERMANENT = "permanent"
    DEFERRED = "deferred"
    TRANSIENT = "transient"
    BLOCKED = "blocked"


class DeferredError(RuntimeError):
    """The video is not available yet (upcoming premiere, live now); try again on a later run."""


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
        (r"Unsupported URL|HTTP Error 4(00|01|03|04|10)\b", Kind.PERMANENT),
        (
            r"timed? ?out|Connection (refused|reset|aborted)|Temporary failure|HTTP Error 5\d\d|Remote end closed|"
            r"IncompleteRead|bytes read|Did not get any data|Network is unreachable|Got error",
            Kind.TRANSIENT,
        ),
    )
)

# Our own error classes whose meaning does not depend on the message.
_BY_CLASS: dict[str, Kind] = {
    "DeferredError": Kind.DEFERRED,
    "TranscribeError": Kind.PERMANENT,  # corrupt or undecodable media; the file is removed so a rerun refetches
    "ContractError": Kind.TRANSIENT,
    "SummaryContractError": Kind.TRANSIENT,  # a model may answer better next time; attempts cap it
    "SummaryRefusedError": Kind.PERMANENT,
    "ContextLengthError": Kind.PERMANENT,
    "TruncatedAnswerError": Kind.PERMANENT,
    "UnsafePathError": Kind.PERMANENT,
}


def classify(exc: BaseException) -> Kind:
    """The kind of a failure, from the platform's message first, then our own error class."""
    message = str(exc)
    for pattern, kind in _RULES:
        if pattern.search(message):
            return kind
    return _BY_CLASS.get(type(exc).__name__, Kind.TRANSIENT)


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

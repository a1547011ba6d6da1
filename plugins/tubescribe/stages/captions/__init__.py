"""Captions first: a video's own captions as its transcript, when they are good enough, so no media is fetched.

The download task lists the video with yt-dlp and calls `from_captions` before it downloads audio.
Tracks are tried best first (the creator's uploaded ones, then, when the policy allows, the
platform's automatic ones in the spoken language; never machine translations or live chat), at most
MAX_TRIES of them. Whatever happens, the CaptionCheck says in words why captions were used or why
Whisper is needed. Only a rate limit (HTTP 429) raises: CaptionsBlocked, so the platform is paused.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tubescribe.records import CaptionCheck, Transcript, Video
from tubescribe.stages.captions.clean import clean_cues, to_segments
from tubescribe.stages.captions.fetch import CaptionsBlocked, FetchRejected, fetch_text
from tubescribe.stages.captions.parse import CaptionParseError, parse_captions
from tubescribe.stages.captions.quality import judge
from tubescribe.stages.captions.tracks import POLICY_KINDS, Track, candidates

if TYPE_CHECKING:
    import yt_dlp

__all__ = ["CAPTION_KEYS", "CaptionResult", "CaptionsBlocked", "allowed_keys", "from_captions"]

log = logging.getLogger(__name__)

CAPTION_KEYS: dict[str, str] = {"uploaded": "captions-uploaded", "automatic": "captions-automatic"}
# Three fetches bound the time and requests spent on a video whose captions keep failing.
MAX_TRIES = 3


@dataclass(frozen=True)
class CaptionResult:
    transcript: Transcript | None  # set when captions were accepted
    check: CaptionCheck  # always set


class _Rejected(Exception):
    """One track failed; the message names the rule."""


def allowed_keys(policy: str) -> tuple[str, ...]:
    """The settings keys of caption transcripts that `policy` accepts, in preference order."""
    return tuple(CAPTION_KEYS[kind] for kind in _kinds(policy))


def from_captions(
    video: Video,
    info: dict[str, Any],
    ydl: yt_dlp.YoutubeDL,
    policy: str,
    languages: tuple[str, ...],
    pause_s: float = 0.0,
) -> CaptionResult:
    """The video's transcript from its captions, or None with the reason; raises CaptionsBlocked on HTTP 429."""
    started = time.perf_counter()
    if not _kinds(policy):
        return _decided(video, policy, "off", "TUBESCRIBE_CAPTIONS is off: Whisper transcribes every video")
    choice = candidates(info, policy, languages)
    if not choice.tracks:
        return _decided(video, policy, "absent", choice.reason)
    duration = _duration(info, video)
    failures: list[str] = []
    for track in choice.tracks[:MAX_TRIES]:
        try:
            transcript, reason = _read(video, track, ydl, pause_s, duration)
        except _Rejected as exc:
            failures.append(f"{track.label}: {exc}")
            continue
        log.info("%s: captions used: %s", video.video_id, reason)
        transcript = transcript.model_copy(update={"elapsed_s": round(time.perf_counter() - started, 3)})
        return CaptionResult(transcript, _check(video, policy, "used", reason, track))
    log.info("%s: captions not used: %s", video.video_id, "; ".join(failures))
    return _decided(video, policy, "rejected", "; ".join(failures), choice.tracks[0])


def _read(
    video: Video, track: Track, ydl: yt_dlp.YoutubeDL, pause_s: float, duration: float | None
) -> tuple[Transcript, str]:
    """The transcript one track gives and why it passed; _Rejected when it does not."""
    try:
        text = fetch_text(video.video_id, track, ydl, pause_s)
        cues = parse_captions(text, track.ext)
    except (FetchRejected, CaptionParseError) as exc:
        raise _Rejected(str(exc)) from None
    cleaned = clean_cues(cues, rolling=track.kind == "automatic" and track.ext == "vtt")
    verdict = judge(cleaned, duration)
    if not verdict.accepted:
        raise _Rejected(verdict.reason)
    segments = to_segments(cleaned.cues)
    transcript = Transcript(
        video_id=video.video_id,
        language=track.base_language,
        language_probability=None,
        audio_duration_s=round(duration or segments[-1].end_s, 3),
        model="captions",
        settings_key=CAPTION_KEYS[track.kind],
        segments=segments,
        transcribed_at=datetime.now(UTC),
        elapsed_s=0.0,
        source="captions",
        caption_kind=track.kind,
        caption_track=track.language,
        caption_format=track.ext,
    )
    return transcript, f"{track.label}: {verdict.reason}"


def _kinds(policy: str) -> tuple[str, ...]:
    if policy not in POLICY_KINDS:
        raise ValueError(f"caption policy {policy!r} is not one of {', '.join(POLICY_KINDS)}: set TUBESCRIBE_CAPTIONS")
    return POLICY_KINDS[policy]


def _duration(info: dict[str, Any], video: Video) -> float | None:
    duration = info.get("duration")
    if isinstance(duration, int | float) and duration > 0:
        return float(duration)
    return video.duration_s if video.duration_s and video.duration_s > 0 else None


def _decided(video: Video, policy: str, outcome: str, reason: str, track: Track | None = None) -> CaptionResult:
    return CaptionResult(None, _check(video, policy, outcome, reason, track))


def _check(video: Video, policy: str, outcome: str, reason: str, track: Track | None) -> CaptionCheck:
    return CaptionCheck(
        video_id=video.video_id,
        policy=policy,
        outcome=outcome,
        reason=reason,
        kind=track.kind if track else None,
        language=track.base_language if track else None,
        track=track.language if track else None,
        format=track.ext if track else None,
        checked_at=datetime.now(UTC),
    )

"""Whether a caption track is good enough to replace Whisper, and the reason in words either way.

A track can parse and still be useless: empty, a few cues on a long video (a creator's partial
upload, a truncated download), or only `[Music]`. Half the video's length covered by cues is the bar:
speech rarely fills a video wall to wall, but captions of a talk cover 80-100 % of it, and a track
under half is more likely incomplete than a video that is mostly silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from tubescribe.stages.captions.clean import Cleaned, speech_seconds

MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str  # "212 cues cover 96 % of 182 s", or the rule the track failed


def judge(cleaned: Cleaned, duration_s: float | None) -> Verdict:
    """Accept `cleaned` when it has speech, is not mostly sound labels, and covers enough of the video."""
    count = len(cleaned.cues)
    if not count:
        what = "only sound labels such as [Music]" if cleaned.non_speech else "no text"
        return Verdict(False, f"{what}, no speech")
    if cleaned.non_speech > count:
        return Verdict(False, f"mostly sound labels: {cleaned.non_speech} of {count + cleaned.non_speech} cues")
    spoken = speech_seconds(cleaned.cues, duration_s)
    if not duration_s:
        return Verdict(True, f"{count} cues over {spoken:.0f} s (the video's length is unknown)")
    coverage = min(spoken / duration_s, 1.0)
    summary = f"{_percent(coverage)} of {duration_s:.0f} s"
    if coverage < MIN_COVERAGE:
        return Verdict(False, f"coverage {summary} is under {_percent(MIN_COVERAGE)}")
    return Verdict(True, f"{count} cues cover {summary}")


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"

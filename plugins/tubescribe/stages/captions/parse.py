"""Caption files read into timed cues, one reader per format, with times kept to the millisecond.

The text of a cue is returned as the file has it (inline tags, entities): clean.py makes it speech.
A file that does not read as its format raises CaptionParseError, so the caller falls back to
Whisper instead of storing half a transcript. webvtt-py skips a cue whose timing line it cannot
read without a word, so timing lines are counted here to notice a damaged file.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# The largest caption file read: hours of speech are ~1-2 MB of json3; more is not captions.
MAX_CHARS = 20_000_000
_VTT_TIMING = re.compile(r"^[^\n]*-->[^\n]*$", re.M)
_DOCTYPE = re.compile(r"<!(DOCTYPE|ENTITY)", re.I)  # entity expansion has no place in a caption file
_CLOCK = re.compile(r"(\d+):(\d{2}):(\d{2})(?:\.(\d+)|:(\d+(?:\.\d+)?))?")
_OFFSET = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s|f|t)")
_OFFSET_SCALE = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class CaptionParseError(ValueError):
    """A caption file that does not read as the format it claims; the message says what is wrong."""


@dataclass(frozen=True)
class Cue:
    """Text shown from `start_s` to `end_s` (seconds from the start of the video)."""

    start_s: float
    end_s: float
    text: str


def parse_captions(text: str, fmt: str) -> list[Cue]:
    """The cues of a caption file in `fmt` (vtt, srt, json3, ttml, srv1, srv2, srv3), in file order."""
    if len(text) > MAX_CHARS:
        raise CaptionParseError(f"the file is larger than {MAX_CHARS // 1_000_000} MB")
    reader = _READERS.get(fmt)
    if reader is None:
        raise CaptionParseError(f"format {fmt!r} is not read")
    cues = reader(text)
    # Lenient readers (srt) turn a damaged time into a zero or a cue that ends before it starts.
    for n, cue in enumerate(cues, 1):
        if cue.start_s < 0 or cue.end_s < cue.start_s:
            raise CaptionParseError(f"cue {n} of {len(cues)} has an unreadable time span")
    return cues


def _vtt(text: str) -> list[Cue]:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise CaptionParseError(f"not WebVTT ({exc})") from None
    timings = len(_VTT_TIMING.findall(text))
    if timings != len(captions):
        raise CaptionParseError(f"{timings - len(captions)} of {timings} cue timings are unreadable")
    return [
        Cue(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000, "\n".join(c.lines))
        for c in captions
    ]


def _srt(text: str) -> list[Cue]:
    import srt

    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        raise CaptionParseError(f"not SubRip ({exc})") from None
    return [Cue(s.start.total_seconds(), s.end.total_seconds(), s.content) for s in subtitles]


def _json3(text: str) -> list[Cue]:
    try:
        events = json.loads(text)["events"]
        cues = []
        for event in events:
            # aAppend events only carry the line break between two lines of a rolling caption.
            if not isinstance(event, dict) or event.get("aAppend") or "segs" not in event:
                continue
            start = int(event["tStartMs"]) / 1000
            words = "".join(str(seg.get("utf8", "")) for seg in event["segs"])
            if words.strip():
                cues.append(Cue(start, start + int(event.get("dDurationMs", 0)) / 1000, words))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CaptionParseError(f"not json3 captions ({type(exc).__name__}: {exc})") from None
    return cues


def _xml(text: str) -> ET.Element:
    if _DOCTYPE.search(text):
        raise CaptionParseError("XML with a DOCTYPE or entity declarations is not read")
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise CaptionParseError(f"not well-formed XML ({exc})") from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _timedtext(text: str) -> list[Cue]:
    """YouTube's srv1 (`<text start dur>` in seconds), srv2 (`<text t d>`) and srv3 (`<p t d>`) in ms."""
    cues = []
    try:
        for element in _xml(text).iter():
            if _local(element.tag) not in ("text", "p"):
                continue
            words = "".join(element.itertext())
            if "start" in element.attrib:
                start, length = float(element.attrib["start"]), float(element.attrib.get("dur", 0))
            elif "t" in element.attrib:
                start, length = int(element.attrib["t"]) / 1000, int(element.attrib.get("d", 0)) / 1000
            else:
                continue
            if words.strip():
                cues.append(Cue(start, start + length, words))
    except ValueError as exc:
        raise CaptionParseError(f"unreadable cue time ({exc})") from None
    return cues


def _ttml(text: str) -> list[Cue]:
    root = _xml(text)
    if _local(root.tag) != "tt":
        raise CaptionParseError(f"not TTML (the root element is <{_local(root.tag)[:20]}>)")
    rates = {_local(k): v for k, v in root.attrib.items()}
    frame_rate = float(rates.get("frameRate", 30))
    tick_rate = float(rates.get("tickRate", 1))
    cues = []
    for p in root.iter():
        if _local(p.tag) != "p" or "begin" not in p.attrib:
            continue
        start = _ttml_time(p.attrib["begin"], frame_rate, tick_rate)
        if "end" in p.attrib:
            end = _ttml_time(p.attrib["end"], frame_rate, tick_rate)
        else:
            end = start + _ttml_time(p.attrib.get("dur", "0s"), frame_rate, tick_rate)
        words = "".join(_ttml_text(p))
        if words.strip():
            cues.append(Cue(start, end, words))
    return cues


def _ttml_time(value: str, frame_rate: float, tick_rate: float) -> float:
    value = value.strip()
    if clock := _CLOCK.fullmatch(value):
        hours, minutes, seconds, fraction, frames = clock.groups()
        total = int(hours) * 3600 + int(minutes) * 60 + int(seconds)
        return total + (float(f"0.{fraction}") if fraction else 0.0) + (float(frames) / frame_rate if frames else 0.0)
    if offset := _OFFSET.fullmatch(value):
        number, unit = float(offset.group(1)), offset.group(2)
        return (
            number / frame_rate if unit == "f" else number / tick_rate if unit == "t" else number * _OFFSET_SCALE[unit]
        )
    raise CaptionParseError(f"unreadable TTML time {value[:30]!r}")


def _ttml_text(element: ET.Element) -> Iterator[str]:
    """The text of a TTML paragraph, its <br/> as line breaks."""
    yield element.text or ""
    for child in element:
        yield "\n" if _local(child.tag) == "br" else ""
        yield from _ttml_text(child)
        yield child.tail or ""


_READERS: dict[str, Callable[[str], list[Cue]]] = {
    "vtt": _vtt,
    "srt": _srt,
    "json3": _json3,
    "ttml": _ttml,
    "srv1": _timedtext,
    "srv2": _timedtext,
    "srv3": _timedtext,
}

"""Which caption tracks of a video may stand in for Whisper, best first.

yt-dlp lists the creator's tracks under `subtitles` and the platform's speech recognition under
`automatic_captions`, each `{language: [format, ...]}`. Most of YouTube's automatic list is machine
translation of the one spoken-language track, and stream replays list their live chat as a subtitle:
neither is a transcript of what was said, so neither is ever a candidate. Listings are untrusted
(a generic page names its own tracks), so names are stripped of control characters and capped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tubescribe.text import clean_text

# Best first: json3 carries exact per-line times and no rolling repeats; srv1 loses line breaks.
FORMATS = ("json3", "srv3", "vtt", "srt", "ttml", "srv2", "srv1")
POLICY_KINDS: dict[str, tuple[str, ...]] = {"off": (), "uploaded": ("uploaded",), "any": ("uploaded", "automatic")}
_LISTINGS = {"uploaded": "subtitles", "automatic": "automatic_captions"}
_NAME_CHARS = 60
_LISTED_IN_REASON = 8
_UNKNOWN_LANGUAGE = "several caption languages and the video's language is unknown: set TUBESCRIBE_CAPTION_LANGUAGES"
_TRANSLATION_TAIL = re.compile(r"[a-z]{2,3}")  # "de-en": German translated from English; not "pt-BR", "en-orig"


@dataclass(frozen=True)
class Track:
    """One caption track in one format, as the listing offers it (never printed with its URL)."""

    kind: str  # uploaded or automatic
    language: str  # the listing's key: en, en-orig, de-DE, a label
    name: str  # the listing's human name, when it has one
    ext: str
    url: str | None = None
    data: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    impersonate: Any = None  # yt-dlp's wish to impersonate a browser for this URL (True or targets)

    @property
    def base_language(self) -> str:
        return base_language(self.language)

    @property
    def label(self) -> str:
        """How reasons name the track: `automatic en-orig (json3)`."""
        return f"{self.kind} {self.language} ({self.ext})"


@dataclass(frozen=True)
class Choice:
    """The tracks worth trying in order, or (when there are none) why."""

    tracks: tuple[Track, ...]
    reason: str = ""


def base_language(code: str) -> str:
    """`en` for en, en-US, en-GB, en-orig: languages are compared on their base code."""
    head = re.match(r"[A-Za-z]{2,3}(?![A-Za-z])", code)
    return head.group(0).lower() if head else code.lower()


def safe_name(value: object) -> str:
    """A listing's name fit for a reason or a record: one line, no control characters, capped."""
    return " ".join(clean_text(str(value)).split())[:_NAME_CHARS]


def candidates(info: Mapping[str, Any], policy: str, languages: tuple[str, ...]) -> Choice:
    """The tracks `policy` allows in `languages` (empty: the video's own), uploaded before automatic."""
    kinds = POLICY_KINDS[policy]
    listed = {kind: _listing(info, listing) for kind, listing in _LISTINGS.items()}
    if not any(listed.values()):
        return Choice((), "no captions listed")
    usable = {kind: _usable(kind, tracks, listed["uploaded"]) for kind, tracks in listed.items()}
    skipped = [key for kind in listed for key in listed[kind] if key not in usable[kind]]
    if not any(usable.values()):
        return Choice((), f"only translated, live-chat or unreadable tracks ({_names(skipped)})")
    if not any(usable[kind] for kind in kinds):
        return Choice((), "no uploaded captions, and TUBESCRIBE_CAPTIONS=uploaded leaves out the automatic ones")
    wanted = tuple(base_language(lang) for lang in languages) or _video_language(info, listed, usable)
    if not wanted:
        return Choice((), _UNKNOWN_LANGUAGE)
    tracks = [track for kind in kinds for lang in dict.fromkeys(wanted) for track in _matching(usable[kind], lang)]
    if not tracks:
        offered = [key for kind in kinds for key in usable[kind]]
        return Choice((), f"no captions in {', '.join(dict.fromkeys(wanted))} (listed: {_names(offered)})")
    return Choice(tuple(tracks))


def _listing(info: Mapping[str, Any], field: str) -> dict[str, list[dict[str, Any]]]:
    raw = info.get(field)
    if not isinstance(raw, dict):
        return {}
    return {
        safe_name(key): [f for f in formats if isinstance(f, dict)]
        for key, formats in raw.items()
        if isinstance(formats, list) and safe_name(key)
    }


def _usable(kind: str, listing: dict[str, list[dict[str, Any]]], uploaded: Mapping[str, object]) -> dict[str, Track]:
    """The best readable format of each track that is a transcript of the speech."""
    found: dict[str, Track] = {}
    for key, formats in listing.items():
        if key == "live_chat" or (kind == "automatic" and _translated(key, formats, uploaded)):
            continue
        track = _best_format(kind, key, formats)
        if track:
            found[key] = track
    return found


def _translated(key: str, formats: list[dict[str, Any]], uploaded: Mapping[str, object]) -> bool:
    if any("tlang=" in str(f.get("url") or "") for f in formats):
        return True
    _, dash, tail = key.rpartition("-")
    from_uploaded = any(key.endswith(f"-{source}") for source in uploaded)
    return bool(dash) and (from_uploaded or (tail != "orig" and bool(_TRANSLATION_TAIL.fullmatch(tail))))


def _best_format(kind: str, key: str, formats: list[dict[str, Any]]) -> Track | None:
    readable = [
        f
        for f in formats
        if f.get("ext") in FORMATS
        and f.get("protocol") != "m3u8_native"  # an HLS playlist of caption pieces, not a caption file
        and (isinstance(f.get("url"), str) or isinstance(f.get("data"), str))
    ]
    if not readable:
        return None
    best = min(readable, key=lambda f: FORMATS.index(f["ext"]))
    headers = best.get("http_headers")
    return Track(
        kind=kind,
        language=key,
        name=safe_name(best.get("name") or key),
        ext=best["ext"],
        url=best["url"] if isinstance(best.get("url"), str) else None,
        data=best["data"] if isinstance(best.get("data"), str) else None,
        headers=tuple((str(k), str(v)) for k, v in headers.items()) if isinstance(headers, dict) else (),
        impersonate=best.get("impersonate"),
    )


def _video_language(
    info: Mapping[str, Any], listed: Mapping[str, Mapping[str, object]], usable: Mapping[str, Mapping[str, Track]]
) -> tuple[str, ...]:
    """The spoken language: as yt-dlp says, else the automatic `-orig` track's, else the only one on offer."""
    if isinstance(info.get("language"), str) and info["language"].strip():
        return (base_language(info["language"].strip()),)
    orig = [key for key in listed["automatic"] if key.endswith("-orig")]
    if orig:
        return (base_language(orig[0]),)
    for kind in ("uploaded", "automatic"):
        bases = {track.base_language for track in usable[kind].values()}
        if bases:
            return (bases.pop(),) if len(bases) == 1 else ()
    return ()


def _matching(tracks: Mapping[str, Track], lang: str) -> list[Track]:
    """Tracks in `lang`: the exact key first, then the spoken-language `-orig`, then regional variants."""
    matches = [track for key, track in tracks.items() if base_language(key) == lang]
    # YouTube lists the spoken-language automatic track twice, as xx-orig and as xx: one fetch is enough.
    matches = [t for t in matches if not (t.language == lang and f"{lang}-orig" in tracks)]
    return sorted(matches, key=lambda t: (t.language != lang, not t.language.endswith("-orig")))


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:_LISTED_IN_REASON])
    return shown + (f" and {len(keys) - _LISTED_IN_REASON} more" if len(keys) > _LISTED_IN_REASON else "")

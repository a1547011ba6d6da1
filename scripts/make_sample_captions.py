"""Make the sample channel's creator captions: a WebVTT track for zig and a SubRip one for typescript_fireship.

Captions a creator uploads are the script's words with times. These are the seed transcript the
audio was synthesized from, each word timed where the bundled Whisper model hears it in the audio
(words it misheard take the times of their neighbours), grouped into cues of a few seconds. Also
writes the page each captioned item links to: a <video> with the media and a <track>, which is how
yt-dlp's generic extractor finds the captions. The outputs are committed; the demo and the tests
never run this script.

    python scripts/make_sample_captions.py
"""

from __future__ import annotations

import difflib
import html
import re
from pathlib import Path

from faster_whisper import WhisperModel

from tubescribe.sample import SAMPLE_DIR
from tubescribe.stages.transcribe.whisper import model_path

# id -> (media file, caption format, title)
CAPTIONED = {
    "zig": ("zig.m4a", "vtt", "Zig in 100 Seconds"),
    "typescript_fireship": ("typescript_fireship.m4a", "srt", "TypeScript in 100 Seconds"),
}
MAX_WORDS, MAX_SECONDS = 12, 5.0


def timed_words(media: Path, words: list[str], model: WhisperModel) -> list[tuple[float, float, str]]:
    """Each word of the script with the time Whisper heard it (or its neighbours' time)."""
    segments, _ = model.transcribe(str(media), word_timestamps=True, beam_size=5, vad_filter=True)
    heard = [w for s in segments for w in (s.words or [])]
    norm = [re.sub(r"[^a-z0-9]", "", w.word.lower()) for w in heard]
    times: list[tuple[float, float] | None] = [None] * len(words)
    matcher = difflib.SequenceMatcher(a=words, b=norm, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            w = heard[block.b + k]
            times[block.a + k] = (w.start, w.end)
    # Unheard words: spread evenly between the heard words around them.
    known = [i for i, t in enumerate(times) if t is not None]
    out: list[tuple[float, float, str]] = []
    for i, word in enumerate(words):
        t = times[i]
        if t is None:
            before = max((k for k in known if k < i), default=None)
            after = min((k for k in known if k > i), default=None)
            start = times[before][1] if before is not None else 0.0  # type: ignore[index]
            end = times[after][0] if after is not None else start + 0.4  # type: ignore[index]
            gap = (before if before is not None else -1, after if after is not None else len(words))
            share = (end - start) / (gap[1] - gap[0])
            t = (start + share * (i - gap[0] - 1), start + share * (i - gap[0]))
        out.append((t[0], t[1], word))
    return out


def cues(words: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    grouped: list[tuple[float, float, str]] = []
    current: list[tuple[float, float, str]] = []
    for word in words:
        if current and (len(current) >= MAX_WORDS or word[1] - current[0][0] > MAX_SECONDS):
            grouped.append((current[0][0], current[-1][1], " ".join(w for _, _, w in current)))
            current = []
        current.append(word)
    if current:
        grouped.append((current[0][0], current[-1][1], " ".join(w for _, _, w in current)))
    return grouped


def stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def write_vtt(path: Path, timed: list[tuple[float, float, str]]) -> None:
    body = "".join(f"{stamp(a, '.')} --> {stamp(b, '.')}\n{html.escape(t, quote=False)}\n\n" for a, b, t in timed)
    path.write_text("WEBVTT\n\n" + body, encoding="utf-8")


def write_srt(path: Path, timed: list[tuple[float, float, str]]) -> None:
    body = "".join(f"{i}\n{stamp(a, ',')} --> {stamp(b, ',')}\n{t}\n\n" for i, (a, b, t) in enumerate(timed, 1))
    path.write_text(body, encoding="utf-8")


def write_page(path: Path, media: str, caption: str, title: str) -> None:
    kind = "audio/mp4" if media.endswith(".m4a") else "audio/webm"
    path.write_text(
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        f'<video controls>\n  <source src="{media}" type="{kind}">\n'
        f'  <track kind="captions" srclang="en" label="English" src="{caption}" default>\n</video>\n'
        "</body>\n</html>\n",
        encoding="utf-8",
    )


def main() -> None:
    model = WhisperModel(model_path("bundled-tiny.en"), device="cpu", compute_type="int8")
    for video_id, (media, fmt, title) in CAPTIONED.items():
        words = (SAMPLE_DIR / f"{video_id}.txt").read_text(encoding="utf-8").split()
        timed = cues(timed_words(SAMPLE_DIR / media, words, model))
        if words[0] == "music":  # the seed transcript's "[Music]", as a creator's caption writes it
            first = timed[0]
            timed[0] = (first[0], first[1], "[Music] " + first[2].split(" ", 1)[1])
        caption = f"{video_id}.{fmt}"
        (write_vtt if fmt == "vtt" else write_srt)(SAMPLE_DIR / caption, timed)
        write_page(SAMPLE_DIR / f"{video_id}.html", media, caption, title)
        print(f"{caption}: {len(timed)} cues, {timed[0][0]:.2f}-{timed[-1][1]:.2f} s")


if __name__ == "__main__":
    main()

"""Caption bodies in the shapes YouTube serves, built from a sample-channel transcript timed at 0.4 s a word:
rolling automatic VTT (each line shown twice, 10 ms hold cues, inline word times), json3 (overlapping line
events, aAppend line breaks), plain VTT and SRT. Shared by the caption tests."""

from __future__ import annotations

import json
from pathlib import Path

from tubescribe.stages.captions.clean import clean_cues
from tubescribe.stages.captions.parse import parse_captions

SAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe" / "sample_channel" / "rust.txt"
WORD_S = 0.4
LINE_WORDS = 6
POT = "pot=SECRET-TOKEN"


def _words() -> list[str]:
    words = SAMPLE.read_text(encoding="utf-8").split()
    assert len(words) > 300, "the sample transcript is the source of every body here"
    return words


def _ts(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _lines(words: list[str]) -> list[tuple[float, float, list[str]]]:
    return [
        (i * WORD_S, min(i + LINE_WORDS, len(words)) * WORD_S, words[i : i + LINE_WORDS])
        for i in range(0, len(words), LINE_WORDS)
    ]


def rolling_vtt(words: list[str], music_intro: bool = True) -> str:
    """YouTube's automatic VTT: the previous line above the new words, then a 10 ms cue holding the line."""
    out = ["WEBVTT", "Kind: captions", "Language: en", ""]
    if music_intro:
        out += ["00:00:00.000 --> 00:00:00.300 align:start position:0%", "[Music]", ""]
    previous = " "
    for start, end, line in _lines(words):
        timed = line[0] + "".join(f"<{_ts(start + (k + 1) * WORD_S)}><c> {w}</c>" for k, w in enumerate(line[1:]))
        out += [f"{_ts(start)} --> {_ts(end - 0.01)} align:start position:0%", previous, timed, ""]
        previous = " ".join(line)
        out += [f"{_ts(end - 0.01)} --> {_ts(end)} align:start position:0%", previous, " ", ""]
    return "\n".join(out) + "\n"


def json3(words: list[str]) -> str:
    """YouTube's json3: a window event, one event per line shown until the next line ends, aAppend breaks."""
    events: list[dict[str, object]] = [{"tStartMs": 0, "dDurationMs": 999999, "id": 1, "wpWinPosId": 1}]
    for start, end, line in _lines(words):
        start_ms = round(start * 1000)
        segs = [{"utf8": line[0], "acAsrConf": 0}] + [
            {"utf8": f" {w}", "tOffsetMs": round((k + 1) * WORD_S * 1000)} for k, w in enumerate(line[1:])
        ]
        events.append({"tStartMs": start_ms, "dDurationMs": round((end - start) * 2000), "wWinId": 1, "segs": segs})
        events.append(
            {"tStartMs": round(end * 1000) - 10, "dDurationMs": 10, "wWinId": 1, "aAppend": 1, "segs": [{"utf8": "\n"}]}
        )
    return json.dumps({"wireMagic": "pb3", "events": events})


def plain_vtt(words: list[str]) -> str:
    """A creator's uploaded VTT: one line a cue, no repeats."""
    cues = [f"{_ts(s)} --> {_ts(e)}\n{' '.join(line)}\n" for s, e, line in _lines(words)]
    return "WEBVTT\n\n" + "\n".join(cues)


def srt_body(words: list[str]) -> str:
    cues = [
        f"{n}\n{_ts(s).replace('.', ',')} --> {_ts(e).replace('.', ',')}\n{' '.join(line)}\n"
        for n, (s, e, line) in enumerate(_lines(words), 1)
    ]
    return "\n".join(cues)


def _text_of(body: str, fmt: str, rolling: bool = False) -> str:
    return " ".join(cue.text for cue in clean_cues(parse_captions(body, fmt), rolling=rolling).cues)

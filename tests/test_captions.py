"""Captions first: cleaning of real caption bodies (caption_bodies.py) in every format, and track choice on
YouTube-shaped listings."""

from __future__ import annotations

import itertools

import jiwer
import pytest

from caption_bodies import (
    POT,
    _text_of,
    _words,
    json3,
    rolling_vtt,
)
from tubescribe.stages.captions import (
    CAPTION_KEYS,
    allowed_keys,
)
from tubescribe.stages.captions.clean import clean_cues, to_segments
from tubescribe.stages.captions.parse import CaptionParseError, parse_captions
from tubescribe.stages.captions.tracks import POLICY_KINDS, candidates

# --- cleaning real shapes ---


def test_rolling_vtt_reads_back_as_the_spoken_words_once():
    words = _words()
    body = rolling_vtt(words)
    assert body.count(" ".join(words[6:12])) == 2  # each line really is shown twice in the file
    text = _text_of(body, "vtt", rolling=True)
    assert "[Music]" not in text
    assert jiwer.wer(" ".join(words), text) < 0.05
    assert len(text.split()) == len(words)


def test_rolling_vtt_is_recognised_by_its_word_times_alone():
    words = _words()
    assert jiwer.wer(" ".join(words), _text_of(rolling_vtt(words), "vtt")) < 0.05


def test_json3_reads_back_as_the_spoken_words_with_millisecond_times():
    words = _words()
    cleaned = clean_cues(parse_captions(json3(words), "json3"))
    text = " ".join(cue.text for cue in cleaned.cues)
    assert jiwer.wer(" ".join(words), text) < 0.05
    segments = to_segments(cleaned.cues)
    assert [s.idx for s in segments] == list(range(len(segments)))
    # Line events overlap the next one on screen; segments do not.
    assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(segments))
    assert all(s.end_s - s.start_s <= 15.0 for s in segments)


def test_vtt_times_keep_their_milliseconds():
    body = "WEBVTT\n\n00:00:01.234 --> 00:00:03.456\nhello there\n\n00:01:02.005 --> 00:01:04.999\nagain.\n"
    cues = parse_captions(body, "vtt")
    assert [(c.start_s, c.end_s) for c in cues] == [(1.234, 3.456), (62.005, 64.999)]
    segments = to_segments(clean_cues(cues).cues)
    assert (segments[0].start_s, segments[0].end_s) == (1.234, 3.456)


def test_entities_tags_speaker_marks_and_sound_labels_are_not_speech():
    body = (
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n[Applause]\n\n"
        "00:00:02.000 --> 00:00:04.000\n&gt;&gt; Tom &amp; Jerry <i>say</i> &quot;hi&quot; (laughs)\n\n"
        "00:00:04.000 --> 00:00:06.000\n♪ la la ♪\n"
    )
    cleaned = clean_cues(parse_captions(body, "vtt"))
    assert [c.text for c in cleaned.cues] == ['Tom & Jerry say "hi"', "la la"]
    assert cleaned.non_speech == 1


TIMED_BODIES = {
    "srt": "1\n00:00:01,250 --> 00:00:02,500\n<i>one</i> two\n\n2\n00:00:03,000 --> 00:00:04,125\nthree\n",
    "srv1": '<?xml version="1.0"?><transcript><text start="1.25" dur="1.25">one &amp;#39;two</text>'
    '<text start="3" dur="1.125">three</text></transcript>',
    "srv2": '<timedtext><text t="1250" d="1250">one two</text><text t="3000" d="1125">three</text></timedtext>',
    "srv3": '<timedtext format="3"><body><p t="1250" d="1250"><s>one</s><s t="300"> two</s></p>'
    '<p t="2400" d="10" a="1">\n</p><p t="3000" d="1125">three</p></body></timedtext>',
    "ttml": '<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttp="http://www.w3.org/ns/ttml#parameter" '
    'ttp:tickRate="1000"><body><div><p begin="00:00:01.250" end="00:00:02.500">one<br/>two</p>'
    '<p begin="3000t" dur="1125ms">three</p></div></body></tt>',
}


@pytest.mark.parametrize("fmt", sorted(TIMED_BODIES))
def test_each_format_reads_times_and_text(fmt):
    cues = clean_cues(parse_captions(TIMED_BODIES[fmt], fmt)).cues
    assert [(c.start_s, c.end_s) for c in cues] == [(1.25, 2.5), (3.0, 4.125)]
    assert cues[1].text == "three"
    assert cues[0].text in ("one two", "one 'two")


@pytest.mark.parametrize(
    ("body", "fmt", "words"),
    [
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:00:0x.000 --> 00:00:04.000\nlost\n", "vtt", "unreadable"),
        ("no header\n\n00:00:01.000 --> 00:00:02.000\nok\n", "vtt", "not WebVTT"),
        ('{"events": [{"tStartMs": "soon", "segs": [{"utf8": "x"}]}]}', "json3", "not json3"),
        ('{"events": [{"tStartMs": 0, "segs": [{"ut', "json3", "not json3"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><timedtext><text t="0">&a;</text></timedtext>', "srv3", "DOCTYPE"),
        ('<timedtext><text t="0" d="10">cut', "srv2", "well-formed"),
        ("1\n00:00:01,000 --> 00:00:0x,000\nok\n\n2\n00:00:03,000 --> 00:00:04,000\nx\n", "srt", "time span"),
        ("<html>Sign in</html>", "srt", "not SubRip"),
        ('<tt xmlns="http://www.w3.org/ns/ttml"><body><p begin="later">x</p></body></tt>', "ttml", "TTML time"),
    ],
)
def test_damaged_files_raise_a_parse_error_saying_why(body, fmt, words):
    with pytest.raises(CaptionParseError, match=words):
        parse_captions(body, fmt)


# --- track choice ---


def _formats(base: str, key: str, query: str = "") -> list[dict[str, object]]:
    listed: list[dict[str, object]] = [
        {"ext": ext, "url": f"{base}/{key}.{ext}?lang={key}&fmt={ext}{query}&{POT}", "name": key, "impersonate": True}
        for ext in ("json3", "srv1", "srv2", "srv3", "ttml", "vtt")
    ]
    # An HLS playlist of caption pieces sorts as the best vtt: it must never be picked.
    return [*listed, {"ext": "vtt", "url": f"{base}/{key}.m3u8?{POT}", "protocol": "m3u8_native"}]


def youtube_info(base: str = "https://www.youtube.com/api/timedtext", **extra: object) -> dict[str, object]:
    return {
        "id": "abc",
        "duration": 200.0,
        "subtitles": {
            "en": _formats(base, "en"),
            "live_chat": [{"ext": "json", "url": f"{base}/live_chat.json", "protocol": "youtube_live_chat_replay"}],
        },
        "automatic_captions": {
            "en-orig": _formats(base, "en-orig"),
            "en": _formats(base, "en-auto"),
            "de": _formats(base, "de", "&tlang=de"),
            "fr": _formats(base, "fr", "&tlang=fr"),
            "de-en": _formats(base, "de-en"),
        },
        **extra,
    }


def _labels(info: dict[str, object], policy: str = "any", languages: tuple[str, ...] = ()) -> list[str]:
    return [track.label for track in candidates(info, policy, languages).tracks]


def test_uploaded_before_automatic_in_the_spoken_language_best_format_first():
    assert _labels(youtube_info()) == ["uploaded en (json3)", "automatic en-orig (json3)"]


def test_translated_tracks_and_live_chat_are_never_candidates():
    info = youtube_info()
    assert _labels(info, languages=("de", "fr")) == []
    assert "no captions in de, fr" in candidates(info, "any", ("de", "fr")).reason
    only_bad = {
        "subtitles": {"live_chat": [{"ext": "json", "url": "https://x/chat", "protocol": "youtube_live_chat_replay"}]},
        "automatic_captions": {
            "de-en": _formats("https://x", "de-en"),
            "es": _formats("https://x", "es", "&tlang=es"),
            "fr": [{"ext": "vtt", "url": "https://x/fr.m3u8", "protocol": "m3u8_native"}],
        },
    }
    reason = candidates(only_bad, "any", ()).reason
    assert reason == "only translated, live-chat or unreadable tracks (live_chat, de-en, es, fr)"


def test_uploaded_policy_ignores_automatic_captions():
    info = youtube_info()
    assert _labels(info, "uploaded") == ["uploaded en (json3)"]
    no_uploaded = {**info, "subtitles": {}}
    choice = candidates(no_uploaded, "uploaded", ())
    assert choice.tracks == () and "TUBESCRIBE_CAPTIONS=uploaded" in choice.reason


def test_language_preference_orders_the_tracks():
    info = youtube_info(subtitles={"de": _formats("https://x", "de"), "en-GB": _formats("https://x", "en-GB")})
    assert _labels(info, "uploaded", ("de", "en")) == ["uploaded de (json3)", "uploaded en-GB (json3)"]
    assert _labels(info, "uploaded", ("en-US",)) == ["uploaded en-GB (json3)"]


def test_the_videos_language_picks_among_several_uploaded_tracks():
    info = youtube_info(subtitles={"de": _formats("https://x", "de"), "en": _formats("https://x", "en")})
    assert _labels(info, "uploaded") == ["uploaded en (json3)"]  # from the -orig automatic track
    assert _labels({**info, "language": "de"}, "uploaded") == ["uploaded de (json3)"]


def test_policies_and_their_settings_keys():
    from tubescribe.settings import CAPTION_POLICIES

    assert tuple(POLICY_KINDS) == CAPTION_POLICIES
    assert allowed_keys("off") == ()
    assert allowed_keys("uploaded") == ("captions-uploaded",)
    assert allowed_keys("any") == ("captions-uploaded", "captions-automatic")
    assert set(CAPTION_KEYS.values()) == set(allowed_keys("any"))
    with pytest.raises(ValueError, match="TUBESCRIBE_CAPTIONS"):
        allowed_keys("sometimes")

"""How the offline summarizer's summaries compare with the user's worked examples, and what they get wrong.

Fixtures: the two worked examples (plugins/tubescribe/prompts/examples.json: the Mistral lecture and the
job-board build, each a transcript with the user's own summary) and the five sample-channel transcripts
(plugins/tubescribe/sample_channel/*.txt, unpunctuated lower case). Each transcript is cut into segments
of 12 words and 4 s, as the tests do, and summarized by the local summarizer of the checkout it runs in
(`PYTHONPATH=<other checkout>/plugins` measures another).

Figures, per transcript and summed:
- worked examples: how many of the user's 5 topics one of ours shares a word with (plural folded), the
  same for the 15 section topics against the user's, how many of the user's 3 general fields we name,
  whether the first is the same, and the mean |complexity - the user's| over fields both name;
- every transcript: topics (global and section) that are not concepts by this script's own judge
  (a person name, a month or weekday, a number, or a word the issue's reader flagged as filler),
  bullets repeated within a section (same words, or 80% of one's words in another), introductions
  that are the old template ("a video about"), the complexity range, and seconds per summary.
The judge's lists are written here, apart from the summarizer's, so the summarizer cannot be tuned to them
without it showing in the code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tubescribe.records import Segment, Transcript, Video
from tubescribe.stages.summarize.local.summarizer import LocalSummarizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import header, table

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe"


def _words(text: str) -> set[str]:
    return set(text.split())


MONTHS = _words(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday"
)
# Names of people said in the fixtures (founders, authors, presenters), and the words the reader
# flagged as not concepts, plus spoken filler.
NAMES = _words(
    "graydon hoare andrew kelley kelly anders hejlsberg jordan walke kent dodds brendan eich guido linus "
    "torvalds elon musk jeff delaney umar jamil"
)
FILLER = _words(
    "incredible track board mail concept lighting guys gonna basically really thing things stuff actually "
    "awesome cool nice okay alright yeah lot kind sort pretty super whats thats heres lets dont"
)


def transcript_of(video_id: str, text: str) -> Transcript:
    words = text.split()
    segments = [
        Segment(idx=k, start_s=4.0 * k, end_s=4.0 * (k + 1), text=" ".join(words[i : i + 12]))
        for k, i in enumerate(range(0, len(words), 12))
    ]
    return Transcript(
        video_id=video_id,
        language="en",
        language_probability=None,
        audio_duration_s=4.0 * len(segments),
        model="bench",
        settings_key="bench",
        segments=tuple(segments),
        transcribed_at=EPOCH,
        elapsed_s=0.0,
    )


def _stems(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.findall(r"[a-z0-9]+", text.lower())} - {
        "and",
        "of",
        "the",
        "with",
        "for",
        "to",
        "in",
        "a",
    }


def _shares_word(tags: list[str], reference: list[str]) -> int:
    ours = [_stems(t) for t in tags]
    return sum(any(_stems(r) & o for o in ours) for r in reference)


def not_concepts(tag: str) -> bool:
    words = tag.lower().split()
    return any(w in MONTHS or w in NAMES or w.isdigit() for w in words) or all(w in FILLER for w in words)


def _near(a: str, b: str) -> bool:
    wa, wb = a.lower().split(), b.lower().split()
    if wa == wb:
        return True
    shorter, longer = sorted((wa, wb), key=len)
    return sum(w in longer for w in shorter) >= 0.8 * len(shorter)


def measure(video_id: str, text: str, reference: dict[str, Any] | None) -> dict[str, Any]:
    video = Video.model_validate(_video_fields(video_id))
    began = time.perf_counter()
    summary = LocalSummarizer().summarize(video, transcript_of(video_id, text)).summary
    seconds = time.perf_counter() - began
    section_tags = [t for s in summary.sections for t in s.topics]
    tags = [*summary.topics, *section_tags]
    repeats = sum(_near(a, b) for s in summary.sections for i, a in enumerate(s.content) for b in s.content[i + 1 :])
    row: dict[str, Any] = {
        "video": video_id,
        "not_concepts": sum(map(not_concepts, tags)),
        "tags": len(tags),
        "flagged": [t for t in tags if not_concepts(t)],
        "repeats": repeats,
        "template_intro": "a video about" in summary.introduction,
        "complexity": [float(g.complexity) for g in summary.generalTopics],
        "fields": [g.name for g in summary.generalTopics],
        "topics": summary.topics,
        "seconds": seconds,
        "summary": summary.model_dump(mode="json"),
    }
    if reference is not None:
        theirs = {g["name"]: float(g["complexity"]) for g in reference["generalTopics"]}
        ours = {g.name: float(g.complexity) for g in summary.generalTopics}
        both = [n for n in ours if n in theirs]
        their_sections = [t for s in reference["sections"] for t in s["topics"]]
        row |= {
            "topic_overlap": _shares_word(summary.topics, reference["topics"]),
            "section_overlap": _shares_word(section_tags, their_sections),
            "field_overlap": len(both),
            "first_field": summary.generalTopics[0].name == reference["generalTopics"][0]["name"],
            "complexity_mae": sum(abs(ours[n] - theirs[n]) for n in both) / len(both) if both else None,
        }
    return row


def _video_fields(video_id: str) -> dict[str, Any]:
    return {
        "video_id": video_id,
        "channel_id": "bench",
        "channel_title": "bench",
        "channel_url": "https://example.invalid/bench",
        "title": video_id.replace("_", " ").title(),
        "url": f"https://example.invalid/{video_id}",
        "published_at": EPOCH,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every summary and figure here")
    args = parser.parse_args()
    began = time.perf_counter()
    measure("warm_up", "the compiler checks memory safety at compile time " * 12, None)
    warm_up = time.perf_counter() - began
    examples = json.loads((PACKAGE / "prompts" / "examples.json").read_text(encoding="utf-8"))
    rows = [
        measure(name, ex["transcript"], ex["summary"])
        for name, ex in zip(("mistral", "job_board"), examples, strict=True)
    ]
    rows += [
        measure(p.stem, p.read_text(encoding="utf-8"), None) for p in sorted((PACKAGE / "sample_channel").glob("*.txt"))
    ]
    print(
        header(
            "Offline summarizer quality",
            [
                f"summarizer {LocalSummarizer.model} {LocalSummarizer.prompt_version}",
                f"first call (imports, loads the model, embeds its fixed texts): {warm_up:.2f} s, not in the table",
            ],
        )
    )
    print(
        table(
            [
                "video",
                "topics ∩ user's (of 5)",
                "section topics ∩ user's (of 15)",
                "fields ∩ user's (of 3)",
                "first field same",
                "complexity MAE",
            ],
            [
                [
                    r["video"],
                    r["topic_overlap"],
                    r["section_overlap"],
                    r["field_overlap"],
                    r["first_field"],
                    f"{r['complexity_mae']:.2f}" if r["complexity_mae"] is not None else "-",
                ]
                for r in rows[:2]
            ],
        )
    )
    print()
    print(
        table(
            ["video", "not-concept tags (of 20)", "repeated bullet pairs", "templated intro", "complexity", "s"],
            [
                [
                    r["video"],
                    r["not_concepts"],
                    r["repeats"],
                    r["template_intro"],
                    " / ".join(f"{c:.2f}" for c in r["complexity"]),
                    f"{r['seconds']:.2f}",
                ]
                for r in rows
            ],
        )
    )
    print()
    for r in rows:
        print(f"- {r['video']}: topics {r['topics']}; fields {r['fields']}; flagged {r['flagged']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

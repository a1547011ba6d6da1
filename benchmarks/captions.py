"""Captions first (issue 13), side by side: a captioned video landed from its captions against the same video
through Whisper, and how close caption transcripts are to the words they were made from.

Goal: a captioned video ≥ 50× faster end to end than through Whisper, with no media bytes fetched.

Timing: each run is a fresh process on a fresh TUBESCRIBE_HOME with default settings (bundled tiny.en) but
TUBESCRIBE_CAPTIONS (`any` or `off`), which calls the pipeline's stages in-process as the backfill DAG's
tasks do (discover → download → transcribe → summarize → load) on a loopback feed holding that one video,
linked to its captioned page. The clock starts at discover, once what both paths import (tubescribe, yt-dlp,
DuckDB) is imported (timed apart); the Whisper path's clock includes importing faster-whisper and loading
the model, which a captioned video never needs. Then a warm pass: the same video under a second server's feed
URL (so a new id), next in the same process and home. The modes alternate (ABBA over repeats and videos) so
drift hits both. The servers count requests and bytes per file, so "no media fetched" is measured, not assumed.

WER (jiwer, normalised as tests/test_e2e.py does): the catalog's segments of each run against the sample's
source text (`sample_channel/<id>.txt`), and a YouTube-style rolling automatic VTT made from that text and
read back by the package's parser and cleaner.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from common import header, median, table, wer

from tubescribe.sample import SAMPLE_DIR, captioned_ids, render_feed

if TYPE_CHECKING:
    from tubescribe.settings import Settings

MODES = {"captions": "any", "whisper": "off"}  # mode -> TUBESCRIBE_CAPTIONS
PASSES = ("cold", "warm")
PER_VIDEO = ("download", "transcribe", "summarize")  # the stages a video runs alone; discover and load are per batch
STAGES = ("discover", "download", "transcribe", "summarize", "load")
LINE_WORDS = 7  # words per rolling line, about what YouTube's automatic captions show
HOLD_S = 0.01  # YouTube's hold cue between two rolling cues


class Tally:
    """Requests and bytes served per file name, from the server's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()

    def add(self, name: str, requests: int = 0, size: int = 0) -> None:
        with self.lock:
            self.requests[name] += requests
            self.bytes[name] += size

    def snapshot(self) -> tuple[Counter[str], Counter[str]]:
        with self.lock:
            return Counter(self.requests), Counter(self.bytes)


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """The sample channel with captioned pages; `/feed.xml?only=ID` holds one video. Counts what it serves."""

    tally: Tally

    def do_HEAD(self) -> None:
        self.tally.add(self._name(), requests=1)
        super().do_HEAD()

    def do_GET(self) -> None:
        name = self._name()
        self.tally.add(name, requests=1)
        if name != "feed.xml":
            super().do_GET()
            return
        only = parse_qs(urlsplit(self.path).query).get("only")
        host = self.headers.get("Host") or "127.0.0.1"
        body = render_feed(f"http://{host}", only, captions=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.tally.add(name, size=len(body))

    def copyfile(self, source: Any, outputfile: Any) -> None:
        name = self._name()
        while chunk := source.read(64 * 1024):
            try:
                outputfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):  # yt-dlp closes some downloads early on purpose
                return
            self.tally.add(name, size=len(chunk))

    def _name(self) -> str:
        return urlsplit(self.path).path.lstrip("/")

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(tally: Tally) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = type("Handler", (CountingHandler,), {"tally": tally})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(SAMPLE_DIR)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/feed.xml"


def worker(feeds: list[str], expected_source: str) -> dict[str, Any]:
    """A video from each feed in turn through every stage, in this process and one home: cold, then warm."""
    started = time.perf_counter()
    import duckdb  # noqa: F401  (both paths import these once per process: timed apart, not per video)
    import yt_dlp  # noqa: F401

    from tubescribe.pipeline import steps  # noqa: F401
    from tubescribe.settings import Settings

    imports_s = time.perf_counter() - started
    settings = Settings.load()
    return {"imports_s": imports_s, "passes": [one_pass(settings, feed, expected_source) for feed in feeds]}


def one_pass(settings: Settings, feed: str, expected_source: str) -> dict[str, Any]:
    """discover → download → transcribe → summarize → load of the feed's one video, each stage timed."""
    import duckdb

    from tubescribe.pipeline import steps

    clock: dict[str, float] = {}

    def timed(stage: str, call: Any, *args: Any) -> Any:
        begun = time.perf_counter()
        result = call(settings, *args)
        clock[stage] = clock.get(stage, 0.0) + time.perf_counter() - begun
        return result

    loaded: list[str] = []
    for batch in timed("discover", steps.discover, [feed]):
        downloaded = timed("download", steps.download, batch)
        done = timed("summarize", steps.summarize, timed("transcribe", steps.transcribe, downloaded))
        loaded += timed("load", steps.load, done)["loaded"]
    if len(loaded) != 1:
        raise SystemExit(f"expected one video to land from {feed}, got {loaded}")
    with duckdb.connect(str(settings.catalog_path), read_only=True) as con:
        sql = "SELECT source, elapsed_s FROM transcripts WHERE video_id = ?"
        source, decode_s = con.execute(sql, loaded).fetchone()
        segments = con.execute("SELECT text FROM segments WHERE video_id = ? ORDER BY idx", loaded).fetchall()
        sql = "SELECT stage, sum(seconds) FROM stage_runs WHERE video_id = ? GROUP BY stage"
        stage_runs = con.execute(sql, loaded).fetchall()
    if source != expected_source:
        raise SystemExit(f"transcript source is {source!r}, expected {expected_source!r}: the wrong path ran")
    return {
        "stages_s": clock,
        "end_to_end_s": sum(clock.values()),
        "stage_runs_s": dict(stage_runs),
        "decode_s": decode_s,
        "text": " ".join(text for (text,) in segments),
    }


def run_once(feeds: dict[str, tuple[str, Tally]], video_id: str, mode: str) -> dict[str, Any]:
    """A worker process on a fresh home, a pass per feed; adds what each pass's server sent, by file."""
    home = Path(tempfile.mkdtemp(prefix="tubescribe-captions-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUBESCRIBE_")}
    env |= {"TUBESCRIBE_HOME": str(home), "TUBESCRIBE_CAPTIONS": MODES[mode]}
    expected = "captions" if mode == "captions" else "asr"
    command = [sys.executable, __file__, "--expect", expected]
    command += [arg for feed, _ in feeds.values() for arg in ("--worker", f"{feed}?only={video_id}")]
    before = {name: tally.snapshot() for name, (_, tally) in feeds.items()}
    started = time.perf_counter()
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    process_s = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{mode} run of {video_id} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run: dict[str, Any] = {"process_s": process_s, "imports_s": result["imports_s"]}
    for (name, (_, tally)), one in zip(feeds.items(), result["passes"], strict=True):
        requests, sent = tally.snapshot()
        run[name] = one | {"requests": dict(requests - before[name][0]), "bytes": dict(sent - before[name][1])}
    return run


def media_name(video_id: str) -> str:
    (path,) = (p for p in SAMPLE_DIR.glob(f"{video_id}.*") if p.suffix in (".m4a", ".mp4", ".webm"))
    return path.name


def duration_s(video_id: str) -> float:
    import av

    with av.open(str(SAMPLE_DIR / media_name(video_id))) as media:
        return media.duration / 1_000_000


def stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def rolling_vtt(words: list[str], duration: float) -> str:
    """YouTube's automatic VTT: the previous line above the new, word-timed one, then a 10 ms cue holding it."""
    step = duration / len(words)
    out = ["WEBVTT", "Kind: captions", "Language: en", ""]
    previous = " "
    for i in range(0, len(words), LINE_WORDS):
        line = words[i : i + LINE_WORDS]
        start, end = i * step, (i + len(line)) * step
        timed = line[0] + "".join(f"<{stamp(start + (k + 1) * step)}><c> {w}</c>" for k, w in enumerate(line[1:]))
        out += [f"{stamp(start)} --> {stamp(end - HOLD_S)} align:start position:0%", previous, timed, ""]
        previous = " ".join(line)
        out += [f"{stamp(end - HOLD_S)} --> {stamp(end)} align:start position:0%", previous, " ", ""]
    return "\n".join(out) + "\n"


def rolling_check(video_id: str) -> dict[str, Any]:
    """The source text as rolling automatic captions, read back by the package; WER and the checks' verdict."""
    from tubescribe.stages.captions.clean import clean_cues, to_segments
    from tubescribe.stages.captions.parse import parse_captions
    from tubescribe.stages.captions.quality import judge

    source = reference(video_id)
    duration = duration_s(video_id)
    body = rolling_vtt(source.split(), duration)
    cues = parse_captions(body, "vtt")
    cleaned = clean_cues(cues, rolling=True)
    text = " ".join(s.text for s in to_segments(cleaned.cues))
    verdict = judge(cleaned, duration)
    return {
        "cues": len(cues),
        "kept": len(cleaned.cues),
        "wer": wer([source], [text]),
        "raw_words": sum(len(c.text.split()) for c in cues),
        "accepted": verdict.accepted,
        "reason": verdict.reason,
    }


def reference(video_id: str) -> str:
    return (SAMPLE_DIR / f"{video_id}.txt").read_text(encoding="utf-8")


def measure(videos: list[str], repeats: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every video in both modes, `repeats` times, the order of the modes alternating (ABBA)."""
    feeds: dict[str, tuple[str, Tally]] = {}
    servers = []
    for name in PASSES:
        tally = Tally()
        server, feed = serve(tally)
        servers.append(server)
        feeds[name] = (feed, tally)
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {v: {m: [] for m in MODES} for v in videos}
    try:
        for r in range(repeats):
            for i, video_id in enumerate(videos):
                for mode in list(MODES) if (r + i) % 2 == 0 else list(reversed(MODES)):
                    run = run_once(feeds, video_id, mode)
                    runs[video_id][mode].append(run)
                    times = ", ".join(f"{name} {run[name]['end_to_end_s']:.2f} s" for name in PASSES)
                    print(
                        f"  repeat {r + 1}/{repeats} {video_id} {mode}: {times}; load {os.getloadavg()[0]:.2f}",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    return runs


def pass_medians(video_id: str, done: list[dict[str, Any]]) -> dict[str, Any]:
    media = media_name(video_id)
    return {
        "end_to_end_s": median([r["end_to_end_s"] for r in done]),
        "stages_s": {s: median([r["stages_s"].get(s, 0.0) for r in done]) for s in STAGES},
        "stage_runs_s": {s: median([r["stage_runs_s"].get(s, 0.0) for r in done]) for s in STAGES[1:4]},
        "decode_s": median([r["decode_s"] for r in done]),
        # The most any run asked for: one media request in one run is enough to fail "no media fetched".
        "media_requests": max(r["requests"].get(media, 0) for r in done),
        "media_bytes": max(r["bytes"].get(media, 0) for r in done),
        "requests": done[-1]["requests"],
        "wer": median([wer([reference(video_id)], [r["text"]]) for r in done]),
    }


def summary(videos: list[str], runs: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for video_id in videos:
        modes = {
            mode: {
                "process_s": median([r["process_s"] for r in done]),
                "imports_s": median([r["imports_s"] for r in done]),
                **{name: pass_medians(video_id, [r[name] for r in done]) for name in PASSES},
            }
            for mode, done in runs[video_id].items()
        }
        pairs = list(zip(runs[video_id]["whisper"], runs[video_id]["captions"], strict=True))
        out[video_id] = {
            "audio_s": duration_s(video_id),
            "source_words": len(reference(video_id).split()),
            "modes": modes,
            # Same-repeat ratios, so drift between repeats cancels.
            "ratio": {
                name: median([w[name]["end_to_end_s"] / c[name]["end_to_end_s"] for w, c in pairs]) for name in PASSES
            },
            # What grows with the number of videos: discover lists a channel and load writes a batch, once each.
            "video_stages_ratio": {
                name: median([video_stages(w[name]) / video_stages(c[name]) for w, c in pairs]) for name in PASSES
            },
            "rolling": rolling_check(video_id),
        }
    return out


def video_stages(one: dict[str, Any]) -> float:
    return sum(one["stages_s"].get(s, 0.0) for s in PER_VIDEO)


def report(videos: list[str], result: dict[str, Any], repeats: int, load_end: str) -> str:
    speed, stages, words = [], [], []
    for video_id in videos:
        r = result[video_id]
        for name in PASSES:
            c, w = r["modes"]["captions"][name], r["modes"]["whisper"][name]
            speed.append(
                [
                    video_id,
                    f"{r['audio_s']:.0f}",
                    name,
                    f"{c['end_to_end_s']:.2f}",
                    f"{w['end_to_end_s']:.2f}",
                    f"**{r['ratio'][name]:.0f}×**",
                    f"{video_stages(c):.2f} / {video_stages(w):.2f} ({r['video_stages_ratio'][name]:.0f}×)",
                    f"{c['media_requests']} / {c['media_bytes']:,}",
                    f"{w['media_requests']} / {w['media_bytes']:,}",
                ]
            )
            for mode, m in (("captions", c), ("Whisper", w)):
                split = [f"{m['stages_s'][s]:.2f}" for s in STAGES]
                model = f"{m['stages_s']['transcribe'] - m['decode_s']:.2f}" if mode == "Whisper" else "-"
                stages.append([video_id, name, mode, *split, model])
        c, w, roll = r["modes"]["captions"]["cold"], r["modes"]["whisper"]["cold"], r["rolling"]
        words.append(
            [
                video_id,
                r["source_words"],
                f"{c['wer']:.3f}",
                f"{w['wer']:.3f}",
                f"{roll['wer']:.3f} ({roll['cues']} cues, {roll['raw_words']} words shown, {roll['kept']} kept)",
                ("accepted: " if roll["accepted"] else "rejected: ") + roll["reason"],
            ]
        )
    met = all(result[v]["ratio"]["cold"] >= 50 for v in videos)
    ratios = ", ".join(f"{v} {result[v]['ratio']['cold']:.0f}×" for v in videos)
    no_media = all(result[v]["modes"]["captions"][name]["media_requests"] == 0 for v in videos for name in PASSES)
    imports = ", ".join(f"{m} {result[videos[0]]['modes'][m]['imports_s']:.1f} s" for m in MODES)
    return "\n\n".join(
        [
            f"{len(videos)} captioned video(s); median of {repeats} run(s) per mode; "
            f"load average at the end {load_end}. cold: a fresh process and home; warm: the same video under a "
            "second feed URL (a new id), next in the same process and home. Seconds are discover to load; "
            f"the imports both paths need come before the clock ({imports}).",
            table(
                [
                    "video",
                    "audio s",
                    "pass",
                    "captions s",
                    "Whisper s",
                    "Whisper / captions",
                    "download + transcribe + summarize s, captions / Whisper",
                    "captions: media requests / bytes",
                    "Whisper: media requests / bytes",
                ],
                speed,
            ),
            "Per stage (median s; model load = the Whisper transcribe stage less the decoding the transcript "
            "records: importing faster-whisper and loading tiny.en, cold only):\n\n"
            + table(["video", "pass", "path", *STAGES, "model load"], stages),
            table(
                [
                    "video",
                    "source words",
                    "WER captions",
                    "WER Whisper",
                    "WER rolling automatic VTT, cleaned",
                    "rolling VTT: checks",
                ],
                words,
            ),
            f"Goal ≥ 50× end to end (cold): **{'met' if met else 'missed'}** ({ratios}); "
            f"media requests for a captioned video with captions on: **{'0' if no_media else 'not 0'}**.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--videos", help="comma-separated captioned sample ids (default: all)")
    parser.add_argument("--json", type=Path, help="also write the runs and medians here")
    parser.add_argument("--worker", action="append", help=argparse.SUPPRESS)
    parser.add_argument("--expect", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.expect)))
        return
    videos = args.videos.split(",") if args.videos else captioned_ids()
    unknown = set(videos) - set(captioned_ids())
    if unknown:
        raise SystemExit(f"not captioned: {', '.join(sorted(unknown))}; choose from {', '.join(captioned_ids())}")
    head = header("Captions first vs Whisper, per captioned video", ["default settings but TUBESCRIBE_CAPTIONS"])
    runs = measure(videos, args.repeats)
    result = summary(videos, runs)
    load_end = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(head + report(videos, result, args.repeats, load_end))
    if args.json:
        args.json.write_text(json.dumps({"repeats": args.repeats, "summary": result, "runs": runs}, indent=2))


if __name__ == "__main__":
    main()

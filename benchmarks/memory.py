"""Peak memory: transcribing one long audio file, and loading one 100-video batch into the catalog.

The long file is the sample channel's audio (decoded with PyAV, which faster-whisper already uses; no ffmpeg
binary needed) repeated to `--minutes` and written as a 16 kHz mono WAV. Each measurement runs in its own
subprocess; peak RSS is the kernel's high-water mark for that process (cross-checked by psutil polling).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from common import MIB, header, maxrss, run_processes, table, write_wav

SAMPLE_RATE = 16000


def long_audio(path: Path, minutes: float) -> float:
    """Write the sample channel's speech, looped to `minutes`, as a WAV; return its length in seconds."""
    from faster_whisper import decode_audio

    from tubescribe.sample import SAMPLE_DIR, sample_ids

    pieces = []
    for video_id in sample_ids():
        media = next(p for p in SAMPLE_DIR.glob(f"{video_id}.*") if p.suffix not in (".txt", ".tmpl"))
        pieces.append(decode_audio(str(media), sampling_rate=SAMPLE_RATE))
    once = np.concatenate(pieces)
    wanted = int(minutes * 60 * SAMPLE_RATE)
    write_wav(path, np.resize(once, wanted))  # np.resize repeats the array to the wanted length
    return wanted / SAMPLE_RATE


def worker_transcribe(audio: Path, batch: int, chunk_s: float | None) -> dict:
    """The pipeline's transcribe stage (batch 0), or faster-whisper's batched pipeline with the same model."""
    from tubescribe.settings import Settings

    chunking = {} if chunk_s is None else {"whisper_chunk_s": chunk_s}
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="tubescribe-mem-")), **chunking)
    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    if batch:
        from faster_whisper import BatchedInferencePipeline

        from tubescribe.stages.transcribe.whisper import load_model

        model = load_model(
            settings.whisper_model, settings.whisper_device, settings.whisper_compute_type, settings.whisper_cpu_threads
        )
        segments, info = BatchedInferencePipeline(model).transcribe(
            str(audio), beam_size=settings.whisper_beam_size, batch_size=batch, vad_filter=True
        )
        count, seconds = len(list(segments)), info.duration
    else:
        from tubescribe.stages.transcribe.whisper import transcribe_file

        transcript = transcribe_file("long", audio, settings)
        count, seconds = len(transcript.segments), transcript.audio_duration_s
    shutil.rmtree(settings.home, ignore_errors=True)
    return {
        "wall": time.perf_counter() - started,
        "audio_s": seconds,
        "segments": count,
        "rss_start": baseline,
        "maxrss": maxrss(),
    }


def stage_batch(home: Path, first: int, count: int) -> list[str]:
    """Write `count` synthetic videos' artifacts as the earlier stages would leave them."""
    import synthetic

    from tubescribe.settings import Settings
    from tubescribe.store import Store

    store = Store(Settings(home=home))
    return [synthetic.stage(store, n, synthetic.channels_for(count), (10, 50)) for n in range(first, first + count)]


def worker_load(home: Path, ids: list[str]) -> dict:
    """The load task (`tubescribe.catalog.load.load_videos`) on staged artifacts."""
    import synthetic

    from tubescribe.catalog.load import load_videos
    from tubescribe.settings import Settings

    baseline = psutil.Process().memory_info().rss
    started = time.perf_counter()
    result = load_videos(Settings(home=home), ids, synthetic.TRANSCRIPT_KEY, synthetic.SUMMARY_KEY)
    return {
        "wall": time.perf_counter() - started,
        "loaded": len(result.loaded),
        "rss_start": baseline,
        "maxrss": maxrss(),
    }


def existing_catalog(home: Path, videos: int) -> None:
    """Pre-fill the catalog with `videos` synthetic videos (see catalog_scale.py), so the load lands on a big one."""
    import catalog_scale

    from tubescribe.settings import Settings

    args = argparse.Namespace(videos=videos, seed=min(videos, 2000), segments=(10, 50), batch=500)
    catalog_scale.build(Settings(home=home), args)


def measure(argv: list[str]) -> dict:
    [result], peak = run_processes([[sys.executable, __file__, *argv]])
    result["peak"] = peak
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the long audio file (default 60)")
    parser.add_argument("--batch-sizes", default="16", help="also measure batched inference at these sizes ('' skips)")
    parser.add_argument("--videos", type=int, default=100, help="videos in the load batch (default 100)")
    parser.add_argument("--existing", type=int, default=0, help="videos already in the catalog before that load")
    parser.add_argument(
        "--chunk-s",
        help="TUBESCRIBE_WHISPER_CHUNK_S values for `transcribe_file`, comma-separated (0: whole file; "
        "default: the setting's default)",
    )
    parser.add_argument("--quick", action="store_true", help="5 minutes of audio, no batched run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "load":
        print(json.dumps(worker_load(args.path, args.ids.split(","))))
        return
    if args.worker:
        chunk_s = float(args.chunk_s) if args.chunk_s else None
        print(json.dumps(worker_transcribe(args.path, int(args.worker), chunk_s)))
        return
    minutes = 5.0 if args.quick and args.minutes == 60.0 else args.minutes
    batches = [] if args.quick else [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    head = header("Memory")
    work = Path(tempfile.mkdtemp(prefix="tubescribe-memory-bench-"))
    try:
        audio = work / "long.wav"
        seconds = long_audio(audio, minutes)
        rows = []
        chunks = args.chunk_s.split(",") if args.chunk_s else [""]
        for batch, chunk in [(0, chunk) for chunk in chunks] + [(batch, "") for batch in batches]:
            print(f"  transcribing {seconds:.0f} s, batch {batch or 'off'} {chunk}", file=sys.stderr, flush=True)
            r = measure(["--worker", str(batch), "--path", str(audio), "--chunk-s", chunk])
            if batch:
                what = f"batched, batch_size {batch}, beam 5, VAD"
            elif chunk:
                what = f"`transcribe_file`, TUBESCRIBE_WHISPER_CHUNK_S={chunk}"
            else:
                what = "`transcribe_file` (default settings)"
            rows.append(
                [
                    what,
                    f"{r['audio_s']:.0f} s audio",
                    f"{r['wall']:.0f}",
                    f"{r['rss_start'] / MIB:.0f}",
                    f"{r['peak'] / MIB:.0f}",
                ]
            )
        home = work / "home"
        if args.existing:
            print(f"  building a catalog of {args.existing} videos", file=sys.stderr, flush=True)
            existing_catalog(home, args.existing)
        ids = stage_batch(home, args.existing, args.videos)
        r = measure(["--worker", "load", "--path", str(home), "--ids", ",".join(ids)])
        rows.append(
            [
                f"`load_videos`, {r['loaded']} videos into a catalog of {args.existing}",
                f"{args.videos} videos",
                f"{r['wall']:.1f}",
                f"{r['rss_start'] / MIB:.0f}",
                f"{r['peak'] / MIB:.0f}",
            ]
        )
        print(
            head
            + "\n"
            + table(["what", "input", "wall s", "RSS before the work MiB", "peak RSS MiB"], rows)
            + f"\n\nAudio file: {audio.stat().st_size / MIB:.0f} MiB WAV ({seconds / 60:.0f} min)."
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

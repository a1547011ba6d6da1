"""Transcription speed, memory and accuracy on the sample channel.

(a) overhead: the pipeline's transcribe stage (`tubescribe.stages.transcribe.whisper.transcribe_file`, default
    Settings) against
    faster-whisper called directly with the same model and options, alternating per file, in one process.
(b) sweep: one configuration per set of worker subprocesses (so peaks are separate), repeats interleaved
    across configurations so drift hits them all alike; speed, peak RSS and WER against the source texts.

A configuration is `baseline` or tokens joined by '+', each changing one thing from the pipeline's defaults
(sequential, beam 5, VAD on, timestamps on, int8, CTranslate2's default threads, temperature fallback on):
  beamN  batchN (BatchedInferencePipeline)  threadsN  workersN (N processes, 1 thread each unless threadsN)
  novad  notimestamps  float32 / int8_float32 / ...  nofallback (temperature 0 only)
e.g. `batch16+beam1`. Run `--list` for the default set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from common import MIB, header, maxrss, median, run_processes, table, wer, write_wav

DEFAULT_CONFIGS = (
    "baseline",
    "beam1",
    "nofallback",
    "notimestamps",
    "novad",
    "float32",
    "threads1",
    "threads2",
    "workers2",
    "workers2+beam1",
    "batch8",
    "batch16",
    "batch8+beam1",
    "batch16+beam1",
    "batch8+notimestamps",
    "workers2+batch8+beam1",
)
QUICK_CONFIGS = ("baseline", "beam1", "threads1", "workers2", "batch8")
QUICK_FILES = ["rust", "react"]  # the two shortest, so that two workers each get one


@dataclass(frozen=True)
class Config:
    name: str = "baseline"
    beam: int = 5
    batch: int = 0
    threads: int = 0
    workers: int = 1
    vad: bool = True
    timestamps: bool = True
    compute: str = "int8"
    fallback: bool = True

    @classmethod
    def parse(cls, name: str) -> Config:
        config = cls(name=name)
        threads_given = False
        for token in name.split("+"):
            number = token.lstrip("abcdefghijklmnopqrstuvwxyz")
            word = token[: len(token) - len(number)]
            if token == "baseline":
                continue
            if word in ("beam", "batch", "threads", "workers") and number.isdigit():
                config = replace(config, **{word: int(number)})
                threads_given |= word == "threads"
            elif token in ("novad", "notimestamps", "nofallback"):
                config = replace(config, **{token[2:]: False})
            elif token in ("int8", "int8_float32", "int16", "float32"):
                config = replace(config, compute=token)
            else:
                raise SystemExit(f"unknown configuration token {token!r} in {name!r}; see the module docstring")
        if config.workers > 1 and not threads_given:
            config = replace(config, threads=1)
        return config


def sample_files(ids: list[str] | None) -> dict[str, Path]:
    """The sample channel's media files, by video id, in feed order."""
    from tubescribe.sample import SAMPLE_DIR, sample_ids

    chosen = ids or sample_ids()
    files = {}
    for video_id in chosen:
        media = [p for p in SAMPLE_DIR.glob(f"{video_id}.*") if p.suffix not in (".txt", ".tmpl")]
        if not media:
            raise SystemExit(f"no sample media for {video_id!r}; choose from {', '.join(sample_ids())}")
        files[video_id] = media[0]
    return files


def reference(video_id: str) -> str:
    from tubescribe.sample import SAMPLE_DIR

    return (SAMPLE_DIR / f"{video_id}.txt").read_text(encoding="utf-8")


def worker(config: Config, files: dict[str, Path], seed: int) -> dict:
    """Transcribe `files` with one configuration; the clock starts once the model is loaded."""
    import ctranslate2
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    # Temperature fallback samples at random: a seed per repeat, shared by every configuration, pairs the runs.
    ctranslate2.set_random_seed(seed)

    from tubescribe.settings import BUNDLED_MODEL
    from tubescribe.stages.transcribe.whisper import model_path

    model = WhisperModel(
        model_path(BUNDLED_MODEL), device="cpu", compute_type=config.compute, cpu_threads=config.threads
    )
    runner = BatchedInferencePipeline(model) if config.batch else model
    options: dict = {"beam_size": config.beam, "vad_filter": config.vad, "without_timestamps": not config.timestamps}
    if not config.fallback:
        options["temperature"] = 0.0
    if config.batch:
        options["batch_size"] = config.batch
    texts, audio_s, started = {}, 0.0, time.time()
    for video_id, path in files.items():
        audio: object = str(path)
        clips = {}
        if config.batch and not config.vad:  # the batched pipeline needs clips when VAD is off: fixed 30 s windows
            audio = decode_audio(str(path))
            seconds = len(audio) / 16000  # type: ignore[arg-type]
            clips = {
                "clip_timestamps": [{"start": t, "end": min(t + 30.0, seconds)} for t in range(0, int(seconds), 30)]
            }
        segments, info = runner.transcribe(audio, **options, **clips)
        texts[video_id] = " ".join(s.text.strip() for s in segments)
        audio_s += info.duration
    return {"texts": texts, "audio_s": audio_s, "start": started, "end": time.time(), "maxrss": maxrss()}


def split(files: dict[str, Path], parts: int) -> list[dict[str, Path]]:
    """Share files among workers by audio length (longest first, to the least loaded), not by count."""
    import av

    def seconds(path: Path) -> float:
        with av.open(str(path)) as container:
            return container.duration / 1e6

    shares: list[dict[str, Path]] = [{} for _ in range(parts)]
    loads = [0.0] * parts
    for video_id, path in sorted(files.items(), key=lambda item: -seconds(item[1])):
        i = loads.index(min(loads))
        shares[i][video_id] = path
        loads[i] += seconds(path)
    return [s for s in shares if s]


def run_config(config: Config, files: dict[str, Path], seed: int) -> dict:
    """One run of a configuration in fresh subprocesses: wall from the first start to the last end."""
    commands = [
        [
            sys.executable,
            __file__,
            "--worker",
            json.dumps(asdict(config)),
            "--seed",
            str(seed),
            "--files",
            ",".join(share),
        ]
        for share in split(files, config.workers)
    ]
    results, peak_total = run_processes(commands)
    texts = {k: v for r in results for k, v in r["texts"].items()}
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {
        "processes": len(results),
        "wall": wall,
        "audio_s": sum(r["audio_s"] for r in results),
        "texts": texts,
        "peak_process": max(r["maxrss"] for r in results),
        "peak_total": peak_total,
    }


def sweep(names: list[str], files: dict[str, Path], repeats: int) -> str:
    configs = [Config.parse(name) for name in names]
    runs: dict[str, list[dict]] = {c.name: [] for c in configs}
    for r in range(repeats):
        for config in configs if r % 2 == 0 else reversed(configs):
            run = run_config(config, files, seed=r + 1)
            runs[config.name].append(run)
            print(f"  repeat {r + 1}/{repeats} {config.name}: {run['wall']:.1f} s", file=sys.stderr, flush=True)
    refs = [reference(v) for v in files]
    base = runs.get("baseline")
    base_wall = median([x["wall"] for x in base]) if base else None
    base_wer = median([wer(refs, [x["texts"][v] for v in files]) for x in base]) if base else None
    rows = []
    for config in configs:
        walls = [x["wall"] for x in runs[config.name]]
        wall = median(walls)
        # Fallback sampling makes WER vary with the seed (one per repeat): take the median too.
        error = median([wer(refs, [x["texts"][v] for v in files]) for x in runs[config.name]])
        rows.append(
            [
                f"`{config.name}`",
                f"{runs[config.name][0]['processes']}×{config.threads or 'default'}",
                f"{wall:.1f}",
                f"{runs[config.name][0]['audio_s'] / wall:.1f}",
                f"{wall / base_wall:.2f}" if base_wall else "-",
                f"{error:.3f}",
                f"{error - base_wer:+.3f}" if base_wer is not None else "-",
                f"{max(x['peak_process'] for x in runs[config.name]) / MIB:.0f}",
                f"{max(x['peak_total'] for x in runs[config.name]) / MIB:.0f}",
            ]
        )
    audio = runs[configs[0].name][0]["audio_s"]
    return (
        f"Sweep over {len(files)} file(s), {audio:.0f} s of audio, median of {repeats} run(s); "
        "WER is the median over the runs too.\n\n"
        + table(
            [
                "configuration",
                "processes×threads",
                "wall s",
                "audio s / wall s",
                "wall vs baseline",
                "WER",
                "ΔWER",
                "peak RSS / process MiB",
                "peak RSS total MiB",
            ],
            rows,
        )
    )


def overhead(files: dict[str, Path], repeats: int) -> str:
    """Pipeline stage vs a direct faster-whisper call, same options, alternating which goes first."""
    import ctranslate2
    from faster_whisper import decode_audio

    from tubescribe.settings import Settings
    from tubescribe.stages.transcribe.whisper import load_model, transcribe_file

    settings = Settings(home=Path(tempfile.mkdtemp(prefix="tubescribe-bench-")))
    # One model object for both sides (the stage's cached one, at its per-worker thread count), so the
    # ratio measures the stage's own code and not two copies of the weights in different memory.
    threads = settings.transcription_threads()
    direct_model = load_model(settings.whisper_model, settings.whisper_device, settings.whisper_compute_type, threads)

    def pipeline(video_id: str, path: Path) -> str:
        return transcribe_file(video_id, path, settings).text

    def direct(video_id: str, path: Path) -> str:
        segments, _ = direct_model.transcribe(
            str(path),
            language=settings.whisper_language,
            beam_size=settings.whisper_beam_size,
            vad_filter=settings.whisper_vad,
        )
        return " ".join(s.text.strip() for s in segments)

    # Warm both up (VAD model, allocator, caches) on a 10 s clip, so neither pays first-call costs in the timing.
    clip = Path(settings.home) / "warmup.wav"
    write_wav(clip, decode_audio(str(next(iter(files.values()))))[: 16000 * 10])
    pipeline("warmup", clip)
    direct("warmup", clip)
    times: dict[str, list[float]] = {"pipeline": [], "direct": []}
    wers: dict[str, list[float]] = {"pipeline": [], "direct": []}
    pairs: list[float] = []  # pipeline / direct for one file in one run: robust to one run's fallback luck
    refs = [reference(v) for v in files]
    for r in range(repeats):
        texts: dict[str, dict[str, str]] = {"pipeline": {}, "direct": {}}
        totals = {"pipeline": 0.0, "direct": 0.0}
        for i, (video_id, path) in enumerate(files.items()):
            order = [("pipeline", pipeline), ("direct", direct)]
            took = {}
            for name, fn in order if (r + i) % 2 == 0 else reversed(order):
                started = time.perf_counter()
                # Same seed for both; the temperature fallback's sampling still differs from call to call
                # (zig.m4a: three calls on one path gave three texts), hence WER as a median of runs.
                ctranslate2.set_random_seed(r + 1)
                texts[name][video_id] = fn(video_id, path)
                took[name] = time.perf_counter() - started
                totals[name] += took[name]
            pairs.append(took["pipeline"] / took["direct"])
        for name, seconds in totals.items():
            times[name].append(seconds)
            wers[name].append(wer(refs, [texts[name][v] for v in files]))
        print(f"  repeat {r + 1}/{repeats}: {totals}", file=sys.stderr, flush=True)
    ratio = median(times["pipeline"]) / median(times["direct"])
    per_repeat = median([p / d for p, d in zip(times["pipeline"], times["direct"], strict=True)])
    rows = [
        [name, f"{median(times[name]):.2f}", f"{median(wers[name]):.3f}", " ".join(f"{w:.3f}" for w in wers[name])]
        for name in ("pipeline", "direct")
    ]
    return (
        f"Overhead over {len(files)} file(s), median of {repeats} run(s), model loaded beforehand.\n\n"
        + table(["transcribe", "wall s", "WER (median)", "WER per run"], rows)
        + f"\n\nratio pipeline / direct: {ratio:.3f} (medians of run totals),"
        + f" median of per-run ratios {per_repeat:.3f},"
        + f" **median of per-file ratios {median(pairs):.3f}** over {len(pairs)} pairs (goal ≤ 1.02);"
        + f" per-file ratios {min(pairs):.3f} to {max(pairs):.3f}"
        + "\n\n"
        + profile(lambda: [pipeline(v, p) for v, p in files.items()])
    )


def profile(call: Callable[[], object], top: int = 8) -> str:
    """Where one pass of the stage spends its time: cProfile's own time per function, largest first."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(call)
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    cells = [
        [f"`{Path(file).name}:{line} {name}`", f"{own:.2f}", f"{own / total:.1%}"]
        for (file, line, name), (_, _, own, _, _) in rows
    ]
    return f"Profile of one pass of the stage ({total:.1f} s in all, cProfile):\n\n" + table(
        ["function", "own s", "share"], cells
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("overhead", "sweep", "all"), default="all")
    parser.add_argument("--configs", help="comma-separated configurations (default: the full set; see --list)")
    parser.add_argument("--files", help="comma-separated sample video ids (default: all five)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="two short files, one repeat, five configurations")
    parser.add_argument("--list", action="store_true", help="print the default configurations and exit")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.list:
        print("\n".join(DEFAULT_CONFIGS))
        return
    ids = args.files.split(",") if args.files else (QUICK_FILES if args.quick else None)
    files = sample_files(ids)
    if args.worker:
        print(json.dumps(worker(Config(**json.loads(args.worker)), files, args.seed)))
        return
    repeats = 1 if args.quick and args.repeats == 3 else args.repeats
    names = args.configs.split(",") if args.configs else list(QUICK_CONFIGS if args.quick else DEFAULT_CONFIGS)
    out = [header("Transcription")]
    if args.part in ("overhead", "all"):
        out.append(overhead(files, repeats))
    if args.part in ("sweep", "all"):
        out.append(sweep(names, files, repeats))
    print("\n\n".join(out))


if __name__ == "__main__":
    main()

"""What each DAG task does, one function per task: the DAG files only wire these together.

Tasks pass lists of video ids (never transcripts or audio). Every per-video step skips work whose
artifact already exists, records a failure artifact instead of stopping the batch, and leaves the
catalog to the single `load` task. One module of about 330 lines on purpose: the task bodies side by
side are the pipeline's one readable page, and each is short.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tubescribe.errors import Kind, TubescribeError, classify
from tubescribe.pipeline import progress
from tubescribe.pipeline.batch import Outcome, run_stage, video_platform
from tubescribe.pipeline.platforms import block, blocked, client_options, platform_of, slot
from tubescribe.records import Video
from tubescribe.settings import OVERRIDES, Settings
from tubescribe.stages.channels import Channel, load_channels
from tubescribe.stages.discover import DiscoverError, list_channel, select
from tubescribe.store import Accepted, Store

log = logging.getLogger(__name__)


class PlatformBlocked(TubescribeError):
    """A platform told us to back off (HTTP 429, a bot check) and its cooldown has not passed yet."""

    kind = Kind.BLOCKED


class IngestFailed(TubescribeError):
    """Some selected videos did not land; they are listed in the catalog with their error."""


def settings_from_params(params: dict[str, Any] | None) -> Settings:
    """Settings for a DAG run: the environment's, with the run's overrides (settings.OVERRIDES; None: unset)."""
    params = params or {}
    return Settings.load(**{override.name: params.get(override.name) for override in OVERRIDES})


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def discover(
    settings: Settings,
    urls: list[str],
    since: Any = None,
    until: Any = None,
    limit: int | None = None,
    max_batches: int = 1024,
    *,
    retry_permanent: bool = True,
    channel: Channel | None = None,
    run_id: str | None = None,
) -> list[list[str]]:
    """List the channels, keep the selected videos that still need work, save their records, batch their ids.

    Videos already landed with the current settings are skipped before anything is downloaded, which
    is what makes a nightly run with nothing new cheap. A listing shorter than before deletes nothing.

    A URL that cannot be listed (dead, or its platform blocked) never stops the others. When nothing
    could be chosen because of it, the error is raised (the run fails with the reason; a transient one
    is retried by Airflow); otherwise the run goes on with the rest and its report fails on the skip.
    """
    from tubescribe.pipeline.upgrade import upgrade_ids_once

    upgrade_ids_once(settings)
    store = Store(settings)
    settled = settled_ids(settings, retry_permanent)
    listed, unlisted = list_urls(settings, urls, since, until, limit, channel)
    for url, problem in unlisted:
        progress.emit(url, "discover", "failed", str(problem))
    problems = [problem for _, problem in unlisted]
    chosen: list[str] = []
    for video in listed:
        if video.video_id in settled:
            progress.emit(video.video_id, "discover", "skipped", "already in the catalog")
            continue
        store.save_video(video)
        # A new run is a new attempt: yesterday's failure must not stop today's retry.
        store.clear_failure(video.video_id)
        progress.emit(video.video_id, "discover", "done", video.title, title=video.title, audio_s=video.duration_s)
        chosen.append(video.video_id)
    if problems and not chosen:
        # A transient one first: Airflow's retry of this task may then list everything.
        raise next((p for p in problems if p.transient), problems[0])
    if problems and run_id:
        store.save_skipped(run_id, [*store.skipped(run_id), *(str(p) for p in problems)])
    # Never more mapped task instances than Airflow allows: grow the batches instead.
    size = max(settings.batch_size, math.ceil(len(chosen) / max_batches)) if chosen else 1
    return [chosen[i : i + size] for i in range(0, len(chosen), size)]


def list_urls(
    settings: Settings,
    urls: list[str],
    since: Any = None,
    until: Any = None,
    limit: int | None = None,
    channel: Channel | None = None,
) -> tuple[list[Video], list[tuple[str, TubescribeError]]]:
    """The selected videos of every URL that could be listed (each id once, in listing order), and each
    other URL with why it could not be: the one listing rule of the runs and of their plan.

    A blocked platform is not asked; a listing takes the platform's slot; a listing the platform
    refuses (HTTP 429, "confirm you're not a bot") blocks the platform for every worker.
    """
    videos: dict[str, Video] = {}
    problems: list[tuple[str, TubescribeError]] = []
    for url in urls:
        reason = blocked(settings, platform_of(url))
        if reason:
            problems.append((url, PlatformBlocked(f"{url}: {platform_of(url)} is blocked for now: {reason}")))
            continue
        try:
            with slot(settings, platform_of(url)):
                listed = list_channel(url, client_options(settings))
        except DiscoverError as exc:
            failed: TubescribeError = exc
            if classify(exc) is Kind.BLOCKED:
                block(settings, platform_of(url), str(exc))
                # Said where it happens: the first failure's log, the run's result and its report.
                failed = DiscoverError(
                    f"{exc}; {platform_of(url)} is now blocked for {settings.block_cooldown_s:.0f} s "
                    "(TUBESCRIBE_BLOCK_COOLDOWN_S): no request goes to it until then",
                    kind=Kind.BLOCKED,
                )
            problems.append((url, failed))
            continue
        if channel is not None:
            listed = [video for video in listed if channel.accepts(video)]
        for video in select(listed, _date(since), _date(until), limit):
            videos.setdefault(video.video_id, video)
    return list(videos.values()), problems


def settled_ids(settings: Settings, retry_permanent: bool) -> set[str]:
    """Ids of videos the catalog says need no work (see sql/queries/settled_videos.sql)."""
    from tubescribe.catalog.connection import catalog_exists, connect_read_only
    from tubescribe.catalog.sql import run_sql
    from tubescribe.stages.summarize import get_summarizer, summary_key

    if not catalog_exists(settings):
        return set()
    accepted = accepted_transcripts(settings)
    params = {
        "whisper_key": accepted.whisper_key,
        "other_whisper": accepted.other_whisper,
        "caption_keys": list(accepted.caption_keys),
        "summary_key": summary_key(get_summarizer(settings)),
        "retry_permanent": retry_permanent,
    }
    with connect_read_only(settings) as con:
        return {video_id for (video_id,) in run_sql(con, "queries/settled_videos", params)}


def discover_registered(settings: Settings, max_batches: int = 1024, run_id: str | None = None) -> list[list[str]]:
    """Batches for the nightly run: every registered channel, by its rules; permanent failures stay put.

    One dead or blocked channel must not stop the night for the others: it is skipped, and the skip is
    kept for the run's report, which then fails the run naming it (a green night that listed nothing
    from a blocked platform would hide the block).
    """
    batches: list[list[str]] = []
    skipped: list[str] = []
    for channel in load_channels(settings):
        try:
            batches += discover(
                settings,
                [channel.url],
                since=channel.since,
                limit=channel.max_videos,
                max_batches=max_batches,
                retry_permanent=False,
                channel=channel,
            )
        except TubescribeError as exc:
            log.error("skipping channel %s tonight: %s", channel.url, exc)
            skipped.append(f"{exc} ({exc.kind})")
    if skipped and run_id:
        Store(settings).save_skipped(run_id, skipped)
    return batches


def select_loaded(settings: Settings, where: str | None = None) -> list[list[str]]:
    """Batches of videos already in the catalog (optionally filtered), for re-summarizing."""
    from tubescribe.catalog.sandbox import SandboxError, execute, sandboxed, valid_filter

    store = Store(settings)
    # The filter is the user's own SQL over video_overview, run in the same sandbox as `tubescribe query`.
    # It is parsed by DuckDB as exactly one expression and spliced back as DuckDB renders it, so it cannot
    # close the parenthesis, comment out the rest or add a statement.
    sql = "SELECT video_id FROM video_overview WHERE status = 'loaded'"
    try:
        where = valid_filter(where) if where else None
        sql = f"{sql} AND ({where}) ORDER BY video_id" if where else f"{sql} ORDER BY video_id"
        with sandboxed(settings) as con:
            _, rows = execute(con, sql)
    except SandboxError as exc:
        progress.emit("--where", "select", "failed", str(exc))
        raise
    chosen = [video_id for (video_id,) in rows]
    for video_id in chosen:
        store.clear_failure(video_id)
        progress.emit(video_id, "select", "done", "already transcribed")
    size = settings.batch_size
    return [chosen[i : i + size] for i in range(0, len(chosen), size)]


def _video(store: Store, video_id: str):
    video = store.video(video_id)
    if video is None:
        raise LookupError(f"{video_id} was never discovered; run discover first")
    return video


def accepted_transcripts(settings: Settings) -> Accepted:
    """The stored transcripts these settings accept as done, best first: Whisper's with these settings,
    then (TUBESCRIBE_RETRANSCRIBE=never) Whisper's with any other, then the captions the policy allows.

    Whisper comes before captions so that a video re-transcribed with Whisper keeps that transcript
    under a policy that also accepts its captions.
    """
    from tubescribe.stages.captions import allowed_keys
    from tubescribe.stages.transcribe.whisper import settings_key

    return Accepted(settings_key(settings), settings.retranscribe == "never", allowed_keys(settings.captions))


def download(settings: Settings, video_ids: list[str], run_id: str | None = None) -> list[str]:
    """Take each video's transcript from its captions when they pass the checks, else download its audio.

    Nothing is fetched for a video that already has a transcript these settings accept, or its audio.
    """
    from tubescribe.stages.captions import from_captions
    from tubescribe.stages.download import extracted, fetch_audio

    accepted = accepted_transcripts(settings)

    def work(store: Store, video_id: str) -> Outcome | None:
        if store.accepted_transcript(video_id, accepted) or store.media_key(video_id):
            return None
        video = _video(store, video_id)
        with extracted(video, store, client_options(settings)) as (ydl, info):
            captions = from_captions(
                video, info, ydl, settings.captions, settings.caption_languages, settings.sleep_captions_s
            )
            store.save_caption_check(captions.check)
            if captions.transcript is not None:
                store.save_transcript(captions.transcript)
                return Outcome(
                    f"captions: {captions.check.reason}",
                    audio_s=captions.transcript.audio_duration_s,
                    model=f"captions/{captions.check.kind}",
                )
            path = fetch_audio(video, store, ydl, info)
        size = path.stat().st_size
        # With a shared store the transcriber may be another machine: this one keeps no copy.
        store.discard_local_media(video_id)
        return Outcome(f"{size / 1e6:.1f} MB (captions: {captions.check.reason})", audio_s=video.duration_s)

    return run_stage(settings, video_ids, "download", work, platform=video_platform, run_id=run_id)


def transcribe(settings: Settings, video_ids: list[str], run_id: str | None = None) -> list[str]:
    """Transcribe each downloaded video unless it has a transcript these settings accept (accepted_transcripts)."""
    from tubescribe.stages.transcribe.whisper import TranscribeError, parallel, transcribe_file

    accepted = accepted_transcripts(settings)
    store = Store(settings)
    with contextlib.ExitStack() as fetched:
        # Whisper reads local files: with a shared store the batch's media is fetched into scratch,
        # and the copies fetched here are removed when the batch is done.
        local: dict[str, Path] = {}
        for video_id in video_ids:
            if store.failure(video_id) is None and store.accepted_transcript(video_id, accepted) is None:
                audio = fetched.enter_context(store.media_local(video_id))
                if audio:
                    local[video_id] = audio
        jobs = list(local.items())

        with parallel(settings, jobs) as started:

            def work(store: Store, video_id: str) -> Outcome | None:
                if store.accepted_transcript(video_id, accepted):
                    return None
                audio = local.get(video_id) or fetched.enter_context(store.media_local(video_id))
                if audio is None:
                    raise LookupError(f"{video_id} has no downloaded audio")
                try:
                    # A retry after a failure in a worker runs here, in this process.
                    future = started.pop(video_id, None)
                    transcript = future.result() if future else transcribe_file(video_id, audio, settings)
                except TranscribeError:
                    # Undecodable media: drop it so a later (explicit) run downloads it again instead of reusing it.
                    store.drop_media(video_id)
                    raise
                store.save_transcript(transcript)
                return Outcome(
                    f"{transcript.audio_duration_s:.0f} s of audio, {len(transcript.segments)} segments",
                    audio_s=transcript.audio_duration_s,
                    model=settings.whisper_model,
                    seconds=transcript.elapsed_s,
                )

            return run_stage(settings, video_ids, "transcribe", work, run_id=run_id)


def summarize(settings: Settings, video_ids: list[str], run_id: str | None = None) -> list[str]:
    """Summarize each transcript unless this backend, model and prompt version already did, from that transcript."""
    from tubescribe.stages.summarize import get_summarizer, summary_key

    summarizer = get_summarizer(settings)
    key, accepted = summary_key(summarizer), accepted_transcripts(settings)
    llm = (
        f"llm:{platform_of(settings.openai_base_url or 'https://api.openai.com')}"
        if summarizer.backend == "openai"
        else None
    )

    def work(store: Store, video_id: str) -> Outcome | None:
        transcript = store.find_transcript(video_id, accepted)
        if transcript is None:
            raise LookupError(f"{video_id} has no transcript")
        done = store.summary(video_id, key)
        # A summary of another transcript (captions since replaced by Whisper, say) is stale.
        if done and done.transcript_key in (None, transcript.settings_key):
            return None
        record = summarizer.summarize(_video(store, video_id), transcript)
        # Which transcript it summarizes: a summary of a replaced one is stale (the check above).
        record = record.model_copy(update={"transcript_key": transcript.settings_key})
        store.save_summary(record, key)
        return Outcome(
            f"{summarizer.backend}/{summarizer.model}",
            audio_s=transcript.audio_duration_s,
            model=f"{summarizer.backend}/{summarizer.model}",
        )

    # No stage retries here: the LLM client already retries under its own cap (TUBESCRIBE_OPENAI_MAX_ATTEMPTS).
    return run_stage(
        settings, video_ids, "summarize", work, platform=lambda store, video_id: llm, retries=0, run_id=run_id
    )


def embed(settings: Settings, video_ids: list[str], run_id: str | None = None) -> list[str]:
    """Embed each video's transcript chunks and summary sections, unless this model already embedded
    exactly these (a changed transcript or summary is embedded again). Nothing to do when embeddings are off."""
    import base64

    from tubescribe.records import EmbeddedPassage, Embeddings
    from tubescribe.stages.embed import embedding_key, get_embedder, model_name
    from tubescribe.stages.embed.chunks import summary_sections, transcript_chunks
    from tubescribe.stages.summarize import get_summarizer, summary_key

    embedder = get_embedder(settings)
    if embedder is None:
        return video_ids
    ekey, skey, accepted = (
        embedding_key(embedder),
        summary_key(get_summarizer(settings)),
        accepted_transcripts(settings),
    )

    def work(store: Store, video_id: str) -> Outcome | None:
        transcript = store.find_transcript(video_id, accepted)
        if transcript is None:
            raise LookupError(f"{video_id} has no transcript")
        summary = store.summary(video_id, skey)
        done = store.embeddings(video_id, ekey)
        made_from = (transcript.settings_key, skey if summary else None)
        if done and (done.transcript_key, done.summary_key) == made_from:
            return None
        passages = transcript_chunks(transcript) + (summary_sections(summary) if summary else [])
        started = time.perf_counter()
        vectors = embedder.passages([p.text for p in passages])
        store.save_embeddings(
            Embeddings(
                video_id=video_id,
                model=model_name(embedder),
                dim=int(vectors.shape[1]) if len(passages) else 0,
                transcript_key=made_from[0],
                summary_key=made_from[1],
                passages=tuple(EmbeddedPassage(**vars(p)) for p in passages),
                vectors=base64.b64encode(vectors.astype("<f4").tobytes()).decode("ascii"),
                created_at=datetime.now(UTC),
                elapsed_s=round(time.perf_counter() - started, 3),
            ),
            ekey,
        )
        return Outcome(f"{len(passages)} passages", audio_s=transcript.audio_duration_s, model=model_name(embedder))

    return run_stage(settings, video_ids, "embed", work, run_id=run_id)


def load(settings: Settings, video_ids: list[str]) -> dict[str, list[str]]:
    """Write the batch into the catalog (the only task that writes it)."""
    from tubescribe.catalog.load import load_videos
    from tubescribe.stages.embed import embedding_key, get_embedder
    from tubescribe.stages.summarize import get_summarizer, summary_key

    embedder = get_embedder(settings)
    result = load_videos(
        settings,
        video_ids,
        accepted_transcripts(settings),
        summary_key(get_summarizer(settings)),
        embedding_key(embedder) if embedder else None,
    )
    for video_id in result.loaded:
        progress.emit(video_id, "load", "done", "in the catalog")
    return {"loaded": list(result.loaded), "failed": list(result.failed), "pending": list(result.pending)}


def report(
    results: list[dict[str, list[str]]], settings: Settings | None = None, run_id: str | None = None
) -> dict[str, int]:
    """Sum up the run; fail it (so the CLI exits non-zero) when any selected video did not land or a
    channel could not be listed."""
    totals = {key: sum(len(r.get(key, [])) for r in results) for key in ("loaded", "failed", "pending")}
    skipped = Store(settings).skipped(run_id) if settings is not None and run_id else []
    totals["channels_skipped"] = len(skipped)
    log.info("run summary: %s", totals)
    problems = []
    if totals["failed"] or totals["pending"]:
        failed = [v for r in results for v in r.get("failed", []) + r.get("pending", [])]
        problems.append(
            f"{len(failed)} did not land: {', '.join(failed[:20])} (see the videos table's status and error_message)"
        )
    if skipped:
        problems.append("not listed: " + "; ".join(skipped[:20]))
    if problems:
        raise IngestFailed(f"{totals['loaded']} landed, " + "; ".join(problems))
    return totals

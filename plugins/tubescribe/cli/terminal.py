"""How output is rendered: rows, tables and text from outside, made safe for a terminal.

Whatever came from outside (titles, URLs, SQL results, HTTP messages, model answers) reaches rich only
as `Text` objects — never as markup strings — and without control characters, so `[/dim]` prints as
written and `ESC]0;...` cannot retitle or clear the terminal. When stdout is not a terminal, tables are
tab-separated lines, never truncated or coloured. `json_value` is the one rule for JSON output, shared
by `tubescribe query` and `tubescribe export`, lives in text.py (no rich there). A run's progress
is drawn by live.py with these same rules: live on a terminal, plain lines elsewhere.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from tubescribe.text import clean_text, clock, csv_value, json_value, usd

# The table form shows at most this many rows: a table is for reading, and every row collected costs
# memory (CSV and JSON stream instead). 10,000 rows of a wide table stay well under 100 MB.
TABLE_ROWS = 10_000
# Rows fetched per round trip when streaming CSV/JSON: small enough to stay a few MB, big enough that
# the per-call cost is noise.
CHUNK_ROWS = 2_048


def console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr): colour and width only when it is a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    # rich decides what a terminal is (isatty, or FORCE_COLOR / TTY_COMPATIBLE set by the user).
    live = Console(file=stream, highlight=False)
    if live.is_terminal:
        return live
    # Not a terminal: no colour and no wrapping. Our tables are tab-separated there (see print_table);
    # the width only bounds rules and the rich tables of callers that have not moved here yet.
    return Console(file=stream, highlight=False, no_color=True, color_system=None, width=1_000, soft_wrap=True)


def safe(value: object, style: str = "") -> Text:
    """Untrusted text as a rich Text: never markup, no control characters (tab and newline kept)."""
    return Text(clean_text("" if value is None else str(value)), style=style)


def cell(value: object) -> str:
    """One value as table text, without control characters."""
    if value is None:
        return ""
    plain = json_value(value)
    text = json.dumps(plain, ensure_ascii=False) if isinstance(plain, (list, dict)) else str(plain)
    return clean_text(text)


def print_table(out: Console, columns: Sequence[str], rows: Iterable[Sequence[object]], title: str = "") -> None:
    """A table of untrusted values: a rich table on a terminal, tab-separated lines elsewhere."""
    if not out.is_terminal:
        # Tabs and newlines inside a value would break the lines apart; they become spaces.
        def flat(v: object) -> str:
            return " ".join(cell(v).replace("\t", " ").splitlines())

        out.file.write("\t".join(map(flat, columns)) + "\n")
        for row in rows:
            out.file.write("\t".join(map(flat, row)) + "\n")
        out.file.flush()
        return
    # Headers too are untrusted (a query's column names): a str header would be read as markup.
    table = Table(title=safe(title) if title else None)
    for column in columns:
        table.add_column(safe(column))
    for row in rows:
        table.add_row(*(v if isinstance(v, Text) else safe(cell(v)) for v in row))
    out.print(table)


def print_line(out: Console, *parts: object) -> None:
    """One line made of untrusted values (strings) and styled Text pieces of ours."""
    text = Text()
    for part in parts:
        text.append(part if isinstance(part, Text) else safe(part))
    out.print(text)


def error(out: Console, message: object) -> None:
    """`error: message` on the given (stderr) console; the message is untrusted text."""
    print_line(out, Text("error: ", style="red"), message)


# -- rows as CSV / JSON ---------------------------------------------------------------------------------
def write_csv(out: IO[str], columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]],
              types: Sequence[str] = ()) -> None:  # fmt: skip
    """Rows as CSV with LF line ends, written batch by batch (never all in memory)."""
    types = list(types) or [""] * len(columns)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for batch in batches:
        writer.writerows([csv_value(v, t) for v, t in zip(row, types, strict=True)] for row in batch)


def write_json(out: IO[str], columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]],
               types: Sequence[str] = ()) -> None:  # fmt: skip
    """Rows as one JSON array of objects, written batch by batch; valid JSON even when empty."""
    types = list(types) or [""] * len(columns)
    out.write("[")
    first = True
    for batch in batches:
        for row in batch:
            record = {c: json_value(v, t) for c, v, t in zip(columns, row, types, strict=True)}
            out.write(("\n" if first else ",\n") + json.dumps(record, ensure_ascii=False, allow_nan=False))
            first = False
    out.write("\n]\n" if not first else "]\n")


def print_rows(out: Console, columns: Sequence[str], batches: Iterable[Sequence[Sequence[Any]]], fmt: str,
               types: Sequence[str] = (), err: Console | None = None) -> None:  # fmt: skip
    """Rows in `fmt` (table, csv or json): CSV and JSON stream, the table form stops at TABLE_ROWS."""
    if fmt == "csv":
        write_csv(out.file, columns, batches, types)
    elif fmt == "json":
        write_json(out.file, columns, batches, types)
    else:
        kept: list[Sequence[Any]] = []
        more = False
        for batch in batches:
            room = TABLE_ROWS - len(kept)
            kept.extend(batch[:room])
            if len(batch) > room:
                more = True
                break
        print_table(out, columns, kept)
        if more:
            print_line(
                err or out,
                Text("note: ", style="yellow"),
                f"showing the first {TABLE_ROWS:,} rows; use --format csv or json for all of them, or add a LIMIT",
            )
    out.file.flush()


def landed_table(out: Console, rows: Iterable[Sequence[Any]]) -> None:
    """The `what landed` table of an ingest (video, title, status, topics / error), safely rendered."""
    colours = {"loaded": "green", "pending": "yellow"}
    styled = [
        (video_id, title, safe(status, colours.get(str(status), "red")) if out.is_terminal else status, detail)
        for video_id, title, status, detail in rows
    ]
    print_table(out, ["video", "title", "status", "topics / error"], styled, title="what landed")


# -- search hits and one video ----------------------------------------------------------------------
def print_hits(out: Console, hits: Sequence[Any], query: str, fmt: str) -> None:
    """Search hits (search.Hit) as a table with the matches highlighted, or as JSON."""
    from dataclasses import asdict

    from tubescribe.catalog.search import match_pattern

    if fmt == "json":
        out.file.write(json.dumps([json_value(asdict(hit)) for hit in hits], ensure_ascii=False, indent=1) + "\n")
        return
    if not hits:
        print_line(out, "no match for ", repr(query))
        return
    if not out.is_terminal:
        print_table(out, ["#", "title", "video", "channel", "kind", "at", "snippet", "link"],
                    [(rank, h.title, h.video_id, h.channel, h.kind, clock(h.start_s), h.snippet, h.link)
                     for rank, h in enumerate(hits, start=1)])  # fmt: skip
        return
    pattern = match_pattern(query)
    table = Table("#", "video", "at", "snippet", "link")
    for rank, hit in enumerate(hits, start=1):
        words = safe(hit.snippet)
        if pattern:
            words.highlight_regex(pattern, "bold yellow")
        where = safe(hit.title) + Text("\n") + safe(f"{hit.video_id} · {hit.channel or ''} · {hit.kind}", "dim")
        table.add_row(str(rank), where, clock(hit.start_s), words, safe(hit.link))
    out.print(table)


def print_answer(out: Console, answer: Any, fmt: str) -> None:
    """An answer from `ask` (ask.Answer): the cited text and its sources, or (no LLM) the best passages; or JSON."""
    from dataclasses import asdict

    from tubescribe.pipeline.ask import cite

    if fmt == "json":
        out.file.write(json.dumps(json_value(asdict(answer)), ensure_ascii=False, indent=1) + "\n")
        return
    if not answer.passages:
        print_line(out, "nothing in the catalog matches ", repr(answer.question))
        return
    if answer.text is not None:
        print_line(out, answer.text)
        print_line(out, Text(f"\nsources ({answer.model}):", style="cyan"))
        for hit in answer.cited:
            print_line(out, "  ", cite(hit))
        return
    print_line(
        out,
        Text("no LLM configured (set OPENAI_API_KEY or OPENAI_BASE_URL): the passages that answer best", style="dim"),
    )
    for rank, hit in enumerate(answer.passages, start=1):
        print_line(out, f"{rank}. ", cite(hit))
        print_line(out, "   ", hit.snippet)


def print_plan(out: Console, plan: Any, fmt: str) -> None:
    """What a backfill would take (plan.Plan): the figures as a table, each with where it came from; or JSON."""
    if fmt == "json":
        out.file.write(json.dumps(plan.as_dict(), ensure_ascii=False, indent=1) + "\n")
        return

    def hours(seconds: float) -> str:
        return f"{seconds / 3600:.2f} h ({clock(seconds)})"

    sources = f"whisper {plan.transcripts('whisper')}, captions {plan.transcripts('captions')}"
    sources += f", unknown {plan.transcripts('unknown')}"
    whisper = f"; Whisper expected for {hours(plan.whisper_audio_s)}"
    rows: list[tuple[str, str, str]] = [
        ("videos", f"{plan.new} new, {plan.skipped} already in the catalog (skipped)", ""),
        *(("not listed", problem, "the backfill would go on without it") for problem in plan.unlisted),
        ("transcripts", sources + whisper, f"TUBESCRIBE_CAPTIONS={plan.captions_policy}; {plan.captions_basis}"),
        (
            "audio",
            hours(plan.audio_s),
            "listed durations" + (f"; {plan.no_duration} list none" if plan.no_duration else ""),
        ),
    ]
    for stage in plan.stages:
        rate = f"{stage.seconds_per_audio_s:.4f} s per audio s"
        rows.append((f"  {stage.stage}", f"{stage.seconds:.0f} s", f"{stage.model or 'media'}: {rate}, {stage.basis}"))
    rows += [
        ("wall time, this machine", hours(plan.wall_s), f"transcription over {plan.transcription_workers} workers"),
        (
            f"wall time, {plan.workers} workers",
            hours(plan.wall_workers_s),
            f"{plan.batches} batches: at most that many workers busy",
        ),
        (
            "LLM tokens",
            "-" if plan.tokens_in is None else f"{plan.tokens_in:,} in, {plan.tokens_out:,} out",
            plan.tokens_basis,
        ),
        (
            "LLM cost",
            "-" if plan.cost_usd is None else usd(plan.cost_usd),
            "" if plan.cost_usd is not None else "set TUBESCRIBE_OPENAI_PRICE_IN/OUT (USD per million tokens)",
        ),
        ("media on disk", f"{plan.media_bytes / 1e6:.1f} MB", plan.media_basis),
    ]
    print_table(out, ["", "estimate", "from"], rows, title="backfill plan")


def print_video(out: Console, detail: Any) -> None:
    """One video (query.VideoDetail): metadata, newest summary's sections, topics, transcript opening."""
    video = detail.video
    if out.is_terminal:
        out.rule(safe(video["title"], "bold"))
    else:
        print_line(out, video["title"])
    print_line(
        out, f"{video['video_id']} · {video['channel']} · {video['published_at'] or 'date unknown'} · {video['status']}"
    )
    if video.get("failed_stage"):
        print_line(out, safe(f"failed at {video['failed_stage']}: {video['error_message']}", "red"))
    if video.get("transcript_source") == "captions":
        source = f"{video.get('caption_kind')} captions ({video.get('transcript_language') or 'language unknown'})"
        print_line(out, safe(f"transcript from the platform's {source}", "dim"))
    if video.get("introduction"):
        print_line(out, "\n", video["introduction"], "\n")
    for _idx, title, start_s, end_s, bullets, topics in detail.sections:
        when = safe(f" {clock(start_s)}–{clock(end_s)}", "dim") if start_s is not None else Text()
        print_line(out, safe(title, "bold"), when)
        for bullet in bullets or []:
            print_line(out, "  • ", bullet)
        print_line(out, "  ", safe(", ".join(topics or []), "cyan"))
    if video.get("topics"):
        print_line(out, "\n", Text("topics: ", "cyan"), ", ".join(video["topics"]))
        print_line(out, Text("general topics: ", "cyan"), ", ".join(video.get("general_topics") or []))
    if detail.transcript:
        text, model, seconds = detail.transcript
        print_line(out, "\n", safe(f"transcript ({model}, {seconds or 0:.0f} s): ", "dim"), f"{text[:400]}…")

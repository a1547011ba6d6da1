"""What one DAG run did, for the notifications: a typed record built from the catalog and the run's
own records, and its renderers (Markdown, HTML, JSON-ready data).

Titles, error messages, topics and skipped-channel notes are untrusted text (they come from the
platforms and from the LLM): every renderer escapes them for where they land, so a hostile title can
neither inject Markdown or HTML into a chat or mail client nor a template into a notifier.
The queries are our own `sql/notify/*.sql` files, read-only, with bound parameters.
"""

from __future__ import annotations

import html
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from tubescribe.errors import TubescribeError
from tubescribe.settings import Settings
from tubescribe.text import usd

log = logging.getLogger(__name__)

LISTED = 20  # at most this many videos, failures or channels named per section; the counts stay whole
MESSAGE_CHARS = 300  # an error message is cut to this many characters

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def escape_markdown(text: object, limit: int | None = None) -> str:
    """Untrusted text as one line of inert Markdown: every Markdown character backslash-escaped, and
    `&`, `<`, `>` as HTML entities (Markdown passes raw HTML through)."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def escape_html(text: object, limit: int | None = None) -> str:
    """Untrusted text as inert HTML text; braces as entities too, so no template engine sees `{{`."""
    flat = " ".join(str(text).split())
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return html.escape(flat, quote=True).replace("{", "&#123;").replace("}", "&#125;")


@dataclass(frozen=True)
class Landed:
    video_id: str
    title: str
    channel: str


@dataclass(frozen=True)
class Failure:
    video_id: str
    title: str
    stage: str
    error_kind: str
    message: str


@dataclass(frozen=True)
class RunSummary:
    dag_id: str
    run_id: str
    state: str  # success, failed, or running (the deadline alert)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    landed: tuple[Landed, ...] = ()
    failures: tuple[Failure, ...] = ()
    skipped: tuple[str, ...] = ()  # channels not listed this run (blocked, or the listing failed), with why
    new_topics: tuple[str, ...] = ()
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost_usd: float | None = None  # the tokens at TUBESCRIBE_OPENAI_PRICE_IN/OUT; None without both prices
    failed_tasks: tuple[str, ...] = ()
    reason: str | None = None  # Airflow's word for the verdict (e.g. task_failure)
    late_minutes: int | None = None  # the deadline alert: still running this long after it was queued
    notes: tuple[str, ...] = field(default=())  # what the summary could not find out (no catalog yet, ...)

    @property
    def failed_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(f.error_kind for f in self.failures).items()))

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.ended_at or datetime.now(UTC)
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def verdict(self) -> str:
        if self.late_minutes is not None:
            return f"still running after {self.late_minutes} min"
        return {"success": "succeeded", "failed": "failed"}.get(self.state, self.state)

    @property
    def subject(self) -> str:
        """One line for a mail subject or a chat title (landed and failed are counts: no untrusted text)."""
        return (
            f"tubescribe {self.dag_id} {self.verdict}: {len(self.landed)} landed, {len(self.failures)} failed, "
            f"{len(self.skipped)} channels skipped"
        )

    def data(self) -> dict[str, Any]:
        """JSON-ready data (raw values: a consumer escapes them for where it shows them)."""
        found = asdict(self)
        found["started_at"] = self.started_at.isoformat() if self.started_at else None
        found["ended_at"] = self.ended_at.isoformat() if self.ended_at else None
        found["failed_by_kind"] = self.failed_by_kind
        found["seconds"] = self.seconds
        return found

    def _facts(self, esc: Callable[[object], str]) -> list[tuple[str, str]]:
        """(label, value) pairs, safe for the renderer whose `esc` escaped the one untrusted part (kinds)."""
        kinds = ", ".join(f"{esc(kind)}: {n}" for kind, n in self.failed_by_kind.items())
        facts = [
            ("Landed", f"{len(self.landed)} videos"),
            ("Failed", f"{len(self.failures)}" + (f" ({kinds})" if kinds else "")),
            ("Channels skipped (blocked or not listed)", str(len(self.skipped))),
            ("New topics", str(len(self.new_topics))),
        ]
        if self.seconds is not None:
            facts.append(("Run time", _duration(self.seconds)))
        if self.tokens_in is not None or self.tokens_out is not None:
            facts.append(("LLM tokens", f"{self.tokens_in or 0:,} in, {self.tokens_out or 0:,} out"))
        if self.cost_usd is not None:
            facts.append(("LLM cost", usd(self.cost_usd)))
        return facts

    def markdown(self) -> str:
        e = escape_markdown
        started = f" · started {self.started_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if self.started_at else ""
        lines = [f"# tubescribe: {e(self.dag_id)} {e(self.verdict)}", "", f"Run {e(self.run_id)}{started}", ""]
        lines += [f"- **{label}:** {value}" for label, value in self._facts(e)]
        if self.failed_tasks:
            lines.append(f"- **Failed tasks:** {', '.join(e(t) for t in self.failed_tasks)}")
        if self.reason:
            lines.append(f"- **Reason:** {e(self.reason, MESSAGE_CHARS)}")
        if self.new_topics:
            lines += ["", "## New topics", "", ", ".join(e(t) for t in self.new_topics[: LISTED * 2])]
        if self.failures:
            lines += ["", "## Failed", ""]
            lines += [
                f"- **{e(f.error_kind)}** at {e(f.stage or '?')}: {e(f.title)} ({e(f.video_id)}): "
                f"{e(f.message, MESSAGE_CHARS)}"
                for f in self.failures[:LISTED]
            ]
            lines += _more(len(self.failures))
        if self.skipped:
            lines += ["", "## Channels skipped", ""]
            lines += [f"- {e(s, MESSAGE_CHARS)}" for s in self.skipped[:LISTED]]
            lines += _more(len(self.skipped))
        if self.landed:
            lines += ["", "## Landed", ""]
            lines += [f"- {e(v.title)}, {e(v.channel)} ({e(v.video_id)})" for v in self.landed[:LISTED]]
            lines += _more(len(self.landed))
        if self.notes:
            lines += ["", *(f"_{e(note)}_" for note in self.notes)]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        """The same summary as a small HTML document (for mail)."""
        h = escape_html
        parts = [f"<h1>tubescribe: {h(self.dag_id)} {h(self.verdict)}</h1>", f"<p>Run {h(self.run_id)}</p>", "<ul>"]
        parts += [f"<li><b>{label}:</b> {value}</li>" for label, value in self._facts(h)]
        if self.failed_tasks:
            parts.append(f"<li><b>Failed tasks:</b> {h(', '.join(self.failed_tasks))}</li>")
        if self.reason:
            parts.append(f"<li><b>Reason:</b> {h(self.reason, MESSAGE_CHARS)}</li>")
        parts.append("</ul>")
        if self.new_topics:
            parts += ["<h2>New topics</h2>", f"<p>{h(', '.join(self.new_topics[: LISTED * 2]))}</p>"]
        if self.failures:
            parts += ["<h2>Failed</h2>", "<ul>"]
            parts += [
                f"<li><b>{h(f.error_kind)}</b> at {h(f.stage or '?')}: {h(f.title)} ({h(f.video_id)}): "
                f"{h(f.message, MESSAGE_CHARS)}</li>"
                for f in self.failures[:LISTED]
            ]
            parts.append("</ul>")
        if self.skipped:
            parts += ["<h2>Channels skipped</h2>", "<ul>"]
            parts += [f"<li>{h(s, MESSAGE_CHARS)}</li>" for s in self.skipped[:LISTED]]
            parts.append("</ul>")
        if self.landed:
            parts += ["<h2>Landed</h2>", "<ul>"]
            parts += [f"<li>{h(v.title)}, {h(v.channel)} ({h(v.video_id)})</li>" for v in self.landed[:LISTED]]
            parts.append("</ul>")
        parts += [f"<p><i>{h(note)}</i></p>" for note in self.notes]
        return "<html><body>" + "".join(parts) + "</body></html>"


def _more(total: int) -> list[str]:
    return [f"- … and {total - LISTED} more"] if total > LISTED else []


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s" if minutes else f"{secs} s"


def build(
    settings: Settings,
    *,
    dag_id: str,
    run_id: str,
    state: str,
    started_at: datetime | None,
    ended_at: datetime | None = None,
    failed_tasks: tuple[str, ...] = (),
    reason: str | None = None,
    late_minutes: int | None = None,
) -> RunSummary:
    """The run's summary: what the catalog says landed and failed since the run started, what the run's
    listing skipped, and what the summaries cost. Whatever cannot be read becomes a note, never an error:
    a notification about a failed run must still go out."""
    from tubescribe.catalog.query import run_named
    from tubescribe.store import Store

    notes: list[str] = []
    found: dict[str, Any] = {}
    if started_at is None:
        notes.append("The run's start time is unknown, so the catalog was not asked what it landed.")
    else:
        since = {"since": started_at}
        try:
            found["landed"] = tuple(Landed(*row) for row in run_named(settings, "notify/landed", since)[1])
            found["failures"] = tuple(Failure(*row) for row in run_named(settings, "notify/failures", since)[1])
            found["new_topics"] = tuple(str(row[0]) for row in run_named(settings, "notify/new_topics", since)[1])
            tokens = run_named(settings, "notify/tokens", since)[1]
            if tokens:
                found["tokens_in"], found["tokens_out"] = tokens[0]
                found["cost_usd"] = settings.llm_cost(*tokens[0])
        except TubescribeError as exc:  # no catalog yet (nothing ever landed), or it cannot be read now
            log.warning("run summary: the catalog could not be read: %s", exc)
            notes.append(f"The catalog could not be read: {str(exc).splitlines()[0] if str(exc) else 'error'}")
    try:
        found["skipped"] = tuple(Store(settings).skipped(run_id))
    except (OSError, TubescribeError) as exc:
        notes.append(f"The run's skipped channels could not be read: {type(exc).__name__}")
    return RunSummary(
        dag_id=dag_id,
        run_id=run_id,
        state=state,
        started_at=started_at,
        ended_at=ended_at,
        failed_tasks=failed_tasks,
        reason=reason,
        late_minutes=late_minutes,
        notes=tuple(notes),
        **found,
    )

"""A DAG run's summary, sent through Airflow's notifier classes when the run succeeds, fails, or is late.

`TubescribeNotifier` is what the DAGs attach (`tasks.notifications()`): at callback time it reads the
notification settings (`settings.Notifications`); none set, it returns before touching anything. Otherwise it
builds the run's summary once (`tubescribe.pipeline.run_summary`) and hands it to each configured notifier:

- `MarkdownNotifier`, ours: writes the Markdown to a file and/or POSTs JSON (`{"text": markdown, "summary":
  {...}}`) to a webhook (Slack-, Mattermost- and Discord-style incoming webhooks read `text`).
- `SummaryEmailNotifier`: the SMTP provider's `SmtpNotifier`, with the summary as its HTML body; the server,
  login and password are Airflow's SMTP connection.

Other providers' notifiers (Slack, Apprise) are the user's to install; docs/notifications.md shows how to feed
them the same summary. Nothing here logs the webhook's path or query (tokens live there), the SMTP password or
an API key: a failed send logs the notifier, the error's class and an HTTP status at most.

Parsing a DAG file builds these objects only: no settings are read and nothing is opened until a callback runs.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

from tubescribe.pipeline import run_summary
from tubescribe.pipeline.run_summary import RunSummary
from tubescribe.settings import Notifications, Settings

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_S = 15.0


def _attr(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):  # a dict, or Airflow's ParamsDict
        return obj.get(name)
    return getattr(obj, name, None)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def summary_from_context(
    context: Any, state: str, settings: Settings | None = None, late_minutes: int | None = None
) -> RunSummary:
    """The summary of the run a callback's context is about (a DAG callback's context, which may be as
    small as {"dag", "run_id", "reason"}, or a deadline callback's {"dag_run": {...}})."""
    context = context or {}
    dag_run = context.get("dag_run")
    dag_id = _attr(context.get("dag"), "dag_id") or _attr(dag_run, "dag_id") or "?"
    run_id = context.get("run_id") or _attr(dag_run, "run_id") or _attr(dag_run, "dag_run_id") or "?"
    started = _when(_attr(dag_run, "start_date")) or _when(_attr(dag_run, "queued_at"))
    ti = context.get("ti")
    failed_tasks: tuple[str, ...] = ()
    ti_state = _attr(ti, "state")
    ti_state = getattr(ti_state, "value", ti_state)  # a TaskInstanceState, or its text
    if state == "failed" and ti is not None and ti_state in ("failed", "upstream_failed"):
        failed_tasks = (str(_attr(ti, "task_id")),)
    return run_summary.build(
        settings or Settings.load(),
        dag_id=str(dag_id),
        run_id=str(run_id),
        state=state,
        started_at=started,
        ended_at=None if late_minutes is not None else datetime.now(UTC),
        failed_tasks=failed_tasks,
        reason=str(context["reason"]) if context.get("reason") else None,
        late_minutes=late_minutes,
    )


class SummaryNotifier(BaseNotifier):
    """A notifier that sends a run summary: `notify(context)` builds it, `send(summary, context)` sends it.

    Its fields are not templates (`template_fields` is empty): the summary holds untrusted text, which a
    template engine must never see.
    """

    template_fields = ()

    def __init__(self, state: str = "success"):
        super().__init__()
        self.state = state

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing is a template here (and a DAG callback's `dag` may be a SerializedDAG, with no Jinja env)."""

    def notify(self, context: Any) -> None:
        self.send(summary_from_context(context, self.state), context)

    def send(self, summary: RunSummary, context: Any) -> None:
        raise NotImplementedError


class MarkdownNotifier(SummaryNotifier):
    """Ours: the summary as Markdown to a file, and/or as JSON with the Markdown to a webhook URL."""

    def __init__(self, file: Path | str | None = None, webhook_url: str | None = None, state: str = "success"):
        super().__init__(state)
        self.file = Path(file) if file else None
        self.webhook_url = webhook_url

    def __repr__(self) -> str:  # never the webhook URL: it may carry a token
        return f"MarkdownNotifier(file={self.file!s}, webhook={'set' if self.webhook_url else 'none'})"

    def send(self, summary: RunSummary, context: Any = None) -> None:
        text = summary.markdown()
        if self.file is not None:
            _write_atomically(self.file, text)
            log.info("run summary written to %s", self.file)
        if self.webhook_url:
            post_webhook(self.webhook_url, {"text": text, "summary": summary.data()})


class SummaryEmailNotifier(SummaryNotifier):
    """The summary by mail through the SMTP provider's `SmtpNotifier` and its Airflow connection."""

    def __init__(
        self,
        to: tuple[str, ...] | list[str],
        from_email: str | None = None,
        smtp_conn_id: str = "smtp_default",
        state: str = "success",
    ):
        super().__init__(state)
        self.to = list(to)
        self.from_email = from_email
        self.smtp_conn_id = smtp_conn_id

    def send(self, summary: RunSummary, context: Any = None) -> None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        mail = SmtpNotifier(
            to=self.to,
            from_email=self.from_email,
            subject=summary.subject,
            html_content=summary.html(),
            smtp_conn_id=self.smtp_conn_id,
        )
        # notify(), not mail(context): calling the notifier would render its fields as Jinja templates, and the
        # body carries untrusted text. No context either: it is only used to render the connection's sender.
        mail.notify({})  # type: ignore[arg-type]
        log.info("run summary mailed to %d address(es) through connection %s", len(self.to), self.smtp_conn_id)


def post_webhook(url: str, payload: dict[str, Any]) -> None:
    """POST JSON; raises WebhookError, whose message names neither the URL's path nor its query."""
    shown = Notifications(webhook_url=url).webhook_for_logs
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "tubescribe"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"the webhook at {shown} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookError(f"the webhook at {shown} could not be reached ({type(exc).__name__})") from None
    log.info("run summary posted to %s (HTTP %s)", shown, status)


class WebhookError(RuntimeError):
    pass


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def configured(notifications: Notifications, state: str = "success") -> list[SummaryNotifier]:
    """The notifiers the settings ask for (none set: an empty list)."""
    found: list[SummaryNotifier] = []
    if notifications.file or notifications.webhook_url:
        found.append(MarkdownNotifier(notifications.file, notifications.webhook_url, state))
    if notifications.email:
        found.append(
            SummaryEmailNotifier(notifications.email, notifications.email_from, notifications.smtp_conn_id, state)
        )
    return found


def send_summary(summary: RunSummary, context: Any, notifiers: list[SummaryNotifier]) -> int:
    """Hand one summary to every notifier; one failing does not stop the others. Returns how many sent."""
    sent = 0
    for notifier in notifiers:
        try:
            notifier.send(summary, context)
            sent += 1
        except WebhookError as exc:
            log.error("run summary not sent: %s", exc)
        except Exception as exc:  # a notification never changes the run's verdict
            # The error's first line (an SMTP reply, "connection not found"); never the notifier's settings.
            first = (str(exc).splitlines() or [""])[0][:200]
            log.error("run summary not sent by %s: %s: %s", type(notifier).__name__, type(exc).__name__, first)
    return sent


class TubescribeNotifier(BaseNotifier):
    """What the DAGs attach: the configured notifiers, chosen when the callback runs, fed one summary."""

    template_fields = ()

    def __init__(self, state: str):
        super().__init__()
        self.state = state

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing is a template here (see SummaryNotifier)."""

    def notify(self, context: Any) -> None:
        notifications = Notifications.load()
        if not notifications.any:
            return
        if _dry_run(context):
            log.info("a dry run: no run summary is sent (the plan is in the plan task's log and XCom)")
            return
        summary = summary_from_context(context, self.state)
        send_summary(summary, context, configured(notifications, self.state))


def _dry_run(context: Any) -> bool:
    """Whether the callback is about a backfill's dry run (its `dry_run` param, or the run's conf)."""
    params = (context or {}).get("params") or {}
    conf = _attr((context or {}).get("dag_run"), "conf") or {}
    return bool(_attr(params, "dry_run") or _attr(conf, "dry_run"))


def deadline_missed(context: dict[str, Any] | None = None, minutes: int = 0) -> None:
    """The DeadlineAlert's callback (an importable path, run by an executor): the run is still going."""
    notifications = Notifications.load()
    if not notifications.any:
        return
    summary = summary_from_context(context or {}, "running", late_minutes=minutes)
    send_summary(summary, context or {}, configured(notifications, "running"))


def dag_callbacks(deadline: bool = False) -> dict[str, Any]:
    """The DAG arguments that attach the notifications (and, with `deadline`, the late-run alert).

    Reads only TUBESCRIBE_NIGHTLY_DEADLINE_MINUTES from the environment (the alert is part of the DAG's
    definition); everything else is read when a callback runs.
    """
    found: dict[str, Any] = {
        "on_success_callback": [TubescribeNotifier("success")],
        "on_failure_callback": [TubescribeNotifier("failed")],
    }
    minutes = Notifications.nightly_deadline() if deadline else 0
    if minutes:
        from airflow.sdk.definitions.callback import SyncCallback
        from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

        found["deadline"] = DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=timedelta(minutes=minutes),
            callback=SyncCallback(deadline_missed, kwargs={"minutes": minutes}),
            name="tubescribe_nightly_late",
        )
    return found

"""A run's summary reaches a loopback webhook, a Markdown file and a local SMTP server (aiosmtpd) through the
DAGs' notifiers; a failing run says what failed and why; nothing configured sends nothing; untrusted text
arrives escaped; the webhook's token never reaches the logs."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
from airflow.sdk import DAG

from ports import free_port
from sample_catalog import build_sample_catalog
from tubescribe.orchestration import embedded as airflow_env
from tubescribe.orchestration import notify
from tubescribe.pipeline.run_summary import Failure, Landed, RunSummary, escape_html, escape_markdown
from tubescribe.sample import serve_sample_channel
from tubescribe.settings import Settings

HOSTILE = "<img src=x onerror=alert(1)> **bold** [click](https://evil.example/) {{ 7*7 }} # h"
TOKEN = "s3cretT0ken"
DEAD = "http://127.0.0.1:1/gone/feed.xml"  # port 1: nothing listens there
NOTIFY_ENV = (
    "TUBESCRIBE_NOTIFY_WEBHOOK_URL",
    "TUBESCRIBE_NOTIFY_FILE",
    "TUBESCRIBE_NOTIFY_EMAIL",
    "TUBESCRIBE_NOTIFY_EMAIL_FROM",
    "TUBESCRIBE_NOTIFY_SMTP_CONN_ID",
)


@dataclass
class Webhook:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A loopback receiver: records every JSON body POSTed to it."""
    got = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.paths.append(self.path)
            got.posts.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tubescribe?token={TOKEN}"
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EmailMessage]]:
    """A local SMTP server (aiosmtpd) and the Airflow connection the SMTP provider reads it from."""
    from aiosmtpd.controller import Controller

    received: list[EmailMessage] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            received.append(message)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    connection = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "tubescribe@example.test", "timeout": 10},
    }
    monkeypatch.setenv("AIRFLOW_CONN_TUBESCRIBE_TEST_SMTP", json.dumps(connection))
    try:
        yield received
    finally:
        controller.stop()


@pytest.fixture
def quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NOTIFY_ENV:
        monkeypatch.delenv(name, raising=False)


def _html_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


# -- the record and its renderers -------------------------------------------------------------------
def _summary(**fields: Any) -> RunSummary:
    base: dict[str, Any] = {
        "dag_id": "tubescribe_nightly",
        "run_id": "scheduled__2026-12-02T02:00:00+00:00",
        "state": "success",
        "started_at": datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
        "ended_at": datetime(2026, 12, 2, 2, 4, 12, tzinfo=UTC),
    }
    return RunSummary(**{**base, **fields})


def test_the_markdown_says_what_landed_failed_and_was_skipped() -> None:
    text = _summary(
        landed=(Landed("rust", "Rust in 100 Seconds", "Fireship"),),
        failures=(
            Failure("zig", "Zig", "download", "permanent", "HTTP Error 404: Not Found"),
            Failure("go", "Go", "transcribe", "transient", "timed out"),
        ),
        skipped=("https://blocked.example/feed: blocked for now (HTTP 429)",),
        new_topics=("memory safety",),
        tokens_in=1200,
        tokens_out=300,
        cost_usd=1.25,
    ).markdown()
    assert "# tubescribe: tubescribe\\_nightly succeeded" in text
    assert "- **Landed:** 1 videos" in text
    assert "- **Failed:** 2 (permanent: 1, transient: 1)" in text
    assert "- **Channels skipped (blocked or not listed):** 1" in text
    assert "- **Run time:** 4 min 12 s" in text
    assert "- **LLM tokens:** 1,200 in, 300 out" in text
    assert "- **LLM cost:** 1.25 USD" in text
    # A cheap night is not "0.00 USD".
    assert "- **LLM cost:** 0.0036 USD" in _summary(tokens_in=12_000, tokens_out=3_000, cost_usd=0.0036).markdown()
    assert "memory safety" in text
    assert "**permanent** at download: Zig (zig): HTTP Error 404: Not Found" in text
    assert "blocked for now \\(HTTP 429\\)" in text  # untrusted text, escaped (it renders as written)


def test_untrusted_text_is_escaped_for_markdown_and_html() -> None:
    summary = _summary(
        landed=(Landed("v1", HOSTILE, "chan\n# injected heading"),),
        failures=(Failure("v2", HOSTILE, "download", "permanent", HOSTILE),),
        new_topics=(HOSTILE,),
        skipped=(HOSTILE,),
    )
    markdown, page = summary.markdown(), summary.html()
    for text in (markdown, page):
        assert "<img" not in text and "{{" not in text
    assert "](" not in markdown  # no live link (in HTML, brackets are only text)
    assert "\n# injected" not in markdown  # a newline in a title cannot start a heading
    assert escape_markdown(HOSTILE) in markdown
    assert "&lt;img src=x onerror=alert\\(1\\)&gt; \\*\\*bold\\*\\* \\[click\\]" in markdown
    assert escape_html(HOSTILE) in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&#123;&#123; 7*7 &#125;&#125;" in page


# -- the notifiers against a real catalog (the sample channel's, loaded as the load task loads it) -------
@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, datetime]:
    """The sample catalog, one title made hostile, and when its load started."""
    started = datetime.now(UTC) - timedelta(seconds=1)
    settings = Settings.load(home=tmp_path_factory.mktemp("notify") / "home")
    build_sample_catalog(settings)
    with duckdb.connect(str(settings.catalog_path)) as con:
        con.execute("UPDATE videos SET title = $t WHERE video_id = 'broken'", {"t": HOSTILE})
    return settings, started


def _context(started: datetime, dag_id: str = "tubescribe_nightly") -> dict[str, Any]:
    return {
        "dag": DAG(dag_id, schedule=None),
        "run_id": "scheduled__2026-12-02T02:00:00+00:00",
        "dag_run": SimpleNamespace(start_date=started),
        "reason": "success",
    }


def test_a_run_summary_reaches_the_webhook_the_file_and_the_mail(
    catalog: tuple[Settings, datetime],
    webhook: Webhook,
    smtp: list[EmailMessage],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings, started = catalog
    monkeypatch.setenv("TUBESCRIBE_HOME", str(settings.home))
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_FILE", str(tmp_path / "out" / "last-run.md"))
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_EMAIL", "me@example.test, you@example.test")
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_SMTP_CONN_ID", "tubescribe_test_smtp")
    caplog.set_level(logging.DEBUG)

    notify.TubescribeNotifier("failed").notify(_context(started))

    assert len(webhook.posts) == 1 and webhook.paths == [f"/hooks/tubescribe?token={TOKEN}"]
    text = webhook.posts[0]["text"]
    data = webhook.posts[0]["summary"]
    assert "- **Landed:** 5 videos" in text
    assert "- **Failed:** 1 (permanent: 1)" in text
    assert "at download:" in text and "HTTP 404" in text  # what failed and why
    assert data["failed_by_kind"] == {"permanent": 1}
    assert len(data["landed"]) == 5 and data["new_topics"]  # every topic is new to an empty catalog
    assert escape_markdown(data["new_topics"][0]) in text
    assert "<img" not in text and escape_markdown(HOSTILE) in text
    assert (tmp_path / "out" / "last-run.md").read_text(encoding="utf-8") == text
    assert len(smtp) == 1
    mail = smtp[0]
    assert mail["Subject"] == "tubescribe tubescribe_nightly failed: 5 landed, 1 failed, 0 channels skipped"
    assert mail["From"] == "tubescribe@example.test"
    assert "me@example.test" in mail["To"] and "you@example.test" in mail["To"]
    body = _html_body(mail)
    assert "<b>Landed:</b> 5 videos" in body and "HTTP 404" in body
    assert "<img" not in body and escape_html(HOSTILE) in body
    assert TOKEN not in caplog.text and "/hooks/tubescribe" not in caplog.text


def test_the_summary_prices_the_runs_tokens_at_the_configured_rates(
    catalog: tuple[Settings, datetime], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tubescribe.pipeline import run_summary

    sample, started = catalog
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(sample.catalog_path, home / sample.catalog_path.name)
    with duckdb.connect(str(home / sample.catalog_path.name)) as con:
        # Made during the run (the session's sample catalog may reuse summaries made before it started).
        con.execute(
            "UPDATE summaries SET tokens_in = 200000, tokens_out = 50000, created_at = $at",
            {"at": started + timedelta(seconds=1)},
        )
        (landed,) = con.execute("SELECT count(*) FROM videos WHERE status = 'loaded'").fetchone()
    run = {"dag_id": "tubescribe_nightly", "run_id": "r1", "state": "success", "started_at": started}
    unpriced = run_summary.build(Settings.load(home=home), **run)
    assert (unpriced.tokens_in, unpriced.tokens_out) == (200_000 * landed, 50_000 * landed)
    assert unpriced.cost_usd is None and "LLM cost" not in unpriced.markdown()
    monkeypatch.setenv("TUBESCRIBE_OPENAI_PRICE_IN", "0.15")
    monkeypatch.setenv("TUBESCRIBE_OPENAI_PRICE_OUT", "0.60")
    priced = run_summary.build(Settings.load(home=home), **run)
    assert priced.cost_usd == pytest.approx(landed * (0.2 * 0.15 + 0.05 * 0.60))
    assert f"- **LLM cost:** {priced.cost_usd:.2f} USD" in priced.markdown()


def test_nothing_configured_sends_nothing_and_reads_nothing(
    webhook: Webhook, quiet: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "never-created"
    monkeypatch.setenv("TUBESCRIBE_HOME", str(home))
    notify.TubescribeNotifier("success").notify(_context(datetime.now(UTC)))
    notify.deadline_missed({"dag_run": {"dag_id": "tubescribe_nightly"}}, minutes=90)
    assert webhook.posts == [] and not home.exists()
    assert notify.configured(notify.Notifications.load()) == []


def test_a_dead_webhook_is_logged_without_its_token(
    catalog: tuple[Settings, datetime],
    quiet: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings, started = catalog
    monkeypatch.setenv("TUBESCRIBE_HOME", str(settings.home))
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:1/hook?token={TOKEN}")
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_FILE", str(tmp_path / "last-run.md"))
    caplog.set_level(logging.DEBUG)
    notify.TubescribeNotifier("success").notify(_context(started))  # the run's verdict is not changed
    assert "could not be reached" in caplog.text and "127.0.0.1:1" in caplog.text
    assert TOKEN not in caplog.text and "/hook" not in caplog.text.replace("/…", "")
    assert "Landed:** 5 videos" in (tmp_path / "last-run.md").read_text(encoding="utf-8")  # the file still went


def test_the_deadline_alert_says_the_run_is_still_going(
    catalog: tuple[Settings, datetime], webhook: Webhook, quiet: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, started = catalog
    monkeypatch.setenv("TUBESCRIBE_HOME", str(settings.home))
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_WEBHOOK_URL", webhook.url)
    # The context a missed deadline hands its callback: the run as the API serializes it.
    context = {
        "dag_run": {"dag_id": "tubescribe_nightly", "dag_run_id": "scheduled__x", "start_date": started.isoformat()}
    }
    notify.deadline_missed(context, minutes=90)
    text = webhook.posts[0]["text"]
    assert text.startswith("# tubescribe: tubescribe\\_nightly still running after 90 min")
    assert "- **Landed:** 5 videos" in text


def test_the_nightly_deadline_is_off_by_default_and_set_by_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUBESCRIBE_NIGHTLY_DEADLINE_MINUTES", raising=False)
    assert "deadline" not in notify.dag_callbacks(deadline=True)
    monkeypatch.setenv("TUBESCRIBE_NIGHTLY_DEADLINE_MINUTES", "240")
    alert = notify.dag_callbacks(deadline=True)["deadline"]
    assert alert.interval == timedelta(minutes=240)
    assert alert.callback.path == "tubescribe.orchestration.notify.deadline_missed"
    assert alert.callback.kwargs == {"minutes": 240}
    assert "deadline" not in notify.dag_callbacks(deadline=False)


# -- whole DAG runs (dag.test() in-process, the loopback sample channel) ---------------------------------
@pytest.fixture
def run_home(airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quiet: None) -> Settings:
    monkeypatch.setenv("TUBESCRIBE_HOME", str(tmp_path / "home"))
    return Settings.load()


@pytest.fixture
def to_webhook_and_mail(webhook: Webhook, smtp: list[EmailMessage], monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs send their summary to the loopback webhook and, by the local SMTP server, to one address."""
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_EMAIL", "me@example.test")
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_SMTP_CONN_ID", "tubescribe_test_smtp")


@pytest.mark.slow
def test_a_backfill_run_sends_its_summary_on_success(
    run_home: Settings, webhook: Webhook, smtp: list[EmailMessage], to_webhook_and_mail: None
) -> None:
    with serve_sample_channel(only=["rust"]) as feed:
        assert airflow_env.run_dag("tubescribe_backfill", {"urls": [feed]}) == "success"
    assert len(webhook.posts) == 1
    text, data = webhook.posts[0]["text"], webhook.posts[0]["summary"]
    assert text.startswith("# tubescribe: tubescribe\\_backfill succeeded")
    assert "- **Landed:** 1 videos" in text and "- **Failed:** 0" in text
    assert data["new_topics"] and escape_markdown(data["new_topics"][0]) in text
    assert [v["title"] for v in data["landed"]] == ["Rust in 100 Seconds"]
    assert data["seconds"] is not None and data["seconds"] > 0
    assert len(smtp) == 1 and "1 landed, 0 failed" in smtp[0]["Subject"]


@pytest.mark.slow
def test_a_nightly_run_of_the_registered_channels_sends_its_summary(
    run_home: Settings, webhook: Webhook, smtp: list[EmailMessage], to_webhook_and_mail: None
) -> None:
    from tubescribe.stages.channels import Channel, add_channel

    with serve_sample_channel(only=["zig", "rust"]) as feed:
        add_channel(run_home, Channel(url=feed))
        assert airflow_env.run_dag("tubescribe_nightly", {}) == "success"
    assert len(webhook.posts) == 1 and len(smtp) == 1
    text, data = webhook.posts[0]["text"], webhook.posts[0]["summary"]
    assert data["dag_id"] == "tubescribe_nightly" and data["state"] == "success"
    assert text.startswith("# tubescribe: tubescribe\\_nightly succeeded")
    assert "- **Landed:** 2 videos" in text and "- **Failed:** 0" in text
    assert smtp[0]["Subject"] == "tubescribe tubescribe_nightly succeeded: 2 landed, 0 failed, 0 channels skipped"
    assert "<b>Landed:</b> 2 videos" in _html_body(smtp[0])


@pytest.mark.slow
def test_a_dry_run_sends_no_summary(run_home: Settings, webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_WEBHOOK_URL", webhook.url)
    with serve_sample_channel(only=["rust"]) as feed:
        assert airflow_env.run_dag("tubescribe_backfill", {"urls": [feed], "dry_run": True}) == "success"
        # The same notifier on a real run of the same URL does send: the dry run's silence is its own.
        assert airflow_env.run_dag("tubescribe_backfill", {"urls": [feed]}) == "success"
    assert len(webhook.posts) == 1 and "- **Landed:** 1 videos" in webhook.posts[0]["text"]


@pytest.mark.slow
def test_a_failing_run_says_what_failed_and_why(
    run_home: Settings, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUBESCRIBE_NOTIFY_WEBHOOK_URL", webhook.url)
    with serve_sample_channel(only=["rust"]) as feed:
        assert airflow_env.run_dag("tubescribe_backfill", {"urls": [DEAD, feed]}) == "failed"
    assert len(webhook.posts) == 1
    text, data = webhook.posts[0]["text"], webhook.posts[0]["summary"]
    assert text.startswith("# tubescribe: tubescribe\\_backfill failed")
    assert "- **Landed:** 1 videos" in text  # the good feed still landed ...
    assert "- **Channels skipped (blocked or not listed):** 1" in text  # ... and the dead one is named, with why
    assert len(data["skipped"]) == 1 and "gone/feed.xml" in data["skipped"][0]
    assert "## Channels skipped" in text and escape_markdown(data["skipped"][0], 300) in text
    assert data["state"] == "failed" and data["reason"] and f"- **Reason:** {escape_markdown(data['reason'])}" in text


def test_the_nightly_dag_carries_the_deadline_when_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    monkeypatch.setenv("TUBESCRIBE_HOME", str(tmp_path / "never-created"))
    monkeypatch.setenv("TUBESCRIBE_NIGHTLY_DEADLINE_MINUTES", "240")
    bag = DagBag(dag_folder=str(airflow_env.dags_folder()))
    assert not bag.import_errors
    nightly = bag.dags["tubescribe_nightly"]
    assert [d.interval for d in nightly.deadline] == [timedelta(minutes=240)]
    assert not bag.dags["tubescribe_backfill"].deadline  # only the nightly run has a deadline
    serialized = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(nightly))
    assert serialized.deadline  # what the scheduler reads survives serialization
    assert not (tmp_path / "never-created").exists()

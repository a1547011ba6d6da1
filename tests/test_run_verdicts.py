"""A run's verdict tells the truth: a blocked platform or a dead URL never ends a run green and empty,
and never stops the URLs and channels that work (the real DAGs through dag.test())."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tubescribe.orchestration import embedded as airflow_env
from tubescribe.pipeline import steps as pipeline
from tubescribe.pipeline.platforms import block
from tubescribe.sample import serve_sample_channel
from tubescribe.settings import Settings
from tubescribe.stages.channels import Channel, add_channel
from tubescribe.stages.discover import feed_item_id
from tubescribe.store import Store

pytestmark = pytest.mark.slow
DEAD = "http://127.0.0.1:1/gone/feed.xml"  # port 1: nothing listens there


@pytest.fixture
def home(airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TUBESCRIBE_HOME", str(tmp_path / "home"))
    return Settings.load()


def _statuses(settings: Settings) -> dict[str, str]:
    if not settings.catalog_path.exists():
        return {}
    with duckdb.connect(str(settings.catalog_path), read_only=True) as con:
        return dict(con.execute("SELECT video_id, status FROM videos").fetchall())


def test_a_backfill_of_a_blocked_platform_fails_with_the_reason(home: Settings) -> None:
    # Before: the listing saw the block, returned no batches, and the run ended "success" with nothing in it.
    block(home, "127.0.0.1", "HTTP Error 429: Too Many Requests")
    with serve_sample_channel(only=["rust"]) as feed:
        with pytest.raises(pipeline.PlatformBlocked, match=r"blocked for now.*429"):
            pipeline.discover(home, [feed])
        assert airflow_env.run_dag("tubescribe_backfill", {"urls": [feed]}) == "failed"
    assert _statuses(home) == {}


def test_one_dead_url_among_several_is_reported_and_the_others_land(home: Settings) -> None:
    with serve_sample_channel(only=["rust"]) as feed:
        state = airflow_env.run_dag("tubescribe_backfill", {"urls": [DEAD, feed]})
    assert state == "failed"  # the run says the dead URL was not listed ...
    assert _statuses(home) == {feed_item_id(feed, "rust"): "loaded"}  # ... and the good one landed


def test_the_report_names_what_could_not_be_listed(home: Settings) -> None:
    with serve_sample_channel(only=["rust"]) as feed:
        batches = pipeline.discover(home, [DEAD, feed], run_id="manual__2026-12-01T02:00:00+00:00")
    assert batches == [[feed_item_id(feed, "rust")]]
    assert [DEAD in line for line in Store(home).skipped("manual__2026-12-01T02:00:00+00:00")] == [True]
    with pytest.raises(pipeline.IngestFailed, match=r"not listed: .*gone/feed\.xml"):
        pipeline.report([{"loaded": batches[0]}], home, "manual__2026-12-01T02:00:00+00:00")
    assert pipeline.report([{"loaded": batches[0]}], home, "another run")["loaded"] == 1


def test_a_nightly_run_skips_a_blocked_channel_lands_the_rest_and_is_not_green(home: Settings) -> None:
    with serve_sample_channel(only=["rust"]) as feed:
        # The same feed under two host names: two channels on two platforms, one of them blocked.
        add_channel(home, Channel(url=feed))
        add_channel(home, Channel(url=feed.replace("127.0.0.1", "localhost")))
        block(home, "localhost", "Sign in to confirm you're not a bot")
        state = airflow_env.run_dag("tubescribe_nightly", {})
    assert state == "failed"
    assert _statuses(home) == {feed_item_id(feed, "rust"): "loaded"}

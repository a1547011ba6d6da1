"""What the catalog browser draws and prints: chart geometry, the template filters, complexity levels, pages of
a long list, and hostile catalog text rendered as data on every page that shows it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import Markup

from catalog_records import WHEN, make_failure, make_summary_record, make_transcript, make_video
from test_web import anchors, get, part
from tubescribe.catalog.browse import Page, Series
from tubescribe.catalog.load import load_videos
from tubescribe.contract import COMPLEXITY_SCALE
from tubescribe.contract import complexity_label as level
from tubescribe.records import Segment
from tubescribe.settings import Settings
from tubescribe.store import Store
from tubescribe.web import charts
from tubescribe.web.app import create_app, external, marked, visible

ESC = "\x1b"
HOSTILE = f"<script>alert(1)</script> [/dim] {ESC}[31mred{ESC}]8;;http://x\x07 [b]"
SHOWN = "&lt;script&gt;alert(1)&lt;/script&gt; [/dim] \u241b[31mred\u241b]8;;http://x\u2407 [b]"
ALPHA = [f"v{i:02d}" for i in range(28)]  # newest first, a day apart
BETA = ["b0", "b1", "b2"]
OLDEST_FIRST_PAGE = 25


# -- charts ---------------------------------------------------------------------------------------------------
def test_bars_scale_to_the_busiest_period() -> None:
    weeks = [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15)]
    chart = charts.bars(Series("videos", list(zip(weeks, [2, 0, 4], strict=True))), width=300, height=100)
    assert [(b.x, b.y, b.width, b.height, b.value) for b in chart.bars] == [
        (10.0, 50.0, 80.0, 50.0, 2),
        (110.0, 100.0, 80.0, 0.0, 0),
        (210.0, 0.0, 80.0, 100.0, 4),
    ]
    assert [b.label for b in chart.bars] == ["2024-01-01", "2024-01-08", "2024-01-15"]
    assert (chart.first, chart.last, chart.peak, chart.empty) == ("2024-01-01", "2024-01-15", 4, False)
    assert charts.bars(Series("videos", [])).empty


def test_lines_share_the_months_and_fill_gaps_with_zero() -> None:
    one = Series("rust", [(date(2024, 11, 1), 2), (date(2025, 2, 1), 1)])
    two = Series("zig", [(date(2024, 12, 1), 4)])
    chart = charts.lines([one, two], width=300, height=140)  # Nov, Dec, Jan, Feb: a step of 100
    assert (chart.first, chart.last, chart.peak) == ("2024-11-01", "2025-02-01", 4)
    assert [(line.name, line.points, line.total) for line in chart.lines] == [
        ("rust", "0.0,70.0 100.0,138.0 200.0,138.0 300.0,104.0", 3),
        ("zig", "0.0,138.0 100.0,2.0 200.0,138.0 300.0,138.0", 4),
    ]
    assert [line.colour for line in chart.lines] == list(charts.PALETTE[:2])
    assert charts.lines([]).empty and charts.lines([Series("x", [])]).empty


def test_a_single_month_is_a_line_across_not_an_invisible_point() -> None:
    chart = charts.sparkline(Series("rust", [(date(2024, 3, 1), 1)]))
    assert chart.lines[0].points == "0.0,2.0 120.0,2.0"
    assert charts.lines([Series("rust", [(date(2024, 3, 1), 5)])], width=640).lines[0].points == "0.0,2.0 640.0,2.0"


def test_a_sparkline_can_follow_given_months() -> None:
    months = [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)]
    chart = charts.sparkline(Series("rust", [(date(2024, 2, 1), 3)]), periods=months, width=100, height=24)
    assert chart.lines[0].points == "0.0,22.0 50.0,2.0 100.0,22.0"
    assert (chart.first, chart.last) == ("2024-01-01", "2024-03-01")
    assert charts.sparkline(Series("rust", [])).empty


# -- filters ----------------------------------------------------------------------------------------------------
def test_visible_shows_control_characters_as_pictures() -> None:
    assert visible(f"{ESC}[31mred\x07\x00\x7f") == "\u241b[31mred\u2407\u2400\u2421"
    assert visible("tab\tand\nnewline") == "tab\tand\nnewline"
    assert visible("csi\x9b31m") == "csi\\x9b31m"  # C1 controls as escapes: a terminal would read \x9b as ESC [
    assert visible("[/dim] <b>é</b>") == "[/dim] <b>é</b>"  # escaping is the template's, not visible's
    assert visible(Markup(f"<mark>{ESC}</mark>")) == Markup(f"<mark>{ESC}</mark>")
    assert visible(None) is None and visible(3) == 3


@pytest.mark.parametrize("url", ["https://www.youtube.com/watch?v=x&t=3s", "http://127.0.0.1:8000/a.webm#t=0",
                                 "HTTPS://EXAMPLE.ORG/"])  # fmt: skip
def test_external_keeps_web_links(url: str) -> None:
    assert external(url) == url


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
                                 "java\tscript:alert(1)", "data:text/html,<script>x</script>", "vbscript:x",
                                 "file:///etc/passwd", "//evil.example/", "/videos/x", "", None])  # fmt: skip
def test_external_turns_anything_else_into_no_link(url: str | None) -> None:
    assert external(url) == "#"


def test_marked_escapes_every_piece_and_marks_the_words() -> None:
    assert marked("a <b>borrow</b> checker", "borrow") == Markup("a &lt;b&gt;<mark>borrow</mark>&lt;/b&gt; checker")
    assert marked("<script>x</script>", "script") == Markup("&lt;<mark>script</mark>&gt;x&lt;/<mark>script</mark>&gt;")
    assert marked(f"Borrowing {ESC}[2J", "borrowed") == Markup(f"<mark>Borrowing</mark> {chr(0x241B)}[2J")
    assert marked("<i>it</i>", "it") == Markup("&lt;i&gt;it&lt;/i&gt;")  # no word of three letters: nothing marked
    assert marked("c++ (x", "c++ (x [") == Markup("c++ (x")


# -- levels and pages -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("floor", "name"), COMPLEXITY_SCALE)
def test_level_names_each_step_of_the_scale(floor: Decimal, name: str) -> None:
    assert level(floor) == name
    assert level(floor + Decimal("0.09")) == name or floor + Decimal("0.09") >= Decimal("1.00")


def test_level_examples() -> None:
    assert level(Decimal("0.87")) == "Advanced Graduate Level" and level(Decimal("0.67")) == "Advanced College"
    assert level(Decimal("0.00")) == COMPLEXITY_SCALE[0][1] and level(Decimal("1.00")) == COMPLEXITY_SCALE[-1][1]


@pytest.mark.parametrize(("total", "size", "pages"), [(0, 25, 1), (1, 25, 1), (25, 25, 1), (26, 25, 2),
                                                      (50, 25, 2), (51, 25, 3), (31, 10, 4)])  # fmt: skip
def test_page_counts(total: int, size: int, pages: int) -> None:
    assert Page([], 1, total, size).pages == pages


# -- a catalog of many videos, one of them hostile ------------------------------------------------------------
@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """28 videos of channel alpha, 3 of beta, a hostile one of its own channel and a failed one, oldest last."""
    settings = Settings.load(home=tmp_path_factory.mktemp("crowd") / "home")
    store = Store(settings)

    def add(video_id: str, days: int, channel: str, topics: list[str], **fields: str) -> None:
        fields = {"title": f"Video {video_id}", "channel_id": channel, "channel_title": channel, **fields}
        store.save_video(make_video(video_id, published_at=WHEN - timedelta(days=days), **fields))
        said = [Segment(idx=0, start_s=3.5, end_s=6.0, text=fields["title"])]
        store.save_transcript(make_transcript(video_id, said))
        intro = fields["title"] if video_id == "hostile" else None
        store.save_summary(make_summary_record(video_id, topics=topics, introduction=intro), "k1")

    for i, video_id in enumerate(ALPHA):
        add(video_id, i, "alpha", ["Shared Topic", f"Subject {i:02d}", "C#", "C/C++", "<b>Bold</b>"])
    for j, video_id in enumerate(BETA):
        add(video_id, 100 + j, "beta", ["Shared Topic", f"Beta {j}", "Go", "Zig", "Nim"])
    add("hostile", 200, "evil", ["Shared Topic", HOSTILE, "Evil", "Bad", "Worse"], title=HOSTILE,
        url="javascript:alert(1)", channel_title=HOSTILE, channel_url="javascript:alert(2)")  # fmt: skip
    store.save_video(make_video("gone", HOSTILE, channel_id="beta", published_at=WHEN - timedelta(days=300)))
    store.save_failure(make_failure("gone", message=HOSTILE))
    load_videos(settings, [*ALPHA, *BETA, "hostile", "gone"], "tkey00000001", "k1")
    return settings


@pytest.fixture(scope="module")
def many(crowd: Settings) -> TestClient:
    return TestClient(create_app(lambda: crowd))


def shown_videos(page: str, element_id: str = "videos") -> list[str]:
    return [href.rsplit("/", 1)[-1] for href, _ in anchors(part(page, element_id), "video")]


def pager(page: str) -> dict[str, dict[str, list[str]]]:
    """rel -> (path, query) of the pager's links."""
    found = re.findall(r'<a rel="(next|prev)" href="([^"]+)"', page)
    return {rel: {"path": [urlsplit(h.replace("&amp;", "&")).path], **parse_qs(urlsplit(h.replace("&amp;", "&")).query)}
            for rel, h in found}  # fmt: skip


def test_the_catalog_pages_by_25_newest_first(many: TestClient) -> None:
    everything = [*ALPHA, *BETA, "hostile", "gone"]
    first = get(many, "/")
    assert shown_videos(first) == everything[:25] and "page 1 of 2 (33 in all)" in first
    assert pager(first) == {"next": {"path": ["/"], "page": ["2"]}}
    second = get(many, "/?page=2")
    assert shown_videos(second) == everything[25:] and "page 2 of 2 (33 in all)" in second
    assert pager(second) == {"prev": {"path": ["/"], "page": ["1"]}}
    past = get(many, "/?page=3")
    assert 'id="videos"' not in past and "Page 3 is past the last one (2)" in past and "No videos yet" not in past
    for bad in ("page=0", "page=-1", "page=x"):
        assert many.get(f"/?{bad}").status_code == 422, bad


def test_the_pager_keeps_the_channel(many: TestClient) -> None:
    first = get(many, "/?channel=alpha")
    assert shown_videos(first) == ALPHA[:25] and "(28 in all)" in first
    assert pager(first) == {"next": {"path": ["/"], "page": ["2"], "channel": ["alpha"]}}
    second = get(many, "/?channel=alpha&page=2")
    assert shown_videos(second) == ALPHA[25:]
    assert pager(second) == {"prev": {"path": ["/"], "page": ["1"], "channel": ["alpha"]}}
    assert 'rel="next"' not in get(many, "/?channel=beta")


def test_topics_and_a_topics_videos_page_too(many: TestClient) -> None:
    first = get(many, "/topics")
    assert anchors(part(first, "topic-list"))[0] == ("/topics/shared%20topic", "shared topic")  # on every video
    assert pager(first) == {"next": {"path": ["/topics"], "page": ["2"]}}
    assert pager(get(many, "/topics?page=2"))["prev"] == {"path": ["/topics"], "page": ["1"]}
    assert "Page 9 is past the last one (2)" in get(many, "/topics?page=9")
    shared = get(many, "/topics/shared%20topic")
    assert shown_videos(shared, "topic-videos") == [*ALPHA, *BETA][:25] and "32 videos" in shared
    assert pager(shared) == {"next": {"path": ["/topics/shared%20topic"], "page": ["2"]}}
    assert shown_videos(get(many, "/topics/shared%20topic?page=2"), "topic-videos") == [*ALPHA, *BETA, "hostile"][25:]
    # Past the last page the topic still exists: the page says so rather than 404 "no video carries it".
    assert "page 9 of 2" in get(many, "/topics/shared%20topic?page=9") or "past the last" in get(
        many, "/topics/shared%20topic?page=9"
    )


def test_topics_with_signs_link_to_their_page(many: TestClient) -> None:
    page = get(many, "/videos/v00")
    tags = {text: href for href, text in anchors(part(page, "topics"), "tag")}
    assert tags["C#"] == "/topics/c%23" and tags["C/C++"] == "/topics/c%20c%2B%2B"
    assert '<a class="tag" href="/topics/b%20bold%20b">&lt;b&gt;Bold&lt;/b&gt;</a>' in page
    for href in (tags["C#"], tags["C/C++"], tags["<b>Bold</b>"]):
        assert shown_videos(get(many, href), "topic-videos") == ALPHA[:25], href


def test_under_a_prefix_the_pager_keeps_it(crowd: Settings) -> None:
    outer = FastAPI()
    outer.mount("/tubescribe", create_app(lambda: crowd))
    client = TestClient(outer)
    assert pager(client.get("/tubescribe/?channel=alpha").text)["next"]["path"] == ["/tubescribe/"]
    assert pager(client.get("/tubescribe/topics").text)["next"]["path"] == ["/tubescribe/topics"]


HOSTILE_PAGES = [
    "/?page=2",
    "/",
    "/videos/hostile",
    "/videos/gone",
    "/topics/shared%20topic?page=2",
    "/topics",
    "/search?q=alert+script&mode=keyword",
    "/sql?q=" + quote("SELECT title FROM videos WHERE video_id = 'hostile'"),
]


@pytest.mark.parametrize("url", HOSTILE_PAGES)
def test_hostile_text_renders_literally(many: TestClient, url: str) -> None:
    page = get(many, url)
    assert SHOWN in page, url
    assert not re.search(r"<script", page, flags=re.I) and ESC not in page and "\x07" not in page
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", page, flags=re.I)


def test_a_javascript_url_is_no_link(many: TestClient) -> None:
    video = get(many, "/videos/hostile")
    assert ("#", "watch") in anchors(video) and all(href == "#" for href, _ in anchors(video, "moment"))
    hits = get(many, "/search?q=alert&mode=keyword")
    moments = anchors(part(hits, "hits"), "moment")
    assert moments and all(href == "#" for href, _ in moments)
    assert "<mark>alert</mark>" in hits

"""The catalog browser's routes through FastAPI's test client, on the sample catalog, an empty one and none."""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

from catalog_records import read
from sample_catalog import (  # noqa: F401  (sample: a pytest fixture, used by name)
    GENERIC_CHANNEL,
    TKEY,
    YOUTUBE_ID,
    listed,
    sample,
    segments_of,
)
from tubescribe.catalog.load import load_videos
from tubescribe.catalog.query import QueryError, run_query
from tubescribe.contract import complexity_label as level
from tubescribe.settings import Settings
from tubescribe.text import clock
from tubescribe.topics import normalize_topic
from tubescribe.web.app import SECURITY_HEADERS, create_app

FIRESHIP = "UCsBjURrPoezykLs9EqgamOA"
NEWEST_FIRST = ["localized_deployment", YOUTUBE_ID, "react", "rust", "broken", "zig"]
PAGES = ["/", "/search", "/topics", "/sql"]
MOMENT = r"http://127\.0\.0\.1:8000/\w+\.webm#t=(\d+)|https://www\.youtube\.com/\S+&t=(\d+)s"


class Anchors(HTMLParser):
    """Every <a> of a page: its attributes and its text, in page order."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.found: list[tuple[dict[str, str], str]] = []
        self._open: list[tuple[dict[str, str], list[str]]] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open.append(({k: v or "" for k, v in attrs}, []))

    def handle_data(self, data: str) -> None:
        for _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            attrs, text = self._open.pop()
            self.found.append((attrs, "".join(text)))


def anchors(page: str, cls: str | None = None) -> list[tuple[str, str]]:
    return [(a["href"], text) for a, text in Anchors(page).found if cls is None or a.get("class") == cls]


def part(page: str, element_id: str) -> str:
    """The element with that id (a table, a list or a section), as text of the page."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}".*?</\1>', page, flags=re.S)
    assert match, f"no #{element_id} on the page"
    return match.group(0)


def get(client: TestClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.text[:2000])
    if response.headers["content-type"].startswith("text/html"):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (url, name)
    return response.text


@pytest.fixture(scope="module")
def client(sample: Settings) -> TestClient:
    return TestClient(create_app(lambda: sample))


# -- the pages on the sample catalog --------------------------------------------------------------------
def test_catalog_page_shows_channels_newest_videos_first_charts_and_failures(client: TestClient) -> None:
    page = get(client, "/")
    assert [text for _, text in anchors(part(page, "channels"))] == ["Fireship", GENERIC_CHANNEL]
    assert (f"/?channel={FIRESHIP}", "Fireship") in anchors(part(page, "channels"))
    videos = [href.removeprefix("/videos/") for href, _ in anchors(part(page, "videos"), "video")]
    assert videos == NEWEST_FIRST
    dates = {name: when for name, (_, when, _) in listed().items()}
    assert dates["localized_deployment"] == max(dates.values())
    assert "A video that would not download" in part(page, "failures") and "HTTP 404" in part(page, "failures")
    assert page.count('<rect class="bar"') == 26 and '<polyline class="line"' in page  # 26 weeks, top topics
    assert "nothing to draw yet" not in page


def test_catalog_page_of_one_channel(client: TestClient) -> None:
    page = get(client, f"/?channel={FIRESHIP}")
    assert [href for href, _ in anchors(part(page, "videos"), "video")] == [f"/videos/{YOUTUBE_ID}"]
    assert "Videos of this channel" in page and ("/", "all channels") in anchors(page)


def test_video_page_sections_fields_topics_and_transcript(client: TestClient, sample: Settings) -> None:
    page = get(client, "/videos/rust")
    assert "<h1>Rust in 100 Seconds</h1>" in page and GENERIC_CHANNEL in page and "2024-05-14 · 2:34" in page
    assert "transcript by Whisper (bundled-tiny.en, en)" in page
    sections = [(h, t) for h, t in anchors(part(page, "sections"), "moment")]
    spans = read(sample, "SELECT start_s, end_s FROM video_sections WHERE video_id = 'rust' ORDER BY idx")
    assert len(sections) == len(spans) == 5
    for (href, text), (start, end) in zip(sections, spans, strict=True):
        assert href == f"http://127.0.0.1:8000/rust.webm#t={int(start)}" and text == f"{clock(start)}–{clock(end)}"
    fields = re.findall(r'<meter min="0" max="1" value="([\d.]+)">.*?<td class="level">([^<]+)</td>', page)
    assert len(fields) == 3 and all(name == level(Decimal(value)) for value, name in fields)
    assert "Advanced College" in {name for _, name in fields}
    tags = anchors(part(page, "topics"), "tag")
    assert tags and all(href == "/topics/" + quote(normalize_topic(text), safe="") for href, text in tags)
    lines = anchors(part(page, "transcript"), "moment")
    segments = segments_of("rust", listed()["rust"][2])
    assert lines == [(f"http://127.0.0.1:8000/rust.webm#t={int(s.start_s)}", clock(s.start_s)) for s in segments]


def test_a_youtube_video_links_moments_at_seconds(client: TestClient) -> None:
    page = get(client, f"/videos/{YOUTUBE_ID}")
    hrefs = [href for href, _ in anchors(page, "moment")]
    assert hrefs and all(re.fullmatch(rf"https://www\.youtube\.com/watch\?v={YOUTUBE_ID}&t=\d+s", h) for h in hrefs)
    assert "&amp;t=0s" in page  # the ampersand escaped in the attribute
    assert (f"/?channel={FIRESHIP}", "Fireship") in anchors(page)


def test_a_failed_video_says_where_it_stopped(client: TestClient) -> None:
    page = get(client, "/videos/broken")
    assert "failed at download: HTTP 404" in page and "No transcript yet." in page


def test_topics_link_to_pages_that_list_their_videos(client: TestClient, sample: Settings) -> None:
    by_videos = "SELECT tag_normalized t, count(DISTINCT video_id) n FROM video_tags GROUP BY t ORDER BY n DESC, t"
    counted = read(sample, by_videos)
    assert 0 < len(counted) <= 25  # one page of them
    links = anchors(part(get(client, "/topics"), "topic-list"))
    assert links == [("/topics/" + quote(topic, safe=""), topic) for topic, _ in counted]
    for topic, videos in counted[:3]:
        carrying = {v for (v,) in read(sample, "SELECT video_id FROM video_tags WHERE tag_normalized = ?", [topic])}
        shown = get(client, "/topics/" + quote(topic, safe=""))
        assert f"{videos} videos" in shown and f"<h1>{escape(topic)}</h1>" in shown
        assert {h.removeprefix("/videos/") for h, _ in anchors(part(shown, "topic-videos"), "video")} == carrying
    assert "Rust in 100 Seconds" in part(get(client, "/topics/rust"), "topic-videos")


def test_unknown_video_and_topic_are_404(client: TestClient) -> None:
    assert "no video &#39;nope&#39; in the catalog" in get(client, "/videos/nope", 404)
    assert "No such topic" in get(client, "/topics/no%20such%20thing", 404)


def test_static_stylesheet(client: TestClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")


# -- search -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_search_modes_find_the_borrow_checker_in_rust(client: TestClient, mode: str) -> None:
    page = get(client, f"/search?q=borrow+checker&mode={mode}")
    assert f'<option value="{mode}" selected>' in page
    videos = anchors(part(page, "hits"), "video")
    assert videos[0] == ("/videos/rust", "Rust in 100 Seconds")
    moments = anchors(part(page, "hits"), "moment")
    assert len(moments) == len(videos)
    for href, text in moments:
        seconds = re.fullmatch(MOMENT, href)
        assert seconds, href
        assert clock(int(seconds.group(1) or seconds.group(2))) == text


def test_keyword_hits_mark_the_words(client: TestClient) -> None:
    assert "<mark>borrow</mark>" in part(get(client, "/search?q=borrow&mode=keyword"), "hits")


def test_search_filters_by_channel_and_date(client: TestClient) -> None:
    every = {h for h, _ in anchors(part(get(client, "/search?q=javascript&mode=keyword"), "hits"), "video")}
    assert {f"/videos/{YOUTUBE_ID}", "/videos/react"} <= every
    page = get(client, f"/search?q=javascript&mode=keyword&channel={FIRESHIP}")
    assert {h for h, _ in anchors(part(page, "hits"), "video")} == {f"/videos/{YOUTUBE_ID}"}
    assert f'<option value="{FIRESHIP}" selected>' in page
    page = get(client, "/search?q=javascript&mode=keyword&since=2024-09-01")
    recent = {h for h, _ in anchors(part(page, "hits"), "video")}
    assert f"/videos/{YOUTUBE_ID}" in recent and "/videos/react" not in recent
    assert 'value="2024-09-01"' in page


def test_search_without_a_query_or_a_match_and_bad_parameters(client: TestClient) -> None:
    page = get(client, "/search")
    assert 'id="hits"' not in page and "No match" not in page
    assert 'id="hits"' not in get(client, "/search?q=+++")
    assert "No match for “zzyzxqwv”." in get(client, "/search?q=zzyzxqwv&mode=keyword")
    for bad in ("mode=fuzzy", "since=yesterday", "limit=0", "limit=201"):
        assert client.get(f"/search?q=rust&{bad}").status_code == 422, bad


# -- SQL ------------------------------------------------------------------------------------------------------
def test_sql_renders_a_table_and_a_csv_link(client: TestClient) -> None:
    sql = "SELECT video_id, title, topics FROM video_overview ORDER BY video_id"
    page = get(client, "/sql?q=" + quote(sql))
    table = part(page, "result")
    assert "<th>video_id</th><th>title</th><th>topics</th>" in table
    assert table.count("<tr>") == 1 + 6 and "<td>broken</td>" in table and '<span class="null">NULL</span>' in table
    assert "6 rows ·" in page and ("/sql.csv?q=" + quote(sql, safe="").replace("%20", "+"), "download CSV") in anchors(
        page
    )
    assert escape(sql) in page  # the question stays in its box


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE videos",
        "COPY videos TO 'out.csv'",
        "SET memory_limit = '64GB'",
        f"SELECT * FROM read_csv('{Path(__file__).resolve()}')",
        "INSTALL httpfs",
    ],
)
def test_sql_refusals_are_400_with_the_sandboxs_reason(client: TestClient, sample: Settings, sql: str) -> None:
    with pytest.raises(QueryError) as refused:
        run_query(sample, sql)
    page = get(client, "/sql?q=" + quote(sql), 400)
    assert f'<p class="problem" id="refusal">{escape(str(refused.value))}</p>' in page
    assert 'id="result"' not in page
    response = client.get("/sql.csv?q=" + quote(sql))
    assert response.status_code == 400 and response.text == f"{refused.value}\n"
    assert response.headers["content-type"].startswith("text/plain") and "content-disposition" not in response.headers


def test_sql_shows_the_first_500_rows_and_the_csv_has_them_all(client: TestClient) -> None:
    page = get(client, "/sql?q=" + quote("SELECT n, 'r' || n AS label FROM range(5000) t(n) ORDER BY n"))
    assert part(page, "result").count("<tr>") == 1 + 500 and "<td>499</td>" in page and "<td>500</td>" not in page
    assert "500 rows shown (the first 500)" in page
    assert "shown (the first" not in get(client, "/sql?q=" + quote("SELECT * FROM range(500)"))
    response = client.get("/sql.csv?q=" + quote("SELECT n, 'r' || n AS label FROM range(5000) t(n) ORDER BY n"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="tubescribe-query.csv"'
    lines = response.text.splitlines()
    assert lines[0] == "n,label" and len(lines) == 5001 and lines[1] == "0,r0" and lines[-1] == "4999,r4999"


def test_sql_values_are_data(client: TestClient) -> None:
    page = get(client, "/sql?q=" + quote("""SELECT '<script>alert(1)</script>' AS "<b>x</b>", [1, 2] AS l"""))
    assert "<script>" not in page and "&lt;script&gt;" in page and "<th>&lt;b&gt;x&lt;/b&gt;</th>" in page
    assert "<td>[1, 2]</td>" in page


def test_sql_without_a_question_is_just_the_box(client: TestClient) -> None:
    page = get(client, "/sql")
    assert "<textarea" in page and 'id="result"' not in page and 'id="refusal"' not in page


# -- no catalog, an empty one --------------------------------------------------------------------------------
def test_no_catalog_yet_is_503_saying_how_to_make_one(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path / "home")
    client = TestClient(create_app(lambda: settings))
    for url in ("/", "/videos/rust", "/search", "/search?q=rust", "/topics", "/topics/rust", "/sql", "/sql?q=SELECT+1",
                "/sql.csv?q=SELECT+1"):  # fmt: skip
        page = get(client, url, 503)
        assert "The catalog cannot be read" in page and "tubescribe ingest URL" in page, url
    assert not settings.catalog_path.exists()  # reading made none


def test_an_empty_catalog_renders_every_page_with_its_empty_state(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path / "home")
    load_videos(settings, [], TKEY, "k1")
    client = TestClient(create_app(lambda: settings))
    page = get(client, "/")
    for text in ("No channels yet", "No videos yet.", "No failures.", "nothing to draw yet"):
        assert text in page
    assert 'rel="next"' not in page
    assert "No topics yet" in get(client, "/topics")
    assert 'id="hits"' not in get(client, "/search")
    assert "No match for “rust”." in get(client, "/search?q=rust&mode=keyword")
    assert "0 rows ·" in get(client, "/sql?q=" + quote("SELECT * FROM video_overview"))
    assert client.get("/sql.csv?q=" + quote("SELECT video_id FROM videos")).text.splitlines() == ["video_id"]
    get(client, "/videos/rust", 404)
    get(client, "/topics/rust", 404)


# -- mounting, guarding, methods ------------------------------------------------------------------------------
def test_under_a_prefix_every_link_starts_with_it(sample: Settings) -> None:
    outer = FastAPI()
    outer.mount("/tubescribe", create_app(lambda: sample))
    client = TestClient(outer)
    for url in ["/", "/videos/rust", "/search?q=rust&mode=keyword", "/topics", "/topics/rust", "/sql?q=SELECT+1",
                "/videos/nope"]:  # fmt: skip
        page = client.get("/tubescribe" + url).text
        local = [h for h, _ in anchors(page) if not h.startswith(("http://", "https://"))]
        local += re.findall(r'(?:action|href)="(/[^"]*)"', page)
        assert local and all(h.startswith("/tubescribe/") for h in local), (url, local)
        assert 'href="/tubescribe/static/style.css"' in page
    for href, _ in anchors(client.get("/tubescribe/").text, "video"):
        assert client.get(href).status_code == 200, href
    assert client.get("/tubescribe/static/style.css").status_code == 200


def test_a_dependency_guards_every_page(sample: Settings) -> None:
    from fastapi import Depends, HTTPException

    def deny() -> None:
        raise HTTPException(401, "sign in first")

    client = TestClient(create_app(lambda: sample, dependencies=[Depends(deny)]))
    for url in [*PAGES, "/videos/rust", "/videos/nope", "/topics/rust", "/search?q=rust", "/sql?q=SELECT+1",
                "/sql.csv?q=SELECT+1"]:  # fmt: skip
        response = client.get(url)
        assert response.status_code == 401 and response.json() == {"detail": "sign in first"}, url


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_nothing_writes(client: TestClient, method: str) -> None:
    for url in [*PAGES, "/videos/rust", "/topics/rust", "/sql.csv?q=SELECT+1", "/static/style.css"]:
        assert client.request(method, url).status_code == 405, (method, url)


def test_an_unknown_path_is_the_html_404_page_with_the_security_headers(client: TestClient) -> None:
    response = client.get("/videos/")
    assert response.status_code == 404 and "<h1>Not found</h1>" in response.text
    assert response.headers["content-security-policy"] == SECURITY_HEADERS["Content-Security-Policy"]

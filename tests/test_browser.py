"""The catalog browser in a real headless Chromium, served by the real `tubescribe serve`.

One browser for the module and one server per catalog: the sample catalog, and a catalog holding a hostile
title. Every page is loaded, clicked through and screenshotted (under each test's tmp_path); no test needs the
internet (YouTube links are only read, a loopback media link is clicked but nothing need answer it).
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import duckdb
import pytest
from selenium.webdriver import Chrome
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from browser_support import browser, serve_catalog, severe_console_errors  # noqa: F401  (browser: a fixture)
from catalog_records import make_segments, make_summary_record, make_transcript, make_video
from sample_catalog import YOUTUBE_ID, listed, sample, segments_of  # noqa: F401  (sample: a fixture)
from tubescribe.catalog.load import load_videos
from tubescribe.settings import Settings
from tubescribe.store import Store

ESC = "\x1b"
HOSTILE = f"<script>window.__pwned=1</script> [/dim] {ESC}[31m [b]"
HOSTILE_SHOWN = "<script>window.__pwned=1</script> [/dim] \u241b[31m [b]"  # ESC as its picture, ␛
MOMENT = re.compile(r"(?:#t=(\d+)|[?&]t=(\d+)s)(?:&|$)")


@pytest.fixture(scope="module")
def site(sample: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tubescribe serve` on the sample catalog; its base URL."""
    with serve_catalog(sample.home, tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`tubescribe serve` on a one-video catalog whose title is a script tag, rich markup and an ESC, stored
    raw (as a careless discover stage would have stored it)."""
    settings = Settings.load(home=tmp_path_factory.mktemp("hostile") / "home")
    store = Store(settings)
    store.save_video(make_video("hostile", "placeholder"))
    store.save_transcript(make_transcript("hostile", make_segments(["a haunted title", "speaks in brackets"], 4.0)))
    store.save_summary(make_summary_record("hostile"), "k1")
    load_videos(settings, ["hostile"], "tkey00000001", "k1")
    with duckdb.connect(str(settings.catalog_path)) as con:
        con.execute("UPDATE videos SET title = $t WHERE video_id = 'hostile'", {"t": HOSTILE})
    with serve_catalog(settings.home, tmp_path_factory.mktemp("serve") / "serve.log") as base:
        yield base


def open_page(driver: Chrome, url: str, shots: Path, name: str) -> str:
    """Load `url`, screenshot it as `name`.png, fail on console errors; returns the page's h1."""
    driver.get_log("browser")  # what an earlier test left is that test's
    driver.get(url)
    assert driver.save_screenshot(str(shots / f"{name}.png"))
    assert severe_console_errors(driver) == [], name
    return heading(driver)


def heading(driver: Chrome) -> str:
    """The page's h1 (failing with what the page shows instead, such as an error's JSON)."""
    found = driver.find_elements(By.TAG_NAME, "h1")
    assert found, f"{driver.current_url} has no h1; it shows: {driver.find_element(By.TAG_NAME, 'body').text[:300]}"
    return found[0].text


def second_of(link: WebElement) -> int:
    """The second of the video a moment link opens at (`#t=N` of a media file, `&t=Ns` of YouTube)."""
    href = link.get_attribute("href") or ""
    found = MOMENT.search(href)
    assert found, f"{href!r} names no second"
    return int(found.group(1) or found.group(2))


def clock_seconds(text: str) -> int:
    """`1:05` (or `1:02:03`) as seconds."""
    seconds = 0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def test_every_page_loads(browser: Chrome, site: str, tmp_path: Path) -> None:
    question = "SELECT video_id, title FROM videos ORDER BY video_id"
    pages = [
        ("catalog", "/", "Catalog"),
        ("video", "/videos/rust", "Rust in 100 Seconds"),
        ("search", "/search?q=memory", "Search"),
        ("topics", "/topics", "Topics"),
        ("topic", "/topics/" + quote("programming language"), "programming language"),
        ("sql", "/sql?q=" + quote(question), "SQL"),
    ]
    for name, path, heading in pages:
        assert open_page(browser, site + path, tmp_path, name) == heading, name
        assert not browser.find_elements(By.CSS_SELECTOR, "p.problem"), name
    # what each page is for, on the page
    browser.get(site + "/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#videos tbody tr")) == 6
    assert "HTTP 404" in browser.find_element(By.ID, "failures").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart > svg[role=img]")) == 2
    browser.get(site + "/topics/" + quote("programming language"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#topic-videos tbody tr")) == 2
    browser.get(site + "/topics")
    assert browser.find_elements(By.CSS_SELECTOR, "#topic-list tbody tr")


def test_a_click_from_the_catalog_opens_the_video(browser: Chrome, site: str, tmp_path: Path) -> None:
    open_page(browser, site + "/", tmp_path, "catalog")
    browser.find_element(By.LINK_TEXT, "Zig in 100 Seconds").click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url.endswith("/videos/zig"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Zig in 100 Seconds"
    assert browser.title == "Zig in 100 Seconds · tubescribe"
    assert browser.find_elements(By.CSS_SELECTOR, "#transcript li")
    assert severe_console_errors(browser) == []


def test_moments_of_a_media_file_open_it_at_their_second(browser: Chrome, site: str, tmp_path: Path) -> None:
    open_page(browser, site + "/videos/rust", tmp_path, "video")
    sections = browser.find_elements(By.CSS_SELECTOR, "#sections a.moment")
    assert len(sections) >= 2
    for link in sections:  # "0:26–0:45" opens the video at its start, second 26
        assert (link.get_attribute("href") or "").startswith("http://127.0.0.1:8000/rust.webm#t=")
        assert second_of(link) == clock_seconds(link.text.split("–")[0]), link.text
    assert [second_of(link) for link in sections] == sorted(second_of(link) for link in sections)
    segments = segments_of("rust", listed()["rust"][2])
    lines = browser.find_elements(By.CSS_SELECTOR, "#transcript li")
    assert len(lines) == len(segments)
    for line, segment in zip(lines, segments, strict=True):
        link = line.find_element(By.CSS_SELECTOR, "a.moment")
        assert second_of(link) == int(segment.start_s), segment
        assert line.find_element(By.TAG_NAME, "span").text == segment.text
    # a click on the fourth line follows its link (nothing need answer on port 8000: the URL is what counts)
    link = lines[3].find_element(By.CSS_SELECTOR, "a.moment")
    href = link.get_attribute("href")
    assert link.tag_name == "a" and href == f"http://127.0.0.1:8000/rust.webm#t={int(segments[3].start_s)}"
    link.click()
    WebDriverWait(browser, 10).until(lambda d: d.current_url == href)


def test_moments_of_a_youtube_video_name_their_second(browser: Chrome, site: str, tmp_path: Path) -> None:
    open_page(browser, site + f"/videos/{YOUTUBE_ID}", tmp_path, "youtube")
    links = browser.find_elements(By.CSS_SELECTOR, "#sections a.moment, #transcript a.moment")
    assert len(links) > 2
    for link in links:  # read, never followed: the test does not need the internet
        href = link.get_attribute("href") or ""
        assert href.startswith(f"https://www.youtube.com/watch?v={YOUTUBE_ID}&t="), href
        assert href.endswith(f"&t={clock_seconds(link.text.split('–')[0])}s"), (href, link.text)
        assert link.get_attribute("rel") == "noopener noreferrer"
    watch = browser.find_element(By.CSS_SELECTOR, "a.watch").get_attribute("href") or ""
    assert watch.startswith(f"https://www.youtube.com/watch?v={YOUTUBE_ID}")


def check_hits(driver: Chrome, words: set[str]) -> None:
    hits = driver.find_elements(By.CSS_SELECTOR, "#hits > li")
    assert hits, "no hits"
    marked = driver.find_elements(By.CSS_SELECTOR, "#hits mark")
    assert marked and all(m.text.lower().startswith(tuple(words)) for m in marked), [m.text for m in marked]
    for hit in hits:
        moment = hit.find_element(By.CSS_SELECTOR, "a.moment")
        assert second_of(moment) == clock_seconds(moment.text)
        video = hit.find_element(By.CSS_SELECTOR, "a.video").get_attribute("href") or ""
        assert urlsplit(video).path.startswith("/videos/"), video


def test_a_search_typed_into_the_quick_box(browser: Chrome, site: str, tmp_path: Path) -> None:
    open_page(browser, site + "/", tmp_path, "catalog")
    box = browser.find_element(By.CSS_SELECTOR, "header form.quick input[name=q]")
    box.send_keys("memory safe", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: "/search?" in d.current_url)
    assert parse_qs(urlsplit(browser.current_url).query)["q"] == ["memory safe"]
    assert heading(browser) == "Search"
    check_hits(browser, {"memory", "safe"})
    browser.save_screenshot(str(tmp_path / "search-quick.png"))
    assert severe_console_errors(browser) == []


def test_a_search_typed_into_the_search_form(browser: Chrome, site: str, tmp_path: Path) -> None:
    # the search page's own form, as a person leaves it: mode changed, channel and date untouched (so the
    # browser sends `channel=&since=`)
    open_page(browser, site + "/search", tmp_path, "search-empty")
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys("garbage collector")
    Select(browser.find_element(By.CSS_SELECTOR, "form.search select[name=mode]")).select_by_value("keyword")
    browser.find_element(By.CSS_SELECTOR, "form.search button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "mode=keyword" in d.current_url)
    browser.save_screenshot(str(tmp_path / "search-form.png"))
    assert heading(browser) == "Search"
    assert browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]").get_attribute("value") == (
        "garbage collector"
    )
    check_hits(browser, {"garbage", "collector"})
    assert severe_console_errors(browser) == []


def ask(driver: Chrome, question: str) -> None:
    area = driver.find_element(By.CSS_SELECTOR, "form.sql textarea[name=q]")
    area.clear()
    area.send_keys(question)
    driver.find_element(By.CSS_SELECTOR, "form.sql button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: parse_qs(urlsplit(d.current_url).query).get("q") == [question])


def test_sql_refuses_a_change_and_answers_a_question(browser: Chrome, site: str, tmp_path: Path) -> None:
    open_page(browser, site + "/sql", tmp_path, "sql-empty")
    ask(browser, "DROP TABLE videos")
    refusal = browser.find_element(By.ID, "refusal").text
    assert "DROP refused" in refusal and "read-only" in refusal
    assert not browser.find_elements(By.ID, "result")
    browser.save_screenshot(str(tmp_path / "sql-refused.png"))
    assert severe_console_errors(browser, ("status of 400",)) == []  # the refusal is a 400: logged

    question = "SELECT video_id, title FROM videos ORDER BY video_id"
    ask(browser, question)
    assert not browser.find_elements(By.ID, "refusal")
    table = browser.find_element(By.ID, "result")
    assert [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")] == ["video_id", "title"]
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table.find_elements(By.TAG_NAME, "tr")]
    rows = [row for row in rows if row]  # the header row has th, not td
    assert [r[0] for r in rows] == sorted(["broken", "localized_deployment", "react", "rust", YOUTUBE_ID, "zig"])
    assert ["rust", "Rust in 100 Seconds"] in rows
    assert "6 rows" in browser.find_element(By.CSS_SELECTOR, "p.result-meta").text
    csv_link = browser.find_element(By.ID, "csv").get_attribute("href") or ""
    assert urlsplit(csv_link).path == "/sql.csv" and parse_qs(urlsplit(csv_link).query)["q"] == [question]
    with urllib.request.urlopen(csv_link, timeout=30) as response:  # fetched, not clicked: it is a download
        lines = response.read().decode().splitlines()
    assert lines[0] == "video_id,title" and "rust,Rust in 100 Seconds" in lines and len(lines) == 7
    browser.save_screenshot(str(tmp_path / "sql-result.png"))
    assert severe_console_errors(browser) == []


def test_a_hostile_title_is_shown_as_text(browser: Chrome, hostile_site: str, tmp_path: Path) -> None:
    pages = {
        "hostile-catalog": ("/", "#videos"),
        "hostile-video": ("/videos/hostile", "h1"),
        "hostile-search": ("/search?mode=keyword&q=haunted", "#hits"),
        "hostile-sql": ("/sql?q=" + quote("SELECT title FROM videos"), "#result"),
    }
    browser.get_log("browser")
    for name, (path, where) in pages.items():
        browser.get(hostile_site + path)
        shown = browser.find_element(By.CSS_SELECTOR, where).text
        assert HOSTILE_SHOWN in shown, (name, shown)
        assert ESC not in browser.find_element(By.TAG_NAME, "body").text
        assert browser.execute_script("return typeof window.__pwned") == "undefined", name
        assert browser.execute_script("return document.scripts.length") == 0, name
        assert browser.save_screenshot(str(tmp_path / f"{name}.png"))
        assert severe_console_errors(browser) == [], name
    # the page's title and heading say it literally too
    browser.get(hostile_site + "/videos/hostile")
    assert browser.find_element(By.TAG_NAME, "h1").text == HOSTILE_SHOWN
    assert browser.title == f"{HOSTILE_SHOWN} · tubescribe"

"""The catalog browser inside a real Airflow: the API server loads tubescribe's plugin (the `airflow.plugins`
entry point), mounts the app under /tubescribe behind Airflow's authentication, and lists its navigation entry.

One api-server subprocess on a sqlite metadata DB of its own, with SimpleAuthManager's password login
(not all-admins mode), so an unauthenticated request is refused as the REST API refuses it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_support import AirflowStack
from sample_catalog import build_sample_catalog
from tubescribe.settings import Settings

pytestmark = pytest.mark.slow

USER, PASSWORD = "analyst", "not-a-real-secret-7f3a"


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    home = tmp_path_factory.mktemp("airflow-plugin") / "home"
    build_sample_catalog(Settings.load(home=home))
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    stack = AirflowStack(home)
    stack.env.update(
        {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        }
    )
    try:
        stack.cli("db", "migrate")
        stack.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(stack.port))
        stack.wait_for("the API server", stack.api_healthy, timeout=180)
        yield stack
    finally:
        stack.stop()


def _get(stack: AirflowStack, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(f"http://127.0.0.1:{stack.port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace"), dict(exc.headers)


def _token(stack: AirflowStack) -> str:
    body = json.dumps({"username": USER, "password": PASSWORD}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.port}/auth/token", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        return str(json.loads(resp.read())["access_token"])


def test_the_browser_answers_only_an_authenticated_request(airflow: AirflowStack) -> None:
    for path in ("/tubescribe/", "/tubescribe/videos/zig", "/tubescribe/sql?q=SELECT+1"):
        status, body, _ = _get(airflow, path)
        assert status == 401, (path, status, body[:300])
    status, _, _ = _get(airflow, "/tubescribe/", {"Authorization": "Bearer not-a-token"})
    assert status in (401, 403)


def test_the_catalog_shows_under_airflows_prefix_with_an_api_token(airflow: AirflowStack) -> None:
    bearer = {"Authorization": f"Bearer {_token(airflow)}"}
    status, html, headers = _get(airflow, "/tubescribe/", bearer)
    assert status == 200, html[:500]
    assert "<h1>Catalog</h1>" in html and "tubescribe sample channel" in html
    assert 'href="/tubescribe/videos/zig"' in html  # links carry the mount's prefix
    assert 'href="/tubescribe/static/style.css"' in html
    assert "frame-ancestors 'self'" in headers["content-security-policy"]  # Airflow's UI may frame it
    status, css, _ = _get(airflow, "/tubescribe/static/style.css")
    assert status == 200 and "--accent" in css


def test_the_ui_session_cookie_opens_a_video_and_the_sql_page(airflow: AirflowStack) -> None:
    # Airflow's UI keeps its JWT in the `_token` cookie; a page opened from its navigation sends that.
    cookie = {"Cookie": f"_token={_token(airflow)}"}
    status, html, _ = _get(airflow, "/tubescribe/videos/zig", cookie)
    assert status == 200 and "<h1>Zig in 100 Seconds</h1>" in html
    assert 'href="/tubescribe/topics/' in html
    status, html, _ = _get(airflow, "/tubescribe/sql?q=DROP+TABLE+videos", cookie)
    assert status == 400 and "read-only" in html
    status, html, _ = _get(airflow, "/tubescribe/videos/no-such-video", cookie)
    assert status == 404


def test_airflow_lists_the_plugin_and_its_navigation_entry(airflow: AirflowStack) -> None:
    bearer = {"Authorization": f"Bearer {_token(airflow)}"}
    status, body, _ = _get(airflow, "/api/v2/plugins", bearer)
    assert status == 200, body[:500]
    [plugin] = [p for p in json.loads(body)["plugins"] if p["name"] == "tubescribe"]
    assert [(a["name"], a["url_prefix"]) for a in plugin["fastapi_apps"]] == [("tubescribe catalog", "/tubescribe")]
    [view] = plugin["external_views"]
    assert (view["name"], view["href"], view["destination"], view["url_route"]) == (
        "tubescribe catalog", "tubescribe/", "nav", "tubescribe",
    )  # fmt: skip
    log = (Path(airflow.logs) / "api-server.log").read_text(errors="replace")
    assert PASSWORD not in log

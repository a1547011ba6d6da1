"""`tubescribe serve` as a user runs it: a fresh process on a loopback port, stopped by its pid.

The pages themselves are tested through FastAPI's client (test_web.py) and in a real browser
(test_browser.py); here, what the command adds: where it listens, what it says, and its errors.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from cli_support import CLI, REPO, cli_environment, tubescribe
from ports import free_port


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_says_where_it_listens_and_explains_a_missing_catalog(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=cli_environment(tmp_path / "home"), cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                status, html = _get(f"http://127.0.0.1:{port}/")
                break
            except OSError:
                assert time.monotonic() < deadline, "tubescribe serve did not answer within 60 s"
                time.sleep(0.3)
        # No catalog yet: the page says how to make one, and the server stays up.
        assert status == 503
        assert "tubescribe ingest URL" in html and "tubescribe demo" in html
        status, _ = _get(f"http://127.0.0.1:{port}/static/style.css")
        assert status == 200
        assert proc.poll() is None
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert f"at http://localhost:{port}/" in out
    assert "warning" not in err  # loopback: nothing to warn about


def test_serve_refuses_a_port_in_use_with_a_clear_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = tubescribe(tmp_path / "home", "serve", "--port", str(port), timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    result = tubescribe(tmp_path / "home", "serve", "--port", "70000", timeout=60)
    assert result.returncode == 2 and "--port" in result.stderr and "65535" in result.stderr

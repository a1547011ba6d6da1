"""A real headless browser (Debian's chromium and chromedriver) and the real `tubescribe serve` for it to open.

`browser` starts one Chromium per test module; `serve_catalog` runs `tubescribe serve` as a subprocess on a free
loopback port, waits until it answers and stops exactly that process. Both binaries are given to Selenium by
path, so Selenium Manager never looks for (or downloads) a browser; without them a test fails with the command
that installs them (CI's .ci/run installs them, so a missing browser is a broken machine, not a skip).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from cli_support import REPO, cli_environment
from ports import free_port

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager, were it ever asked, may not download anything

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("TUBESCRIBE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TUBESCRIBE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL = "apt-get install chromium chromium-driver"
WINDOW = (1280, 900)
START_TIMEOUT_S = 60.0


def browser_binaries() -> tuple[str, str]:
    """The chromium and chromedriver executables; the test fails (not skips) with how to install them."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not (os.path.isfile(path) and os.access(path, os.X_OK))]
    if missing:
        pytest.fail(
            f"the browser tests need Debian's chromium and chromedriver; missing: {', '.join(missing)}. "
            f"Install them with `{INSTALL}` (as root; .ci/run does this on CI)",
            pytrace=False,
        )
    return CHROMIUM, CHROMEDRIVER


def new_browser(window: tuple[int, int] = WINDOW) -> webdriver.Chrome:
    """A headless Chromium that keeps its console log (read with `driver.get_log("browser")`)."""
    chromium, chromedriver = browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={window[0]},{window[1]}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the whole test module."""
    driver = new_browser()
    try:
        yield driver
    finally:
        driver.quit()


def tubescribe_command() -> list[str]:
    """The installed `tubescribe` script beside this interpreter, else the module it runs."""
    script = Path(sys.executable).with_name("tubescribe")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tubescribe.cli.app"]


def _stop(process: subprocess.Popen[Any]) -> None:
    """Stop exactly this process: SIGTERM by its pid, SIGKILL if it has not gone after 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def serve_catalog(home: Path, log: Path) -> Iterator[str]:
    """`tubescribe serve` on `home` (the real command, in a fresh process) on a free 127.0.0.1 port; yields
    its base URL once `/` answers. Its output goes to `log`, quoted when it does not start."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*tubescribe_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=cli_environment(home),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"tubescribe serve exited with {process.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"tubescribe serve did not answer in {START_TIMEOUT_S:.0f} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        _stop(process)


def severe_console_errors(driver: webdriver.Chrome, allowed: tuple[str, ...] = ()) -> list[str]:
    """The SEVERE console entries since the last call, without Content-Security-Policy reports and `allowed`."""
    shown = []
    for entry in driver.get_log("browser"):
        message = str(entry.get("message", ""))
        if entry.get("level") != "SEVERE" or "Content Security Policy" in message:
            continue
        if any(part in message for part in allowed):
            continue
        shown.append(message)
    return shown

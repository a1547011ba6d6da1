"""The catalog browser served for timing (pages.py): the app under uvicorn in its own process on a free
127.0.0.1 port, as `tubescribe serve` runs it; one timed GET; the load average while timing.

Run as a script (`page_server.py PORT HOME`), it is that server process.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tubescribe.settings import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server(home: Path) -> Iterator[str]:
    """The app under uvicorn in its own process (this file run as a script); yields its base URL."""
    port = free_port()
    command = [sys.executable, __file__, str(port), str(home)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(base + "/static/missing", timeout=1)
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start (exit {proc.poll()})")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()  # ours, by its pid
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve(port: int, home: Path) -> None:
    import uvicorn

    from tubescribe.web.app import create_app

    settings = Settings.load(home=home)
    # As `tubescribe serve` runs it, but without an access-log line per request on the terminal.
    uvicorn.run(create_app(lambda: settings), host="127.0.0.1", port=port, log_level="warning")


def get(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    body = response.content
    took = time.perf_counter() - started
    if response.status_code != 200 or b"</html>" not in body:
        raise SystemExit(f"GET {url}: {response.status_code}\n{body[:2000].decode(errors='replace')}")
    return took


class LoadWatch:
    """The 1-minute load average every 5 s while the pages are timed."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(5)

    def __enter__(self) -> LoadWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def __str__(self) -> str:
        s = self.samples or [os.getloadavg()[0]]
        return f"{min(s):.2f}-{max(s):.2f} (mean {sum(s) / len(s):.2f}, {len(s)} samples)"


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))

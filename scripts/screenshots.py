"""The README's screenshots of the catalog browser: the sample catalog, served by `tubescribe serve`, in headless
Chromium (the browser tests' tooling, tests/browser_support.py; needs `apt-get install chromium chromium-driver`).

    .venv/bin/python scripts/screenshots.py            # writes docs/images/catalog.png and docs/images/video.png

Nothing is downloaded: the catalog is built from the bundled sample channel, the browser is the system's.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from browser_support import new_browser, serve_catalog  # noqa: E402
from sample_catalog import build_sample_catalog  # noqa: E402
from tubescribe.settings import Settings  # noqa: E402

SHOTS = {"catalog.png": "/", "video.png": "/videos/rust"}
WINDOW = (1200, 800)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images", help="folder for the PNGs")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tubescribe-shots-") as tmp:
        settings = Settings.load(home=Path(tmp) / "home")
        build_sample_catalog(settings)
        with serve_catalog(settings.home, Path(tmp) / "serve.log") as base:
            driver = new_browser(WINDOW)
            try:
                for name, path in SHOTS.items():
                    driver.get(base + path)
                    if not driver.save_screenshot(str(args.out / name)):
                        raise SystemExit(f"could not save {name}")
                    print(f"{args.out / name}: {base + path}")
            finally:
                driver.quit()


if __name__ == "__main__":
    main()

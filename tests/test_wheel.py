"""A wheel that installs anywhere: built from the checkout, installed (not editable) into a fresh virtual
environment, and run from a folder that is not the checkout.

The fresh environment borrows the third-party packages of the one running the tests (a path entry, not an
install: reinstalling Airflow and faster-whisper would take minutes and test pip, not tubescribe), so
tubescribe itself, its SQL, prompts, sample channel and DAG files can only come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The `bin/` folder of a fresh venv holding tubescribe installed from its wheel."""
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools leaves build/ and egg-info in the tree it builds from.
    source = work / "source"
    shutil.copytree(
        ROOT, source, symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", ".cluster", ".tubescribe", "build", "*.egg-info", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist"), str(source)],
        check=True,
        timeout=600,
    )
    wheels = list((work / "dist").glob("tubescribe-*.whl"))
    assert len(wheels) == 1
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # The test environment's packages after the venv's own, so its editable tubescribe is never found first.
    (purelib / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps",
         str(wheels[0])],
        check=True,
        timeout=300,
    )
    return venv / "bin"


def _run(bin_dir: Path, home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUBESCRIBE_", "AIRFLOW"))}
    env["TUBESCRIBE_HOME"] = str(home)
    return subprocess.run(
        [str(bin_dir / "tubescribe"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "python"), "-c", "import tubescribe; print(tubescribe.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )
    assert str(ROOT) not in done.stdout
    assert "site-packages" in done.stdout


def test_demo_and_read_commands_run_from_another_folder(installed: Path, tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    demo = _run(installed, home, elsewhere, "demo")
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    count = _run(installed, home, elsewhere, "query", "select count(*) as n from videos", "--format", "csv")
    assert count.returncode == 0, count.stderr
    assert count.stdout.splitlines()[-1].strip() == "5"
    first = _run(installed, home, elsewhere, "query", "select min(video_id) from videos", "--format", "csv")
    video_id = first.stdout.splitlines()[-1].strip()
    shown = _run(installed, home, elsewhere, "show", video_id)
    assert shown.returncode == 0, shown.stderr
    found = _run(installed, home, elsewhere, "search", "borrow checker")
    assert found.returncode == 0, found.stderr
    assert "rust" in found.stdout.lower()

"""Bytes by key under one root, a local folder or an fsspec object store, each value published whole.

On a disk a value is written to a temporary file beside its target, fsynced and renamed into place; on an
object store it is one PUT of the finished bytes. Either way a reader never sees half a value. Keys are
checked here, so no outside input climbs out of the root. `store.py` builds the artifacts on top of this.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tubescribe.errors import Kind, TubescribeError, disk_full_as
from tubescribe.settings import Settings


class UnsafePathError(TubescribeError, ValueError):
    """A path built from outside input would leave the store's root."""

    kind = Kind.PERMANENT


def inside(root: Path, path: Path) -> Path:
    """`path` resolved, refused when it would leave `root`."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UnsafePathError(f"{path} is outside {root}")
    return resolved


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it into place only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_bytes(target: Path, data: bytes) -> None:
    """Write a file atomically (fsync before the rename, so a power cut cannot publish garbage)."""
    with disk_full_as(target.parent, f"writing {target.name}"), atomic_path(target) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_text(target: Path, text: str) -> None:
    """Write a text file atomically."""
    write_bytes(target, text.encode("utf-8"))


@dataclass(frozen=True)
class Listed:
    """One object found by `Blobs.glob`."""

    key: str


class Blobs:
    """Bytes by key (`work/<id>/video.json`) under one root: a local folder or an fsspec object store."""

    def __init__(self, settings: Settings) -> None:
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem

        self.fs: Any
        if settings.store_url is None:
            self.fs, root = LocalFileSystem(), str(settings.home)
        else:
            options: dict[str, Any] = {}
            if settings.store_url.startswith(("s3://", "s3a://")):
                # Credentials come from AWS_* in the environment (botocore reads them); only the endpoint is ours.
                # No listing cache: another worker's writes must show up in this long-lived process.
                options["use_listings_cache"] = False
                if settings.s3_endpoint_url:
                    options["client_kwargs"] = {"endpoint_url": settings.s3_endpoint_url}
            self.fs, root = url_to_fs(settings.store_url, **options)
        self.local = isinstance(self.fs, LocalFileSystem)
        self.root = root.rstrip("/") or "/"
        self.url = settings.store_url

    def path(self, key: str) -> str:
        """The fsspec path of a key; refuses keys that could climb out of the root."""
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") or "\x00" in p for p in parts):
            raise UnsafePathError(f"{key!r} is not a safe artifact name")
        if self.local:
            return str(inside(Path(self.root), Path(self.root, key)))
        return f"{self.root}/{key}"

    def location(self, key: str) -> str:
        """Where a key lives, for messages: a file path, or the store's URL."""
        path = self.path(key)
        return path if self.local else str(self.fs.unstrip_protocol(path))

    def read(self, key: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(self.path(key)))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def write(self, key: str, data: bytes) -> None:
        """Publish the whole value at once: temp file and rename on a disk, one PUT on an object store."""
        if self.local:
            write_bytes(Path(self.path(key)), data)
        else:
            self.fs.pipe_file(self.path(key), data)

    def exists(self, key: str) -> bool:
        return bool(self.fs.isfile(self.path(key)))

    def delete(self, key: str) -> None:
        """Remove a key; a missing one is fine (another worker may have removed it first)."""
        with suppress(FileNotFoundError):
            self.fs.rm_file(self.path(key))

    def glob(self, pattern: str) -> list[Listed]:
        """Files matching a pattern of keys (`*` within one level), sorted by key."""
        try:
            found = self.fs.glob(self.path(pattern), detail=True)
        except FileNotFoundError:
            return []
        prefix = self.root.rstrip("/") + "/"
        listed = [
            Listed(key=str(name)[len(prefix) :])
            for name, info in found.items()
            if info.get("type") == "file" and str(name).startswith(prefix)
        ]
        return sorted(listed, key=lambda item: item.key)

    def put_file(self, local: Path, key: str) -> None:
        """Upload a finished local file (S3 shows it only once the upload completes)."""
        self.fs.put_file(str(local), self.path(key))

    def get_file(self, key: str, local: Path) -> None:
        """Download to `local` through a temporary name, so a cut-off fetch never looks finished."""
        with atomic_path(local) as tmp:
            self.fs.get_file(self.path(key), str(tmp))

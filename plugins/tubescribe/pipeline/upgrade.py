"""Upgrade a home and catalog made before video ids were namespaced by their source (issue 11, item 4).

Before, a generic feed item's id was its <guid> cleaned and cut to 60 characters, so items of
different feeds, or guids differing only in punctuation or past 60 characters, shared one id. Now
an item's id is its feed's namespace plus its guid, one-to-one (discover.video_id). The stored
records keep everything needed to recompute it: `channel_url`, and the item URL that carries the
guid yt-dlp smuggled into it. Items that had already collided were stored once; the next run of
their feed finds the lost ones as new videos.

Each step can be interrupted and run again: a video's new records are written before its old
ones are deleted, and its old `video.json` goes last, so a rerun finds what is left to move.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING

from pydantic import ValidationError

from tubescribe.records import VIDEO_ID_RE, Video
from tubescribe.settings import Settings
from tubescribe.stages.discover import feed_namespace, video_id
from tubescribe.store import Store

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

RENAME_SQL = "upgrade/rename_video_ids"


def new_id(video: Video) -> str:
    """The id today's discover gives the stored video."""
    if video.video_id.startswith(feed_namespace(video.channel_url) + "-"):
        # Already namespaced: written by today's discover, whose stored URL no longer carries the guid.
        return video.video_id
    return video_id({"url": video.url}, video.extractor, video.channel_url)


def id_mapping(settings: Settings) -> dict[str, str]:
    """Old id -> new id for every stored generic-feed video whose id the namespaced rule changes."""
    store = Store(settings)
    mapping: dict[str, str] = {}
    for listed in store.blobs.glob("work/*/video.json"):
        old = listed.key.split("/")[1]
        data = store.blobs.read(listed.key)
        if data is None or not VIDEO_ID_RE.fullmatch(old):
            continue
        try:
            video = Video.model_validate_json(data)
        except ValidationError:
            log.warning("skipping %s: not a video record this version can read", listed.key)
            continue
        if video.extractor != "generic" or video.video_id != old:
            continue  # YouTube and other extractors keep their ids; a renamed folder is already done
        renamed = new_id(video)
        if renamed != old:
            mapping[old] = renamed
    return mapping


def upgrade_home(settings: Settings) -> dict[str, str]:
    """Rename the stored generic-feed videos' artifact folders, records and media; return the mapping."""
    store = Store(settings)
    mapping = id_mapping(settings)
    for old, new in sorted(mapping.items()):
        _move_media(store, old, new)
        _move_records(store, old, new)
        log.info("renamed video %s to %s", old, new)
    return mapping


def rename_in_catalog(con: duckdb.DuckDBPyConnection, mapping: dict[str, str]) -> None:
    """Rename video ids (and the summary ids built from them) in every catalog table; one transaction."""
    from tubescribe.catalog.sql import run_sql, transaction

    with transaction(con):
        for old, new in sorted(mapping.items()):
            run_sql(con, RENAME_SQL, {"old": old, "new": new})


def _move_records(store: Store, old: str, new: str) -> None:
    prefix = f"work/{old}/"
    keys = sorted(item.key for item in store.blobs.glob(f"{prefix}**") if store.blobs.exists(item.key))
    last = f"{prefix}video.json"
    for key in [k for k in keys if k != last] + ([last] if last in keys else []):
        target = f"work/{new}/{key.removeprefix(prefix)}"
        data = store.blobs.read(key)
        if data is None:
            continue
        # A newer run may have written this record under the new id already: it wins.
        if not store.blobs.exists(target):
            store.blobs.write(target, _renamed(data, key, old, new))
        store.blobs.delete(key)
    if store.blobs.local:  # an object store has no folders to leave behind
        for folder in sorted((store.work_dir / old).glob("**/"), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()


def _renamed(data: bytes, key: str, old: str, new: str) -> bytes:
    if not key.endswith(".json"):
        return data
    record = json.loads(data)
    if isinstance(record, dict) and record.get("video_id") == old:
        record["video_id"] = new
        # Records are written with indent=1 (Store._write); the same bytes a fresh save would give.
        return json.dumps(record, indent=1, ensure_ascii=False).encode("utf-8")
    return data


def _move_media(store: Store, old: str, new: str) -> None:
    for item in store.blobs.glob(f"media/{old}.*"):
        name = item.key.removeprefix("media/")
        target = f"media/{new}{name[len(old) :]}"
        if store.blobs.local:
            os.replace(store.blobs.path(item.key), store.blobs.path(target))
        else:
            local = store.scratch / "upgrade" / name
            store.blobs.get_file(item.key, local)
            store.blobs.put_file(local, target)
            local.unlink()
            store.blobs.delete(item.key)


UPGRADED_MARKER = "upgrades/namespaced-video-ids.done"


def upgrade_ids_once(settings: Settings) -> dict[str, str]:
    """Move a home and catalog from before namespaced ids to today's, once; return what was renamed.

    Runs before any discover (which would otherwise list every stored feed video as new under its new
    id). The catalog is renamed first, in one transaction, then the artifacts: after a crash between the
    two, the next run finds the artifacts still to move and renames nothing twice in the catalog.
    A marker in the store makes every later call one read.
    """
    from tubescribe.catalog.connection import catalog_exists, writer

    store = Store(settings)
    if store.blobs.exists(UPGRADED_MARKER):
        return {}
    mapping = id_mapping(settings)
    if mapping and catalog_exists(settings):
        with writer(settings) as con:
            rename_in_catalog(con, mapping)
    renamed = upgrade_home(settings)
    store.blobs.write(UPGRADED_MARKER, b"ok\n")
    return renamed

"""Untrusted text made safe to store and print (control characters removed), and DuckDB values as plain JSON."""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

# C0 and C1 control characters (and DEL), except tab and newline: they can rewrite a terminal (ANSI/OSC).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(s: str) -> str:
    """`s` without C0/C1 control characters other than tab and newline."""
    return _CONTROL.sub("", s)


def usd(amount: float) -> str:
    """Money as people read it: cents, and a cheap run's fractions of a cent rather than "0.00 USD"."""
    return f"{amount:.2f} USD" if amount == 0 or abs(amount) >= 0.01 else f"{amount:.4f} USD"


def json_value(value: Any, type_name: str = "") -> Any:
    """A DuckDB value as plain JSON data: the one rule for `query` and `export`.

    Numbers stay numbers (NaN and infinities become null, which JSON lacks), DECIMAL becomes a float,
    dates and times ISO 8601, INTERVAL an ISO 8601 duration (P<days>DT<seconds>S), UUID a string,
    BLOB `{"$base64": true, "encoded": ...}` (as sqlite-utils writes it), MAP keys strings, and a
    JSON column (type_name "JSON") the object it holds.
    """
    if value is None:
        return None
    if type_name == "JSON" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, timedelta):
        seconds = value.seconds + value.microseconds / 1e6
        return f"P{value.days}DT{seconds:g}S"
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$base64": True, "encoded": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(json_value(k)): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return str(value)


def csv_value(value: Any, type_name: str = "") -> Any:
    """A DuckDB value as one CSV field: nested values (and JSON columns) as JSON text."""
    if type_name == "JSON" and isinstance(value, str):
        return value
    plain = json_value(value, type_name)
    if isinstance(plain, (list, dict)):
        return json.dumps(plain, ensure_ascii=False)
    return plain


def clock(seconds: float | None) -> str:
    """A moment in a video as people read it: m:ss, or h:mm:ss from an hour on ("?" when unknown).

    The one format for every place a second is shown: the terminal, Markdown exports, search hits
    and the time ranges the summarizer's prompt gives the model."""
    if seconds is None:
        return "?"
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# yt-dlp smuggles data for its own extractors into a URL's fragment (yt_dlp.utils.smuggle_url); feed
# items come with their <guid> smuggled into the item URL this way.
SMUGGLED = "#__youtubedl_smuggle"


def public_url(url: str) -> str:
    """`url` as users open it: without the fragment yt-dlp smuggles its own data in.

    Discover reads the <guid> from the listing before this; nothing downstream (the download, the
    catalog, exports, links) needs it, and a video stored before that rule still has it until loaded.
    """
    return url.split(SMUGGLED, 1)[0]

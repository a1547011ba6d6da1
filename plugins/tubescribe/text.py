"""Untrusted text made safe to store and print: control characters removed."""

from __future__ import annotations

import re

# C0 and C1 control characters (and DEL), except tab and newline: they can rewrite a terminal (ANSI/OSC).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_text(s: str) -> str:
    """`s` without C0/C1 control characters other than tab and newline."""
    return _CONTROL.sub("", s)

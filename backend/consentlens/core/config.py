"""The one settings object. Nothing else in ConsentLens reads the environment."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Locale = Literal["nl", "fr", "en"]
LOCALES: tuple[Locale, ...] = ("nl", "fr", "en")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSENTLENS_", env_file=None, extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    var_dir: Path = Path("var")
    # Empty means: an SQLite file under var_dir.
    database_url: str = ""
    # Empty means: var_dir / "media".
    media_dir: Path | None = None
    # Where stored files (photos, renderings, scans, logos) are kept: under media_dir ("local")
    # or in an S3-compatible bucket ("s3"), for several web replicas or workers on other
    # machines. With s3, media_dir still holds the local files in flight (uploads, decoding).
    storage: Literal["local", "s3"] = "local"
    s3_bucket: str = ""
    # Empty means AWS S3 itself; e.g. https://s3.eu-central-1.example.com for another provider.
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key: str = Field(default="", repr=False)
    s3_secret_key: str = Field(default="", repr=False)
    # Keys start with this (e.g. "consentlens/"), so one bucket can hold more than ConsentLens.
    s3_prefix: str = ""
    # Ask for encryption at rest (ServerSideEncryption=AES256) on every object written.
    s3_server_side_encryption: bool = False
    # Empty means: generated once and kept in var_dir / "secret_key" (refused in production).
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    default_locale: Locale = "nl"
    # Login throttling, counted over the window. Failures lock the pair of account and address
    # first, so that a stranger's guesses cannot lock the owner out from their own address; an
    # address guessing at many accounts is stopped by the per-address limit, and a guess spread
    # over many addresses by the much higher per-account ceiling.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=20, ge=1)
    login_max_failures_per_account: int = Field(default=100, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    api_token_minutes: int = Field(default=60, ge=1)
    session_days: int = Field(default=14, ge=1)
    # Personal consent links (invitations, reminders, printed forms) stay valid this long.
    link_days: int = Field(default=30, ge=1, le=366)
    # Paper consent scans kept as evidence.
    evidence_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Event photos: the largest file accepted per upload.
    photo_max_bytes: int = Field(default=40 * 1024 * 1024, ge=1024)
    # ... and the most pixels (width × height), read from the header before anything is decoded:
    # a small file can unpack to gigabytes. 64 MP takes 61 MP cameras and 48 MP phones.
    photo_max_pixels: int = Field(default=64_000_000, ge=1_000_000)
    # The photo worker: run it inside the web process (the embedded default), and how many
    # analysis processes it uses (0 = one per CPU core).
    run_worker: bool = True
    worker_processes: int = Field(default=0, ge=0, le=64)
    # Which engine carries background work: the embedded worker above (the default, any
    # database), or procrastinate on PostgreSQL, shared by any number of `consentlens worker`s.
    jobs: Literal["embedded", "procrastinate"] = "embedded"
    # procrastinate: a worker that sends no heartbeat for `job_stalled_seconds` is taken for
    # dead and its jobs run again elsewhere; the upkeep (stalled jobs, work without a job)
    # runs every `job_upkeep_seconds`.
    job_heartbeat_seconds: float = Field(default=10.0, gt=0, le=600)
    job_stalled_seconds: float = Field(default=30.0, gt=0, le=3600)
    job_upkeep_seconds: int = Field(default=15, ge=1, le=59)
    # Which face detector finds the faces: CenterFace (the default: finds profile and edge-cut
    # faces HOG misses, and is faster) or dlib's HOG (the earlier engine, kept as a setting).
    face_detector: Literal["centerface", "hog"] = "centerface"
    # Images one user may fetch per minute (thumbnails included): stops bulk scraping.
    image_requests_per_minute: int = Field(default=600, ge=10)
    # Embeddings of faces nobody identified are deleted after this many days (or at review).
    unidentified_embedding_days: int = Field(default=30, ge=1)
    # E-mail: with no SMTP host, messages are written as .eml files to var_dir/outbox.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_timeout_seconds: float = 20.0
    mail_from: str = "ConsentLens <no-reply@consentlens.invalid>"
    # Backups (`consentlens backup`): sealed with this passphrase (required: there is no
    # unencrypted backup), written to backup_dir (empty means var_dir / "backups").
    backup_passphrase: str = Field(default="", repr=False)
    backup_dir: Path | None = None
    # With a passphrase set, the worker makes a backup this often (0: only by command) and
    # keeps the newest backup_keep of them.
    backup_every_hours: int = Field(default=24, ge=0, le=24 * 31)
    backup_keep: int = Field(default=7, ge=1, le=1000)

    @model_validator(mode="after")
    def _production_needs_a_secret(self) -> Settings:
        if self.env == "production" and len(self.secret_key) < 32:
            raise ValueError(
                "CONSENTLENS_SECRET_KEY must be set to a random value of at least 32 characters "
                "when CONSENTLENS_ENV=production"
            )
        return self

    @model_validator(mode="after")
    def _procrastinate_needs_postgresql(self) -> Settings:
        if self.jobs == "procrastinate" and not self.resolved_database_url.startswith("postgresql"):
            raise ValueError(
                "CONSENTLENS_JOBS=procrastinate keeps its queue in PostgreSQL: set "
                "CONSENTLENS_DATABASE_URL to a postgresql+psycopg:// database"
            )
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket_and_keys(self) -> Settings:
        # Keys are never looked for elsewhere (~/.aws, the machine's role): refused at start.
        missing = [
            f"CONSENTLENS_{name.upper()}"
            for name in ("s3_bucket", "s3_access_key", "s3_secret_key")
            if not getattr(self, name)
        ]
        if self.storage == "s3" and missing:
            raise ValueError(
                f"CONSENTLENS_STORAGE=s3 needs {', '.join(missing)} to be set (the bucket and "
                "the access key and secret key of an account that may read and write it)"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'consentlens.db').resolve()}"

    @property
    def resolved_backup_dir(self) -> Path:
        return (self.backup_dir or self.var_dir / "backups").resolve()

    @property
    def resolved_media_dir(self) -> Path:
        return (self.media_dir or self.var_dir / "media").resolve()

    @property
    def outbox_dir(self) -> Path:
        return (self.var_dir / "outbox").resolve()

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        return _stored_secret(self.var_dir / "secret_key")


def _stored_secret(path: Path) -> str:
    """Read the generated secret, creating it (readable by the owner only) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, one writes and both read the same value.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()

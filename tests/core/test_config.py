from __future__ import annotations

import stat

import pytest
from pydantic import ValidationError

from consentlens.core.config import Settings


def test_production_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(ValidationError, match="CONSENTLENS_SECRET_KEY"):
        Settings(env="production", var_dir=tmp_path)


def test_production_refuses_a_short_secret(tmp_path):
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", var_dir=tmp_path, secret_key="too-short")


def test_production_accepts_an_explicit_secret(tmp_path):
    settings = Settings(env="production", var_dir=tmp_path, secret_key="x" * 40)
    assert settings.resolved_secret_key == "x" * 40
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_the_secret_once_and_keeps_it_private(tmp_path):
    first = Settings(var_dir=tmp_path).resolved_secret_key
    second = Settings(var_dir=tmp_path).resolved_secret_key
    assert first == second and len(first) >= 48
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_defaults_live_under_var(tmp_path):
    settings = Settings(var_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'consentlens.db').resolve()}"
    assert settings.resolved_media_dir == (tmp_path / "media").resolve()
    assert settings.default_locale == "nl"


def test_environment_variables_use_the_prefix(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSENTLENS_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("CONSENTLENS_DEFAULT_LOCALE", "fr")
    settings = Settings(var_dir=tmp_path)
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"
    assert settings.default_locale == "fr"


def test_an_unsupported_locale_is_rejected(tmp_path):
    with pytest.raises(ValidationError):
        Settings(var_dir=tmp_path, default_locale="de")


def test_object_storage_refuses_to_start_without_its_bucket_and_keys(tmp_path):
    with pytest.raises(ValidationError) as refused:
        Settings(env="production", var_dir=tmp_path, secret_key="x" * 40, storage="s3")
    message = str(refused.value)
    for name in ("CONSENTLENS_S3_BUCKET", "CONSENTLENS_S3_ACCESS_KEY", "CONSENTLENS_S3_SECRET_KEY"):
        assert name in message
    with pytest.raises(ValidationError, match="CONSENTLENS_S3_SECRET_KEY"):
        Settings(var_dir=tmp_path, storage="s3", s3_bucket="photos", s3_access_key="key")
    settings = Settings(
        env="production",
        var_dir=tmp_path,
        secret_key="x" * 40,
        storage="s3",
        s3_bucket="photos",
        s3_access_key="key",
        s3_secret_key="s3-secret-value",
    )
    assert settings.s3_region == "us-east-1" and settings.s3_prefix == ""
    assert settings.s3_server_side_encryption is False
    assert "s3-secret-value" not in repr(settings)


def test_the_local_store_is_the_default(tmp_path):
    assert Settings(var_dir=tmp_path).storage == "local"

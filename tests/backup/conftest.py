"""Fixtures of the backup tests."""

from __future__ import annotations

import pytest

from consentlens.core.config import get_settings


@pytest.fixture
def media_at(monkeypatch):
    """Point the stored files of this process at an installation's media folder."""

    def point(installation) -> None:
        monkeypatch.setenv("CONSENTLENS_MEDIA_DIR", str(installation.media))
        get_settings.cache_clear()

    yield point
    monkeypatch.undo()
    get_settings.cache_clear()

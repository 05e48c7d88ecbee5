"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives; `inbox` is a fixture
for every test (registered in tests/conftest.py)."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from consentlens.core.config import get_settings


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def body(message: EmailMessage) -> str:
        return message.get_body(("plain",)).get_content()

    @classmethod
    def link_path(cls, message: EmailMessage, prefix: str = "/c/") -> str:
        """The path of the first link in the message that starts with `prefix`."""
        pattern = r"https?://[^/\s]+(" + re.escape(prefix) + r"[A-Za-z0-9._-]+)"
        match = re.search(pattern, cls.body(message))
        assert match, cls.body(message)
        return match.group(1)


@pytest.fixture
def inbox(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)
    monkeypatch.setattr(settings, "mail_from", "Sportclub <club@example.test>")
    try:
        yield handler
    finally:
        controller.stop()

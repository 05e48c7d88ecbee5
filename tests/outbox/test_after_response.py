"""The embedded engine mails after the response is sent: a mail server that hangs holds no page,
and the time a page takes does not tell whether an address has an account."""

from __future__ import annotations

import socket
import threading
import time

import anyio
from sqlmodel import select

from consentlens.auth.models import Role
from consentlens.core.config import get_settings
from consentlens.outbox.models import OutgoingMail
from tests import factories
from tests.conftest import csrf_from


class HangingMailServer:
    """Accepts connections and never says a word (a mail server that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self) -> None:
        for connection in self.held:
            connection.close()
        self.sock.close()


def timed_post(app, path: str, body: bytes, cookie: str) -> tuple[int, float, float]:
    """POST through the ASGI app itself: (status, seconds until the response's last byte was
    handed to the server, seconds until the app returned)."""
    start = time.monotonic()
    sent: dict[str, float] = {}
    status = 0

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        if message["type"] == "http.response.body" and not message.get("more_body"):
            sent["at"] = time.monotonic() - start

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", cookie.encode()),
            (b"accept", b"text/html"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    anyio.run(app, scope, receive, send)
    return status, sent["at"], time.monotonic() - start


def test_a_hanging_mail_server_holds_no_page_and_tells_nothing(app, client, db, monkeypatch):
    from urllib.parse import urlencode

    org = factories.organisation(db)
    parent = factories.user(db, org, Role.GUARDIAN)
    db.commit()
    server = HangingMailServer()
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", server.port)
    monkeypatch.setattr(settings, "smtp_timeout_seconds", 3)
    try:
        page = client.get("/password/forgot")
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        timings = {}
        for address in ("nobody.here@example.test", parent.email):
            body = urlencode({"csrf_token": csrf_from(page.text), "email": address}).encode()
            status, answered, finished = timed_post(app, "/password/forgot", body, cookie)
            assert status == 200
            timings[address] = (answered, finished)
    finally:
        server.close()
    unknown, known = timings["nobody.here@example.test"], timings[parent.email]
    # The known address's mail waited for the mail server (~3 s) after the page had gone.
    assert known[1] >= 2.5
    assert known[0] < 1.5 and unknown[0] < 1.5
    [row] = db.exec(select(OutgoingMail).where(OutgoingMail.recipient == parent.email)).all()
    db.refresh(row)
    assert row.sent_at is None and row.attempts == 1  # tried, failed, to be retried

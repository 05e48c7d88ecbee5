"""Builds the FastAPI application: middleware and static files; `wiring` adds the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentlens import __version__, wiring
from consentlens.core import limits
from consentlens.core.after_response import RunAfterResponse
from consentlens.core.config import Settings, get_settings
from consentlens.core.db import writer_session
from consentlens.core.files import secure_storage
from consentlens.core.templating import STATIC_DIR
from consentlens.forms import logo
from consentlens.jobs import distributed, worker
from consentlens.people import importer

SESSION_COOKIE = "consentlens_session"

# Request bodies: every route not named here accepts an ordinary form (DEFAULT_BODY). Uploads get
# room for their one file; the photo routes for one photo per request (the upload page sends
# each file on its own). Limits from the settings are read per request.
DEFAULT_BODY = limits.fixed(max_bytes=64 * limits.KIB)
_SIGN_IN = limits.fixed(max_bytes=8 * limits.KIB)
_LONG_FORM = limits.fixed(max_bytes=256 * limits.KIB)
_PHOTO = limits.upload(lambda: get_settings().photo_max_bytes)
BODY_LIMITS: dict[str, limits.BodyLimit] = {
    # Anyone can reach these: a few fields each.
    "/login": _SIGN_IN,
    "/code": _SIGN_IN,
    "/api/v1/auth/token": _SIGN_IN,
    # A checkbox per photo or face.
    "/staff/publish": _LONG_FORM,
    "/staff/events/{event_id}/review": _LONG_FORM,
    "/staff/events/{event_id}/photos": _PHOTO,
    "/api/v1/events/{event_id}/photos": _PHOTO,
    "/staff/children/{child_id}/reference-photos": _PHOTO,
    "/api/v1/children/{child_id}/reference-photos": _PHOTO,
    "/staff/children/{child_id}/paper": limits.upload(lambda: get_settings().evidence_max_bytes),
    "/staff/settings/forms": limits.upload(lambda: logo.MAX_BYTES),
    "/staff/import/preview": limits.upload(lambda: importer.MAX_BYTES),
}
# Form parsing: one file per form unless a route says otherwise (the photo uploads), and no text
# field larger than an ordinary form.

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    ),
]


_NO_STORE = (b"cache-control", b"no-store")
_SERVER_ERROR_PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ConsentLens</title>'
    b"</head><body><h1>Something went wrong</h1><p>The error has been logged. Go back and try "
    b"again in a moment.</p></body></html>"
)


class SecurityHeaders:
    """Adds browser hardening headers to every response, an unhandled-exception 500 included.

    Pages and API answers hold personal data: unless a route chose its own Cache-Control, they are
    sent `no-store`, so no shared computer keeps a copy. Static files stay cacheable.
    """

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = list(_SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = _path(scope).startswith("/static/")
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                if not static and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append(_NO_STORE)
                message["headers"] = headers + self.headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's ServerErrorMiddleware sits outside every user middleware, so its 500
            # would carry none of the headers: answer here. No template (rendering may be what
            # failed), no details. Re-raised: the server logs the traceback as before, and
            # ServerErrorMiddleware sends nothing more once a response has started.
            if not started:
                await _server_error(scope, send_with_headers)
            raise


def _path(scope: Scope) -> str:
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def _server_error(scope: Scope, send: Send) -> None:
    if _path(scope).startswith("/api/"):
        body, media = b'{"detail":"Internal Server Error"}', b"application/json"
    else:
        body, media = _SERVER_ERROR_PAGE, b"text/html; charset=utf-8"
    headers = [(b"content-type", media), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.run_worker and settings.jobs == "embedded":
        # The embedded default: photos are analysed by a process pool owned by this process.
        worker.start_embedded(make_session=writer_session, queue=wiring.photo_queue())
    try:
        yield
    finally:
        worker.stop_embedded()
        distributed.close_sender()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Owner-only files from here on (database, scans, imports, e-mails with sign-in links).
    secure_storage(settings)
    app = FastAPI(
        lifespan=_lifespan,
        title="ConsentLens",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        form_limits={"max_files": 1, "max_fields": 1000, "max_part_size": 64 * limits.KIB},
    )
    # Inside the session middleware: the 413 page needs the session (its CSRF token).
    app.add_middleware(limits.BodyLimitMiddleware, limits=BODY_LIMITS, default=DEFAULT_BODY)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_days * 24 * 3600,
        same_site="lax",
        https_only=settings.is_production,
    )
    app.add_middleware(SecurityHeaders, hsts=settings.is_production)
    # Outermost: what a request defers (its e-mail) runs once the whole response is sent.
    app.add_middleware(RunAfterResponse)
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # Guards on the logs, consent listeners, template globals, error handlers, routers.
    wiring.install_app(app)
    return app

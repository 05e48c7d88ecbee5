"""Request bodies bounded while they stream in: each route's declared limit, or a small default.

The limit is enforced below FastAPI, before any form parser buffers or spools a byte: a declared
Content-Length over the limit is refused without reading the body, and a body without one
(chunked) is counted as it arrives and refused the moment it passes the limit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentlens.core.i18n import N_, get_translations
from consentlens.core.templating import render, request_locale

KIB = 1024
MIB = 1024 * KIB
# Boundaries, part headers and the form's other fields around an uploaded file.
MULTIPART_OVERHEAD = 64 * KIB

FORM_TOO_LARGE = N_("The form sent more data than this page accepts (at most {limit}).")
UPLOAD_TOO_LARGE = N_(
    "The upload is too large: at most {limit} can be sent at once. Send fewer or smaller files."
)


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """How many bytes one request to a route may carry, and what to say to someone who sends more.

    `max_bytes` is called per request, so limits that come from the settings follow them.
    """

    max_bytes: Callable[[], int]
    message: str = FORM_TOO_LARGE


def fixed(*, max_bytes: int, message: str = FORM_TOO_LARGE) -> BodyLimit:
    return BodyLimit(lambda: max_bytes, message)


def upload(file_bytes: Callable[[], int]) -> BodyLimit:
    """Room for one file of at most `file_bytes()` bytes, with its multipart wrapping."""
    return BodyLimit(lambda: file_bytes() + MULTIPART_OVERHEAD, UPLOAD_TOO_LARGE)


class BodyTooLarge(HTTPException):
    """A request body beyond its route's limit (413). FastAPI passes HTTPExceptions raised while
    it reads the body through unchanged, so this reaches its handler and not a generic 400."""

    def __init__(self, limit: int, message: str) -> None:
        super().__init__(status_code=413, detail=message.format(limit=human_size(limit)))
        self.limit = limit
        self.message = message


def human_size(size: int) -> str:
    if size >= MIB:
        return f"{size // MIB} MB"
    return f"{max(1, size // KIB)} KB"


def _wants_json(request: Request) -> bool:
    # The API, and the pages' own scripts (the upload page asks for JSON), get JSON.
    accept = request.headers.get("accept", "")
    return request.url.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


async def body_too_large(request: Request, exc: Exception) -> Response:
    """The 413 answer: a page for people, JSON for the API and scripts, in the reader's language."""
    assert isinstance(exc, BodyTooLarge)
    text = (
        get_translations(request_locale(request))
        .gettext(exc.message)
        .format(limit=human_size(exc.limit))
    )
    # The body was not read to its end: the connection cannot carry another request.
    headers = {"Connection": "close"}
    if _wants_json(request):
        return JSONResponse({"detail": text}, status_code=413, headers=headers)
    return render(
        request,
        "error.html",
        status_code=413,
        headers=headers,
        title=N_("Too much data"),
        message=text,
    )


class BodyLimitMiddleware:
    """Pure ASGI: refuses bodies beyond the route's limit before the application reads them.

    `limits` maps route paths as declared (`/staff/events/{event_id}/photos`) to their limit;
    every other path gets `default`.
    """

    def __init__(
        self, app: ASGIApp, *, limits: Mapping[str, BodyLimit], default: BodyLimit
    ) -> None:
        self.app = app
        self.default = default
        self.limits: list[tuple[re.Pattern[str], BodyLimit]] = [
            (compile_path(path)[0], limit) for path, limit in limits.items()
        ]

    def limit_for(self, path: str) -> BodyLimit:
        for pattern, limit in self.limits:
            if pattern.match(path):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        limit = self.limit_for(path)
        max_bytes = limit.max_bytes()
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            # Refused on the header alone: not one byte of the body is read.
            response = await body_too_large(Request(scope), BodyTooLarge(max_bytes, limit.message))
            await response(scope, receive, send)
            return
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            if received > max_bytes:
                raise BodyTooLarge(max_bytes, limit.message)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes, limit.message)
            return message

        await self.app(scope, bounded_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None

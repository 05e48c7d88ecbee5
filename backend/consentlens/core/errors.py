"""Errors as pages for people and as JSON for the API."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from consentlens.auth.deps import LinkSessionLimited, LoginRequired
from consentlens.consent.answerer import LinkNoLongerValid
from consentlens.core.i18n import N_
from consentlens.core.templating import render

_TITLES = {
    400: N_("Something in the form is not right"),
    403: N_("No access"),
    404: N_("Page not found"),
    405: N_("Not allowed"),
    429: N_("Too many requests"),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target only if it stays on this site (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


async def _login_required(request: Request, _exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse(
            {"detail": "Not authenticated"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(safe_next(target))}", status_code=303)


async def _link_no_longer_valid(request: Request, _exc: Exception) -> Response:
    # The server already refuses the session; the browser forgets it too.
    request.session.clear()
    return render(
        request,
        "consent/link_problem.html",
        status_code=410,
        message=N_("This link is no longer valid. Ask the club for a new one."),
    )


async def _link_session_limited(request: Request, _exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)
    return render(
        request,
        "auth/link_limited.html",
        status_code=403,
        next=safe_next(request.url.path),
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _wants_json(request):
        return await http_exception_handler(request, exc)
    return render(
        request,
        "error.html",
        status_code=exc.status_code,
        headers=exc.headers,
        title=_TITLES.get(exc.status_code, N_("Something went wrong")),
        message=exc.detail if exc.status_code < 500 else "",
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _wants_json(request):
        return await request_validation_exception_handler(request, exc)
    return render(
        request,
        "error.html",
        status_code=400,
        title=_TITLES[400],
        message=N_("A required field is missing or has a wrong value. Go back and try again."),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(LinkNoLongerValid, _link_no_longer_valid)
    app.add_exception_handler(LinkSessionLimited, _link_session_limited)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

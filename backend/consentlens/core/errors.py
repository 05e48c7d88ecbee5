"""Errors as pages for people and as JSON for the API: the generic handlers.

A domain's own exceptions are answered by its own handlers (`auth.errors`, `consent.errors`),
installed by `consentlens.wiring`; this module knows no domain.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg import errors as pg_errors
from sqlalchemy.exc import DataError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from consentlens.core import text
from consentlens.core.i18n import N_, get_translations
from consentlens.core.storage import StorageUnavailable
from consentlens.core.templating import render, request_locale

_TITLES = {
    400: N_("Something in the form is not right"),
    403: N_("No access"),
    404: N_("Page not found"),
    405: N_("Not allowed"),
    429: N_("Too many requests"),
}


def wants_json(request: Request) -> bool:
    """Whether to answer in JSON (the API, the health check) rather than with a page."""
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


def safe_next(*, target: str | None, default: str = "/") -> str:
    """A redirect target only if it stays on this site (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if wants_json(request):
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
    if wants_json(request):
        return await request_validation_exception_handler(request, exc)
    errors = exc.errors()
    if errors and all(error.get("loc", ("",))[0] == "path" for error in errors):
        # An address naming no possible page (/staff/children/abc, a 30-digit id): not a form.
        return render(request, "error.html", status_code=404, title=_TITLES[404], message="")
    return render(
        request,
        "error.html",
        status_code=400,
        title=_TITLES[400],
        message=N_("A required field is missing or has a wrong value. Go back and try again."),
    )


_log = logging.getLogger(__name__)
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _is_number_out_of_range(exc: Exception) -> bool:
    # SQLite's driver refuses an int beyond 64 bits when binding it; PostgreSQL one beyond the
    # column's type (ids are 32-bit INTEGER there). Other OverflowErrors and DataErrors are bugs.
    if isinstance(exc, OverflowError):
        return "SQLite INTEGER" in str(exc)
    return isinstance(exc, DataError) and isinstance(exc.orig, pg_errors.NumericValueOutOfRange)


async def _number_out_of_range(request: Request, exc: Exception) -> Response:
    """Safety net behind `core.ids.Id`: a number the database cannot hold names no row.

    Ids are validated where requests are parsed; this answers 404 instead of 500 for one that a
    route forgot to type, and logs it so the route gets fixed.
    """
    if not _is_number_out_of_range(exc):
        raise exc
    _log.warning(
        "%s %s: a number out of the database's range: %s", request.method, request.url.path, exc
    )
    detail = "Not found." if wants_json(request) else N_("Page not found")
    return await _http_error(request, StarletteHTTPException(404, detail))


def _is_nul(exc: Exception) -> bool:
    return isinstance(exc, text.TextRefused) or (
        isinstance(exc, DataError) and "NUL" in str(exc.orig)
    )


async def _database_refusal(request: Request, exc: Exception) -> Response:
    """A value the database refuses: an impossible id (404) or text with a NUL (400/422)."""
    if _is_nul(exc):
        _log.info("%s %s: text with a NUL character refused", request.method, request.url.path)
        if wants_json(request):
            return await _unprocessable(request, HTTPException(422, text.MESSAGE))
        return await _http_error(request, StarletteHTTPException(400, text.MESSAGE))
    return await _number_out_of_range(request, exc)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with an `Allow` naming every method of the path, not only the first route's."""
    assert isinstance(exc, StarletteHTTPException)
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    headers = {**(exc.headers or {}), **({"Allow": ", ".join(allowed)} if allowed else {})}
    return await _http_error(request, StarletteHTTPException(405, exc.detail, headers=headers))


async def _unprocessable(request: Request, exc: Exception) -> Response:
    """An API 422 raised with a sentence still goes out as the documented list of problems."""
    assert isinstance(exc, StarletteHTTPException)
    if wants_json(request) and not isinstance(exc.detail, list):
        problem = {"loc": ["body"], "msg": str(exc.detail), "type": "value_error"}
        exc = HTTPException(422, [problem], headers=exc.headers)
    return await _http_error(request, exc)


STORAGE_DOWN = N_(
    "The stored photos and files cannot be reached right now, so this could not be done. "
    "Nothing was saved or changed: try again in a few minutes."
)


async def _storage_unavailable(request: Request, exc: Exception) -> Response:
    """503 when the store is down: the request's transaction was rolled back, nothing is lost."""
    assert isinstance(exc, StorageUnavailable)
    _log.error("%s %s: storage unavailable: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": "60"}
    accept = request.headers.get("accept", "")
    # The pages' own scripts (the upload page) ask for JSON, as the API does.
    if wants_json(request) or ("application/json" in accept and "text/html" not in accept):
        message = get_translations(request_locale(request)).gettext(STORAGE_DOWN)
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    return render(
        request,
        "error.html",
        status_code=503,
        headers=headers,
        title=N_("The stored files cannot be reached"),
        message=STORAGE_DOWN,
    )


BUSY = N_(
    "ConsentLens is too busy to answer right now, so this could not be done. Nothing was saved or "
    "changed: try again in a minute."
)


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    """503 when no database connection came free in time (every one held by requests waiting on
    a store that hangs, say): a refusal to retry, not a crash; nothing was committed."""
    _log.error("%s %s: no database connection free: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": "30"}
    if wants_json(request) or "text/html" not in request.headers.get("accept", ""):
        message = get_translations(request_locale(request)).gettext(BUSY)
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    return render(
        request,
        "error.html",
        status_code=503,
        headers=headers,
        title=N_("Too busy right now"),
        message=BUSY,
    )


def install_safety_nets(app: FastAPI) -> None:
    """Handlers that keep refusals clean and truthful: an impossible id becomes a 404, text with
    a NUL character a 400 (422 in the API), a 405 names all the methods its path has, an API 422
    has the documented shape however it was raised, a storage outage or a database connection
    pool with no free connection a 503 with a plain message."""
    app.add_exception_handler(StorageUnavailable, _storage_unavailable)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(OverflowError, _number_out_of_range)
    app.add_exception_handler(DataError, _database_refusal)
    app.add_exception_handler(text.TextRefused, _database_refusal)
    app.add_exception_handler(405, _method_not_allowed)
    app.add_exception_handler(422, _unprocessable)


def install(app: FastAPI) -> None:
    """The generic handlers: HTTP errors, validation errors and the safety nets."""
    install_safety_nets(app)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

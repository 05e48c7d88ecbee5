"""How the app answers a request that needs another sign-in: a page redirects, the API says 401."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from consentlens.auth.deps import LinkSessionLimited, LoginRequired
from consentlens.core.errors import safe_next, wants_json
from consentlens.core.templating import render


async def _login_required(request: Request, _exc: Exception) -> Response:
    if wants_json(request):
        return JSONResponse(
            {"detail": "Not authenticated"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(safe_next(target=target))}", status_code=303)


async def _link_session_limited(request: Request, _exc: Exception) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": "Not authenticated"}, status_code=401)
    return render(
        request,
        "auth/link_limited.html",
        status_code=403,
        next=safe_next(target=request.url.path),
    )


def install(app: FastAPI) -> None:
    """Answer auth's exceptions (called by `consentlens.wiring`)."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(LinkSessionLimited, _link_session_limited)

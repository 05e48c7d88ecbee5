"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from consentlens.audit.service import origin_of
from consentlens.auth import service
from consentlens.auth.deps import SESSION_USER_KEY, OptionalUser
from consentlens.core.db import SessionDep
from consentlens.core.errors import safe_next
from consentlens.core.i18n import N_
from consentlens.core.security import csrf_token, verify_csrf
from consentlens.core.templating import render

router = APIRouter(tags=["pages"])


@router.get("/login", include_in_schema=False)
def login_page(request: Request, principal: OptionalUser, next: str = "/") -> Response:
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", email="", next=safe_next(next))


@router.post("/login", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def login_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    target = safe_next(next)
    if not email.strip() or not password:
        return render(
            request,
            "auth/login.html",
            status_code=400,
            email=email,
            next=target,
            errors=[N_("Fill in your e-mail address and your password.")],
        )
    result = service.login(
        session=session, email=email, password=password, origin=origin_of(request)
    )
    if result.outcome is service.LoginOutcome.THROTTLED:
        return render(
            request,
            "auth/login.html",
            status_code=429,
            headers={"Retry-After": str(result.retry_after_seconds)},
            email=email,
            next=target,
            errors=[N_("Too many failed attempts. Try again in a few minutes.")],
        )
    if result.outcome is service.LoginOutcome.INVALID or result.user is None:
        return render(
            request,
            "auth/login.html",
            status_code=400,
            email=email,
            next=target,
            errors=[N_("That e-mail address and password do not match.")],
        )
    # A fresh session on sign-in: nothing from before (e.g. a planted cookie) carries over.
    request.session.clear()
    request.session[SESSION_USER_KEY] = result.user.id
    csrf_token(request)
    return RedirectResponse(target, status_code=303)


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)

"""Sign-in, sign-out and password pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from consentlens.audit.service import origin_of
from consentlens.auth import passwords, service
from consentlens.auth.deps import (
    SESSION_TOKEN_KEY,
    CurrentUser,
    OptionalUser,
    sign_in,
    sign_out,
)
from consentlens.core.config import LOCALES
from consentlens.core.db import SessionDep
from consentlens.core.errors import safe_next
from consentlens.core.i18n import N_
from consentlens.core.pages import see_other
from consentlens.core.security import MIN_PASSWORD_LENGTH, verify_csrf
from consentlens.core.tables import utcnow
from consentlens.core.templating import prefer_locale, remember_locale, render

router = APIRouter(tags=["pages"])


@router.get("/login", include_in_schema=False)
def login_page(request: Request, principal: OptionalUser, next: str = "/") -> Response:
    if principal is not None:
        return see_other(safe_next(target=next))
    return render(request, "auth/login.html", email="", next=safe_next(target=next))


def _login_refused(
    request: Request,
    email: str,
    target: str,
    status_code: int,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """The sign-in form again, with what was typed (not the password) and why it failed."""
    return render(
        request,
        "auth/login.html",
        status_code=status_code,
        headers=headers,
        email=email,
        next=target,
        errors=[message],
    )


@router.post("/login", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def login_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form()] = "/",
    shown_locale: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    target = safe_next(target=next)
    if shown_locale in LOCALES:
        # The refusal pages stay in the language the form was read in.
        request.state.locale = shown_locale
    if not email.strip() or not password:
        return _login_refused(
            request, email, target, 400, N_("Fill in your e-mail address and your password.")
        )
    result = service.login(
        session=session, email=email, password=password, origin=origin_of(request)
    )
    if result.outcome is service.LoginOutcome.THROTTLED:
        return _login_refused(
            request,
            email,
            target,
            429,
            N_("Too many failed attempts. Try again in a few minutes."),
            headers={"Retry-After": str(result.retry_after_seconds)},
        )
    if result.outcome is service.LoginOutcome.INVALID or result.user is None:
        return _login_refused(
            request, email, target, 400, N_("That e-mail address and password do not match.")
        )
    # A fresh session on sign-in: nothing from before (e.g. a planted cookie, or a limited
    # session opened by a link) carries over.
    sign_in(request=request, session=session, now=utcnow(), user_id=result.user.id)
    response = see_other(target)
    if shown_locale in LOCALES:
        # The person read the sign-in page in this language: the pages after it stay in it
        # (the account's own language, else, would take over at once), and an account with
        # none yet gets it for its e-mails.
        remember_locale(response=response, locale=shown_locale)
        service.adopt_locale(session=session, user=result.user, locale=shown_locale)
    return response


@router.post("/logout", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def logout(request: Request, session: SessionDep) -> Response:
    sign_out(request=request, session=session, now=utcnow())
    return see_other("/login")


def _password_problems(password: str, repeat: str) -> list[str]:
    if len(password) < MIN_PASSWORD_LENGTH:
        return [N_("A password needs at least 10 characters.")]
    if password != repeat:
        return [N_("The two passwords are not the same.")]
    return []


def _password_page(
    request: Request,
    *,
    token: str | None,
    done: bool = False,
    status_code: int = 200,
    errors: list[str] | None = None,
) -> Response:
    """The password form: for the signed-in account (no token) or through a reset link."""
    return render(
        request,
        "auth/password.html",
        status_code=status_code,
        errors=errors or [],
        done=done,
        has_password=token is None,
        token=token,
    )


@router.get("/account/password", include_in_schema=False)
def password_form(request: Request, principal: CurrentUser) -> Response:
    return _password_page(request, token=None)


@router.post("/account/password", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def password_submit(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    repeat: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change the password of the signed-in account: only with the current one."""
    errors = []
    if not passwords.current_password_ok(user=principal.user, password=current_password):
        errors.append(N_("Your current password is not right."))
    errors += _password_problems(password, repeat)
    if errors:
        return _password_page(request, token=None, status_code=400, errors=errors)
    passwords.set_new_password(
        session=session,
        user=principal.user,
        password=password,
        now=utcnow(),
        origin=origin_of(request),
        keep_session_token=request.session.get(SESSION_TOKEN_KEY),
        how="changed",
    )
    return _password_page(request, token=None, done=True)


@router.get("/password/forgot", include_in_schema=False)
def forgot_form(request: Request) -> Response:
    return render(request, "auth/forgot.html", email="", sent=False)


@router.post("/password/forgot", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def forgot_submit(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    if not email.strip():
        return render(
            request,
            "auth/forgot.html",
            status_code=400,
            email=email,
            sent=False,
            errors=[N_("Fill in your e-mail address.")],
        )
    if not passwords.request_reset(
        session=session, email=email, now=utcnow(), origin=origin_of(request)
    ):
        return render(
            request,
            "auth/forgot.html",
            status_code=429,
            email=email,
            sent=False,
            errors=[N_("Too many requests. Try again in an hour.")],
        )
    return render(request, "auth/forgot.html", email=email, sent=True)


def _reset_link_problem(request: Request) -> Response:
    return render(
        request,
        "consent/link_problem.html",
        status_code=410,
        message=N_("This link has expired or was already used. Ask for a new one."),
    )


@router.get("/password/reset/{token}", include_in_schema=False)
def reset_form(request: Request, session: SessionDep, token: str) -> Response:
    user = passwords.user_for_reset(session=session, token=token)
    if user is None:
        return _reset_link_problem(request)
    prefer_locale(request=request, locale=user.locale)
    return _password_page(request, token=token)


@router.post(
    "/password/reset/{token}", include_in_schema=False, dependencies=[Depends(verify_csrf)]
)
def reset_submit(
    request: Request,
    session: SessionDep,
    token: str,
    password: Annotated[str, Form(max_length=1024)] = "",
    repeat: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Choose a password through a link sent to the account's own address."""
    user = passwords.user_for_reset(session=session, token=token)
    if user is None:
        return _reset_link_problem(request)
    prefer_locale(request=request, locale=user.locale)
    errors = _password_problems(password, repeat)
    if errors:
        return _password_page(request, token=token, status_code=400, errors=errors)
    passwords.set_new_password(
        session=session,
        user=user,
        password=password,
        now=utcnow(),
        origin=origin_of(request),
        how="reset_link",
    )
    # The link proves the address, not a sign-in: the person signs in with the new password.
    sign_out(request=request, session=session, now=utcnow())
    return _password_page(request, token=token, done=True)

"""What the staff pages for groups, children and guardians share.

Post/redirect/get throughout: a change answers 303 to a page that shows it (with a short notice
named in the query string), bad input re-renders the same form with what was typed and 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import Principal
from consentlens.core.pages import see_other
from consentlens.core.security import verify_csrf
from consentlens.people.errors import PeopleError
from consentlens.people.models import Child, Group

CSRF = [Depends(verify_csrf)]
Text = Annotated[str, Form()]


def form_errors(error: PeopleError | None) -> dict[str, Any]:
    """The status, messages and invalid fields of a form page, after `error` (if any)."""
    return {
        "status_code": 400 if error else 200,
        "errors": error.messages if error else [],
        "invalid": error.fields if error else set(),
    }


def archive_or_restore(
    *,
    request: Request,
    session: Session,
    principal: Principal,
    record: Child | Group,
    change: Callable[..., object],
) -> Response:
    """Archive or restore a child or group (the route's last segment says which) through its
    service `change`, then show its edit page with the notice (e.g. group_archived)."""
    archived = request.url.path.endswith("/archive")
    kind, folder = ("child", "children") if isinstance(record, Child) else ("group", "groups")
    change(
        session=session,
        organisation=principal.organisation,
        archived=archived,
        actor=principal.user,
        origin=origin_of(request),
        **{kind: record},
    )
    done = f"{kind}_{'archived' if archived else 'restored'}"
    return see_other(f"/staff/{folder}/{record.id}/edit?done={done}")

"""How the app answers a consent link that stopped being valid while it was in use."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from consentlens.consent.answerer import LinkNoLongerValid
from consentlens.core.i18n import N_
from consentlens.core.templating import render


async def _link_no_longer_valid(request: Request, _exc: Exception) -> Response:
    # The server already refuses the session; the browser forgets it too.
    request.session.clear()
    return render(
        request,
        "consent/link_problem.html",
        status_code=410,
        message=N_("This link is no longer valid. Ask the club for a new one."),
    )


def install(app: FastAPI) -> None:
    """Answer consent's exceptions (called by `consentlens.wiring`)."""
    app.add_exception_handler(LinkNoLongerValid, _link_no_longer_valid)

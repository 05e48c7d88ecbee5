"""Work a request leaves for after its response is sent (the embedded engine's e-mail).

An action deferred here runs once the whole response has gone to the client, in a worker
thread, so a slow mail server never holds the page; outside a request (the worker, the CLI),
`defer` says no and the caller runs the action itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

Action = Callable[[], None]
# Set per request by the middleware; the route's and dependencies' threads copy the context and
# so share the request's list.
_pending: ContextVar[list[Action] | None] = ContextVar("consentlens_after_response", default=None)


def defer(action: Action) -> bool:
    """Run `action` after this request's response; False when there is no request to wait for."""
    pending = _pending.get()
    if pending is None:
        return False
    pending.append(action)
    return True


class RunAfterResponse:
    """ASGI middleware: runs the request's deferred actions once its response is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        actions: list[Action] = []
        token = _pending.set(actions)
        try:
            await self.app(scope, receive, send)
        finally:
            _pending.reset(token)
            # Committed work's consequences run even when the response itself failed later.
            for action in actions:
                try:
                    await run_in_threadpool(action)
                except Exception:
                    log.exception("an action deferred until after the response failed")

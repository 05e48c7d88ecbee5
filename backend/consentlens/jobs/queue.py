"""The one way to ask for background work: `enqueue(...)`, sent once the transaction commits.

Which engine carries it is the deployment's choice (`CONSENTLENS_JOBS`): the embedded worker in
the web process (SQLite default; the work's own rows are its queue, so sending is a wake-up), or
procrastinate on PostgreSQL (`jobs.distributed`), which any number of workers on any machine
share. Either way the job leaves only after its work is committed: a job sent earlier could run
before its row exists, or for a row that never comes. A crash between the commit and the send
loses nothing: each kind of work has a sweep that sends what has no job (`distributed.sweep`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session

from consentlens.core import transactions

log = logging.getLogger(__name__)

# (task name, argument): hands one job to the engine; installed by `consentlens.wiring`.
Sender = Callable[[str, str], None]
_sender: Sender | None = None


def install_sender(sender: Sender) -> None:
    global _sender
    _sender = sender


def installed_sender() -> Sender | None:
    return _sender


def enqueue(*, session: Session, task: str, argument: str) -> None:
    """Send the job `task(argument)` once this transaction commits (nothing if it does not)."""
    transactions.on_commit(session=session, action=lambda: send(task=task, argument=argument))


def send(*, task: str, argument: str) -> None:
    """Hand one job to the engine now; a failure is logged, and the sweep sends it later."""
    if _sender is None:
        raise RuntimeError("no job engine is installed: call consentlens.wiring first")
    try:
        _sender(task, argument)
    except Exception:
        # The work is committed and stays findable: the sweep sends what has no job.
        log.exception("sending job %s(%s) failed; the sweep will send it again", task, argument)

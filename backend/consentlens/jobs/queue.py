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

# (task name, argument): hands one job to the engine; installed by `consentlens.wiring`, with
# whether that engine is the distributed one (workers elsewhere) or the embedded one.
Sender = Callable[[str, str], None]
Action = Callable[[], None]
_sender: Sender | None = None
_is_distributed: Callable[[], bool] | None = None


def install_sender(sender: Sender, *, distributed: Callable[[], bool]) -> None:
    global _sender, _is_distributed
    _sender, _is_distributed = sender, distributed


def _distributed() -> bool:
    return _is_distributed is not None and _is_distributed()


def enqueue(*, session: Session, task: str, argument: str, embedded: Action | None = None) -> None:
    """Send the job `task(argument)` once this transaction commits (nothing if it does not).

    `embedded`: what the embedded engine does instead, in this process after the commit (work
    too small for a job there, such as deleting a few stale files); None sends the job anyway.
    """

    def after_commit() -> None:
        if embedded is not None and not _distributed():
            embedded()
        else:
            send(task=task, argument=argument)

    transactions.on_commit(session=session, action=after_commit)


def send(*, task: str, argument: str) -> None:
    """Hand one job to the engine now; a failure is logged, and the sweep sends it later."""
    if _sender is None:
        raise RuntimeError("no job engine is installed: call consentlens.wiring first")
    try:
        _sender(task, argument)
    except Exception:
        # The work is committed and stays findable: the sweep sends what has no job.
        log.exception("sending job %s(%s) failed; the sweep will send it again", task, argument)

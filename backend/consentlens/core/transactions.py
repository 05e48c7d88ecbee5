"""Side effects tied to the fate of a database transaction: files written or deleted with rows.

A file and a row cannot be committed together, so each write picks the order whose failure is
harmless: a new file is put in place before its row commits and removed if the row does not
(`on_rollback`); an old file is deleted only once the deletion of its row has committed
(`on_commit`). Savepoints count: what a rolled-back savepoint registered is undone (or dropped)
even when the outer transaction commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)

Action = Callable[[], None]
_PENDING = "consentlens_transaction_actions"


@dataclass
class _Actions:
    on_commit: list[Action] = field(default_factory=list)
    on_rollback: list[Action] = field(default_factory=list)
    committed: bool = False


def on_commit(*, session: Session, action: Action) -> None:
    """Run `action` once the work done so far is committed for good; drop it otherwise."""
    _actions(session).on_commit.append(action)


def on_rollback(*, session: Session, action: Action) -> None:
    """Run `action` if the work done so far ends without being committed (rollback or close)."""
    _actions(session).on_rollback.append(action)


def _actions(session: Session) -> _Actions:
    if not event.contains(session, "after_transaction_end", _ended):
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_transaction_end", _ended)
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        session.connection()  # begins the transaction the actions belong to
        transaction = session.get_transaction()
    assert transaction is not None
    pending: dict[SessionTransaction, _Actions] = session.info.setdefault(_PENDING, {})
    return pending.setdefault(transaction, _Actions())


def _committed(session: Session) -> None:
    # after_commit fires for savepoints too; the one committing is the innermost open one.
    transaction = (
        session.get_nested_transaction()
        if session.in_nested_transaction()
        else session.get_transaction()
    )
    entry = session.info.get(_PENDING, {}).get(transaction)
    if entry is not None:
        entry.committed = True


def _ended(session: Session, transaction: SessionTransaction) -> None:
    pending: dict[SessionTransaction, _Actions] = session.info.get(_PENDING, {})
    entry = pending.pop(transaction, None)
    if entry is None:
        return
    if not entry.committed:
        _run(entry.on_rollback)
    elif transaction.parent is None:
        _run(entry.on_commit)
    else:
        # A released savepoint: its work now shares the fate of the transaction around it.
        outer = pending.setdefault(transaction.parent, _Actions())
        outer.on_commit.extend(entry.on_commit)
        outer.on_rollback.extend(entry.on_rollback)


def _run(actions: list[Action]) -> None:
    for action in actions:
        try:
            action()
        except Exception:
            # A file that could not be removed is swept later; the transaction must not fail.
            log.exception("after-transaction action failed")

"""Actions tied to a transaction's fate, savepoints included."""

from __future__ import annotations

from sqlalchemy import text

from consentlens.core import transactions


def test_commit_runs_the_commit_actions_and_drops_the_rollback_ones(db):
    done: list[str] = []
    db.execute(text("SELECT 1"))
    transactions.on_commit(session=db, action=lambda: done.append("commit"))
    transactions.on_rollback(session=db, action=lambda: done.append("rollback"))
    assert done == []
    db.commit()
    assert done == ["commit"]


def test_rollback_and_close_run_the_rollback_actions(db):
    done: list[str] = []
    transactions.on_commit(session=db, action=lambda: done.append("commit"))
    transactions.on_rollback(session=db, action=lambda: done.append("rolled back"))
    db.rollback()
    transactions.on_rollback(session=db, action=lambda: done.append("closed"))
    db.close()
    assert done == ["rolled back", "closed"]


def test_a_rolled_back_savepoint_undoes_its_own_actions_only(db):
    done: list[str] = []
    transactions.on_rollback(session=db, action=lambda: done.append("outer rollback"))
    savepoint = db.begin_nested()
    transactions.on_commit(session=db, action=lambda: done.append("inner commit"))
    transactions.on_rollback(session=db, action=lambda: done.append("inner rollback"))
    savepoint.rollback()
    assert done == ["inner rollback"]
    db.commit()
    assert done == ["inner rollback"]


def test_a_released_savepoint_waits_for_the_outer_transaction(db):
    done: list[str] = []
    savepoint = db.begin_nested()
    transactions.on_commit(session=db, action=lambda: done.append("commit"))
    transactions.on_rollback(session=db, action=lambda: done.append("rollback"))
    savepoint.commit()
    assert done == []
    db.rollback()
    assert done == ["rollback"]


def test_a_failing_action_does_not_break_the_transaction(db):
    def fail() -> None:
        raise OSError("disk gone")

    transactions.on_commit(session=db, action=fail)
    db.commit()

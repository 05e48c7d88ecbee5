"""Every table's rows as canonical JSON lines: written to a backup, checked, and inserted back.

The same rows give the same lines and checksums on SQLite and on PostgreSQL (times in UTC,
bytes in base64), so a restore onto either, and a move from one to the other, can be verified
table by table.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, TypeDecorator, func, select, text
from sqlmodel import SQLModel

import consentlens.db.models  # noqa: F401  (every table on the metadata)

BATCH = 1000


def ordered_tables() -> list[Table]:
    """Parents before children: the order rows can be inserted in with foreign keys on."""
    return list(SQLModel.metadata.sorted_tables)


def _python_type(column: Any) -> type | None:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance  # e.g. UTCDateTime: a DateTime
    try:
        return kind.python_type
    except NotImplementedError:
        return None


def encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def decode(value: Any, *, python_type: type | None) -> Any:
    if value is None:
        return None
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is bytes:
        return base64.b64decode(value)
    return value


def line(row: Iterable[Any]) -> bytes:
    """One row, canonical: the same bytes for the same values on any database."""
    return json.dumps([encode(v) for v in row], sort_keys=True, separators=(",", ":")).encode()


def rows(connection: Connection, *, table: Table) -> Iterator[bytes]:
    """The table's rows as lines, in primary-key order."""
    order = list(table.primary_key.columns) or list(table.columns)
    result = connection.execute(select(*table.columns).order_by(*order)).yield_per(BATCH)
    for row in result:
        yield line(row)


class Digest:
    """Counts and hashes a table's lines as they go by."""

    def __init__(self) -> None:
        self.count = 0
        self._hash = hashlib.sha256()

    def add(self, data: bytes) -> None:
        self.count += 1
        self._hash.update(data + b"\n")

    @property
    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def checksums(connection: Connection) -> dict[str, dict[str, Any]]:
    """Per table: its row count and the checksum of its lines."""
    found = {}
    for table in ordered_tables():
        digest = Digest()
        for data in rows(connection, table=table):
            digest.add(data)
        found[table.name] = {"rows": digest.count, "sha256": digest.hexdigest}
    return found


@contextlib.contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection that sees one consistent state of the whole database while others write.

    SQLite (WAL): a read transaction keeps the snapshot of its first read. PostgreSQL: a
    REPEATABLE READ, READ ONLY transaction.
    """
    options = {} if engine.dialect.name == "sqlite" else {"isolation_level": "REPEATABLE READ"}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        if engine.dialect.name != "sqlite":
            connection.execute(text("SET TRANSACTION READ ONLY"))
        yield connection


def revision(connection: Connection) -> str | None:
    """The Alembic revision of the database."""
    try:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return None


def non_empty(connection: Connection) -> list[str]:
    """Tables that hold rows."""
    return [
        table.name
        for table in ordered_tables()
        if connection.execute(select(func.count()).select_from(table)).scalar()
    ]


def insert(connection: Connection, *, table: Table, lines: Iterable[bytes]) -> int:
    """Insert a table's lines (from `rows`) in batches; returns how many."""
    columns = list(table.columns)
    types = [_python_type(column) for column in columns]
    batch: list[dict[str, Any]] = []
    count = 0
    for data in lines:
        values = json.loads(data)
        batch.append(
            {
                column.name: decode(value, python_type=kind)
                for column, value, kind in zip(columns, values, types, strict=True)
            }
        )
        if len(batch) >= BATCH:
            connection.execute(table.insert(), batch)
            count += len(batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
        count += len(batch)
    return count


def reset_sequences(connection: Connection) -> None:
    """PostgreSQL: each id sequence continues after the highest restored id."""
    if connection.dialect.name != "postgresql":
        return
    for table in ordered_tables():
        for column in table.primary_key.columns:
            if column.autoincrement is not True and not (
                column.autoincrement == "auto" and _python_type(column) is int
            ):
                continue
            sequence = connection.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar()
            if sequence:
                # Names from the models' own metadata, never from input.
                highest = connection.execute(select(func.max(column))).scalar() or 0
                connection.execute(
                    text("SELECT setval(:sequence, :next, false)"),
                    {"sequence": sequence, "next": highest + 1},
                )

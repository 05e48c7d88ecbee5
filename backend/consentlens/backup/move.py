"""`consentlens move`: copy a whole installation's database to another (SQLite → PostgreSQL).

Table by table, each in one transaction on the target, from one consistent snapshot of the source;
each copied table is verified by its checksum. An interrupted move is resumed by running it again:
tables already copied and verified are skipped, a table cut off mid-way was rolled back and is
copied again. The stored files stay where they are (the media folder is the same).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine

from consentlens.backup import tables


class MoveRefused(Exception):
    """The target cannot take this installation; the message says why."""


@dataclass(frozen=True, slots=True)
class MoveReport:
    copied: list[str]
    skipped: list[str]
    rows: int


def move(
    *, source: Engine, target: Engine, progress: Callable[[str], None] = lambda _: None
) -> MoveReport:
    """Copy every table from `source` to the migrated `target`, verified; resumable."""
    copied: list[str] = []
    skipped: list[str] = []
    rows = 0
    if source.url == target.url:
        raise MoveRefused("The target is this installation's own database.")
    with tables.snapshot(source) as reading:
        with target.connect() as checking:
            source_revision, target_revision = tables.revision(reading), tables.revision(checking)
        if source_revision != target_revision:
            raise MoveRefused(
                f"The target database is at schema {target_revision}, the source at "
                f"{source_revision}: migrate both with the same ConsentLens version."
            )
        # Every table compared before anything is written: a target in use is refused whole.
        expected_of, present_of = {}, {}
        with target.connect() as checking:
            for table in tables.ordered_tables():
                expected_of[table.name] = _digest(tables.rows(reading, table=table))
                present_of[table.name] = _digest(tables.rows(checking, table=table))
        for table in tables.ordered_tables():
            expected, present = expected_of[table.name], present_of[table.name]
            if present[0] and present != expected:
                raise MoveRefused(
                    f"The target's table {table.name} holds other rows than the source's (the "
                    "source changed since the interrupted move, or the target is in use): move "
                    "to an empty database."
                )
        for table in tables.ordered_tables():
            expected, present = expected_of[table.name], present_of[table.name]
            if present == expected:
                skipped.append(table.name)
                progress(f"{table.name}: already copied ({expected[0]} rows)")
                continue
            with target.begin() as writing:
                count = tables.insert(writing, table=table, lines=tables.rows(reading, table=table))
                if _digest(tables.rows(writing, table=table)) != expected:
                    raise MoveRefused(f"The copy of {table.name} does not match the source.")
            copied.append(table.name)
            rows += count
            progress(f"{table.name}: {count} rows copied and verified")
    with target.begin() as writing:
        tables.reset_sequences(writing)
    return MoveReport(copied=copied, skipped=skipped, rows=rows)


def _digest(lines: Iterable[bytes]) -> tuple[int, str]:
    digest = tables.Digest()
    for data in lines:
        digest.add(data)
    return digest.count, digest.hexdigest

"""The distributed job queue's tables (procrastinate), in a PostgreSQL schema of their own.

procrastinate owns these tables, functions and triggers; ConsentLens's models do not describe
them, so they live in the schema `procrastinate`, apart from the application's tables (the
schema comparison and the backups see only the application's). The SQL is the installed
procrastinate's own `schema.sql` (pinned to 3.x in pyproject.toml); a procrastinate release
that changes its schema ships migration files, applied by a later revision here.
SQLite deployments run the embedded worker and get nothing.

Revision ID: 7c3f1a9e5b20
Revises: d54bbe4d466a
Create Date: 2026-12-03 18:30:00
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager

revision: str = "7c3f1a9e5b20"
down_revision: str | None = "d54bbe4d466a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "procrastinate"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    driver = bind.connection.driver_connection
    assert driver is not None
    previous = driver.execute("SHOW search_path").fetchone()[0]
    # Unqualified names in procrastinate's SQL land in its schema; without parameters, psycopg
    # runs the whole file (several statements) as it is.
    driver.execute(f"SET LOCAL search_path TO {SCHEMA}")
    driver.execute(SchemaManager.get_schema())
    driver.execute(f"SET LOCAL search_path TO {previous}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")

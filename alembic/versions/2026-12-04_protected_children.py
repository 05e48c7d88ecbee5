"""Protected children: when a child was marked protected, and why (optional).

Revision ID: 3f6a2c9d8e41
Revises: b7ec8a74327f
Create Date: 2026-12-04 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from consentlens.core.tables import UTCDateTime

revision: str = "3f6a2c9d8e41"
down_revision: str | None = "b7ec8a74327f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("protected_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column(
                "protected_reason",
                sqlmodel.sql.sqltypes.AutoString(length=300),
                nullable=False,
                server_default="",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_column("protected_reason")
        batch_op.drop_column("protected_at")

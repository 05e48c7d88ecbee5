"""Takedown reasons in the reader's language: the kind of reason and the child, kept with the flag.

Rows flagged before keep their reason text only (shown as written).

Revision ID: b7ec8a74327f
Revises: 0695d2978f8f
Create Date: 2026-12-04 02:49:53.426318
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b7ec8a74327f"
down_revision: str | None = "0695d2978f8f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("published_photos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "takedown_kind",
                sqlmodel.sql.sqltypes.AutoString(length=12),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("takedown_child_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_published_photos_takedown_child_id_children"),
            "children",
            ["takedown_child_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("published_photos", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_published_photos_takedown_child_id_children"), type_="foreignkey"
        )
        batch_op.drop_column("takedown_child_id")
        batch_op.drop_column("takedown_kind")

"""recommendation values: each container's and product line's value at the ERP's prices

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendation_containers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("unpriced_lines", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("recommendation_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recommendation_lines", schema=None) as batch_op:
        batch_op.drop_column("value")
    with op.batch_alter_table("recommendation_containers", schema=None) as batch_op:
        batch_op.drop_column("unpriced_lines")
        batch_op.drop_column("value")

"""auto_approve_max_value: an auto-approval takes containers worth at most this much

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auto_approve_max_value", sa.String(length=40), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_settings", schema=None) as batch_op:
        batch_op.drop_column("auto_approve_max_value")

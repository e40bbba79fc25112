"""customer_settings.auto_approve_after_hours: the auto-approval grace period

Until now the grace period was the reminder interval; existing rows get 24 hours.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customer_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "auto_approve_after_hours",
                sa.Integer(),
                nullable=False,
                server_default=sa.text("24"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_settings", schema=None) as batch_op:
        batch_op.drop_column("auto_approve_after_hours")

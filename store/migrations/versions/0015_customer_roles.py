"""users: customer_role (viewer | buyer | approver), approval_limit and email

Customer users that existed before roles keep what they could do: approver, no limit.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_role", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("approval_limit", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    op.execute("UPDATE users SET customer_role = 'approver' WHERE role = 'customer'")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email")
        batch_op.drop_column("approval_limit")
        batch_op.drop_column("customer_role")

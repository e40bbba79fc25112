"""prices: each product's price list rows from the ERP (NULL when the ERP serves none)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prices", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshot_products", schema=None) as batch_op:
        batch_op.drop_column("prices")

"""snapshots.product_health: the dashboard's product summary, written with the products

Counting a 4,000-product customer's products by status on every dashboard request cost
PostgreSQL ~3 ms; the summary is rewritten whenever sync or recommend writes products or plans.
Existing rows stay NULL until then and the dashboard counts them live meanwhile.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product_health", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_column("product_health")

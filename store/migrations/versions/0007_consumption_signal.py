"""consumption signal: stock counts per sync, the ERP's consumption reports, lead time in weeks

snapshot_products keeps the stock each sync read and the ERP's weekly consumption reports
(EDI 852) per product, and which history its latest forecast used; snapshots remember the last
week the ERP reported. Customer settings: the lead time may be fractional and is measured
from the order history unless turned off; the last-container policy is a setting (`auto`:
top up, drop or wait a review, whichever costs least).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stock_counts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("consumption", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("history_source", sa.String(length=16), nullable=True))
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consumption_through", sa.Date(), nullable=True))
    with op.batch_alter_table("customer_settings", schema=None) as batch_op:
        batch_op.alter_column(
            "lead_time_weeks",
            existing_type=sa.Integer(),
            type_=sa.Float(),
            existing_nullable=False,
        )
        batch_op.add_column(
            sa.Column("measure_lead_time", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("last_container", sa.String(length=16), nullable=False, server_default="auto")
        )


def downgrade() -> None:
    with op.batch_alter_table("customer_settings", schema=None) as batch_op:
        batch_op.drop_column("last_container")
        batch_op.drop_column("measure_lead_time")
        batch_op.alter_column(
            "lead_time_weeks",
            existing_type=sa.Float(),
            type_=sa.Integer(),
            existing_nullable=False,
        )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_column("consumption_through")
    with op.batch_alter_table("snapshot_products", schema=None) as batch_op:
        batch_op.drop_column("history_source")
        batch_op.drop_column("consumption")
        batch_op.drop_column("stock_counts")

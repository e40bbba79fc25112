"""shipments: each ERP order followed by its own workflow; its events; ERP pushes received

orders gains the promised ETA, the late flag and reason, the shipment's status and workflow
id; order_events keeps what happened to an order on its way; erp_events keeps each ERP push
by event id, so the same push delivered twice changes nothing.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promised_eta", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("late_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("shipment_status", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("shipment_workflow_id", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("shipment_checked_at", sa.DateTime(timezone=True), nullable=True)
        )

    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("eta_before", sa.Date(), nullable=True),
        sa.Column("eta_after", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_order_events_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)

    op.create_table(
        "erp_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=120), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_erp_events_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_erp_events_order_id_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erp_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_erp_events_event_id")),
    )
    with op.batch_alter_table("erp_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_erp_events_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_table("erp_events")
    op.drop_table("order_events")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        for column in (
            "shipment_checked_at",
            "shipment_workflow_id",
            "shipment_status",
            "late_reason",
            "late",
            "promised_eta",
        ):
            batch_op.drop_column(column)

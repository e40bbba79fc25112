"""cycles: one row per workflow run

A customer's cycles share one workflow id (at most one open per customer) and differ by
run id, so the read model is keyed by run id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_cycles_workflow_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_cycles_workflow_id"), ["workflow_id"], unique=False)
        batch_op.create_unique_constraint(op.f("uq_cycles_run_id"), ["run_id"])


def downgrade() -> None:
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_cycles_run_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_cycles_workflow_id"))
        batch_op.create_unique_constraint(op.f("uq_cycles_workflow_id"), ["workflow_id"])

"""recommendation drafts: a buyer's edits saved on the server until the decision

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendation_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=160), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_drafts_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_drafts")),
        sa.UniqueConstraint(
            "recommendation_id", "product_code", name="uq_recommendation_drafts_line"
        ),
    )
    with op.batch_alter_table("recommendation_drafts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_drafts_recommendation_id"),
            ["recommendation_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("recommendation_drafts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_drafts_recommendation_id"))
    op.drop_table("recommendation_drafts")

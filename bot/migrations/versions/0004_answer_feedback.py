"""Visitors' ratings of answers ("Was this helpful?"), with the answer's topic and sources (bot/feedback.py).

Revision ID: 0004_answer_feedback
Revises: 0003_handoffs_and_alerts
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_answer_feedback"
down_revision = "0003_handoffs_and_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("answer_feedback"):
        return  # made earlier by create_all: adopted as it is
    op.create_table(
        "answer_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("conversation_id", "topic", "created_at"):
        op.create_index(f"ix_answer_feedback_{column}", "answer_feedback", [column])


def downgrade() -> None:
    for column in ("conversation_id", "topic", "created_at"):
        op.drop_index(f"ix_answer_feedback_{column}", table_name="answer_feedback")
    op.drop_table("answer_feedback")

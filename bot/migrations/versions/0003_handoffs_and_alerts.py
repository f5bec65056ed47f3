"""Handoffs (staff take over a conversation) and escalation re-notification claims.

`handoffs`: one row per conversation a visitor asked a person for or staff took over (bot/handoff/store.py).
`escalation_alerts`: one row per escalation re-notified past its response target (bot/staff/alerts.py).
Each is created only if missing (a database where create_all made them earlier is adopted).

Revision ID: 0003_handoffs_and_alerts
Revises: 0002_encrypt_contacts
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_handoffs_and_alerts"
down_revision = "0002_encrypt_contacts"
branch_labels = None
depends_on = None


def _absent(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _absent("handoffs"):
        op.create_table(
            "handoffs",
            sa.Column("conversation_id", sa.String(length=255), nullable=False),
            sa.Column("state", sa.String(length=16), nullable=False),
            sa.Column("staff_id", sa.String(length=255), nullable=True),
            sa.Column("staff_name", sa.String(length=255), nullable=True),
            sa.Column("requested_at", sa.DateTime(), nullable=True),
            sa.Column("taken_at", sa.DateTime(), nullable=True),
            sa.Column("red_flag_alert", sa.Boolean(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("conversation_id"),
        )
        op.create_index("ix_handoffs_state", "handoffs", ["state"])
    if _absent("escalation_alerts"):
        op.create_table(
            "escalation_alerts",
            sa.Column("escalation_id", sa.Integer(), nullable=False),
            sa.Column("renotified_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("escalation_id"),
        )


def downgrade() -> None:
    op.drop_table("escalation_alerts")
    op.drop_index("ix_handoffs_state", table_name="handoffs")
    op.drop_table("handoffs")

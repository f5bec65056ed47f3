"""The connectors' tables (webhook deliveries seen, outgoing messages and their delivery status; see
bot/channels/store.py), the staff's display names (the name a visitor sees when a person joins a chat) and
which process recorded an escalation (`recorded_by`: "rasa" when the Rasa server wrote it because the action
server was down; see bot/server/action_timeout.py).

The Rasa servers create the two channel tables on first use (create_all, so a bot without the console still
works); a database where they exist already is adopted as it is.

Revision ID: 0005_channels_names_origin (at most 32 characters: alembic_version.version_num)
Revises: 0004_answer_feedback
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_channels_names_origin"
down_revision = "0004_answer_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table("webhook_deliveries"):
        op.create_table(
            "webhook_deliveries",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("channel", sa.String(length=32), nullable=False),
            sa.Column("delivery_id", sa.String(length=255), nullable=False),
            sa.Column("received_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("channel", "delivery_id", name="uq_webhook_deliveries_channel_id"),
        )
        op.create_index("ix_webhook_deliveries_received_at", "webhook_deliveries", ["received_at"])
    if not inspector.has_table("channel_messages"):
        op.create_table(
            "channel_messages",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("conversation_id", sa.String(length=255), nullable=False),
            sa.Column("channel", sa.String(length=32), nullable=False),
            sa.Column("platform_message_id", sa.String(length=255), nullable=True),
            sa.Column("status", sa.String(length=32), nullable=False),
            sa.Column("urgent_level", sa.String(length=32), nullable=True),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("error", sa.String(length=300), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("updated_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        for column in ("conversation_id", "platform_message_id", "created_at"):
            op.create_index(f"ix_channel_messages_{column}", "channel_messages", [column])
    if "display_name" not in {column["name"] for column in inspector.get_columns("staff_users")}:
        with op.batch_alter_table("staff_users") as batch:
            batch.add_column(sa.Column("display_name", sa.String(length=64), nullable=True))
    if "recorded_by" not in {column["name"] for column in inspector.get_columns("escalations")}:
        with op.batch_alter_table("escalations") as batch:
            batch.add_column(sa.Column("recorded_by", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        batch.drop_column("recorded_by")
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("display_name")
    for column in ("conversation_id", "platform_message_id", "created_at"):
        op.drop_index(f"ix_channel_messages_{column}", table_name="channel_messages")
    op.drop_table("channel_messages")
    op.drop_index("ix_webhook_deliveries_received_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")

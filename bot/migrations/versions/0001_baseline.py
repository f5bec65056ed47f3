"""Baseline: the staff console's tables and the escalations table as they were before migrations.

Each table is created only if it is missing, so a database made earlier by create_all is adopted as it is.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("conversation_search", "conversation_summaries", "conversation_topics", "escalations", "staff_audit_log",
          "staff_low_confidence_messages", "staff_message_labels", "staff_reviews", "staff_summary_state",
          "staff_tags", "staff_users")


def _absent(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _absent("conversation_search"):
        op.create_table('conversation_search',
            sa.Column('sender_id', sa.String(length=255), nullable=False),
            sa.Column('text', sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint('sender_id')
        )
    if _absent("conversation_summaries"):
        op.create_table('conversation_summaries',
            sa.Column('sender_id', sa.String(length=255), nullable=False),
            sa.Column('channel', sa.String(length=64), nullable=True),
            sa.Column('started_at', sa.DateTime(), nullable=False),
            sa.Column('started_day', sa.String(length=10), nullable=False),
            sa.Column('last_event_at', sa.DateTime(), nullable=False),
            sa.Column('user_messages', sa.Integer(), nullable=False),
            sa.Column('bot_messages', sa.Integer(), nullable=False),
            sa.Column('topics', sa.Text(), nullable=False),
            sa.Column('first_message', sa.Text(), nullable=True),
            sa.Column('escalated', sa.Boolean(), nullable=False),
            sa.Column('escalation_level', sa.String(length=32), nullable=True),
            sa.Column('red_flag', sa.Boolean(), nullable=False),
            sa.Column('fallback', sa.Boolean(), nullable=False),
            sa.Column('low_confidence', sa.Boolean(), nullable=False),
            sa.Column('unsure', sa.Boolean(), nullable=False),
            sa.Column('min_confidence', sa.Float(), nullable=True),
            sa.Column('reviewed', sa.Boolean(), nullable=False),
            sa.Column('last_event_id', sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint('sender_id')
        )
        op.create_index('ix_conversation_summaries_channel', 'conversation_summaries', ['channel', 'started_at'])
        op.create_index('ix_conversation_summaries_escalated', 'conversation_summaries', ['escalated', 'started_at'])
        op.create_index('ix_conversation_summaries_fallback', 'conversation_summaries', ['fallback', 'started_at'])
        op.create_index('ix_conversation_summaries_last_event_at', 'conversation_summaries', ['last_event_at'])
        op.create_index('ix_conversation_summaries_low_confidence',
                        'conversation_summaries', ['low_confidence', 'started_at'])
        op.create_index('ix_conversation_summaries_reviewed', 'conversation_summaries', ['reviewed', 'started_at'])
        op.create_index('ix_conversation_summaries_started_at', 'conversation_summaries', ['started_at'])
        op.create_index('ix_conversation_summaries_started_day', 'conversation_summaries', ['started_day'])
        op.create_index('ix_conversation_summaries_started_sender',
                        'conversation_summaries', ['started_at', 'sender_id'])
        op.create_index('ix_conversation_summaries_unsure', 'conversation_summaries', ['unsure', 'started_at'])
        op.create_index('ix_conversation_summaries_user_messages', 'conversation_summaries', ['user_messages'])
    if _absent("conversation_topics"):
        op.create_table('conversation_topics',
            sa.Column('sender_id', sa.String(length=255), nullable=False),
            sa.Column('topic', sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint('sender_id', 'topic')
        )
        op.create_index('ix_conversation_topics_topic', 'conversation_topics', ['topic', 'sender_id'])
    if _absent("escalations"):
        op.create_table('escalations',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('conversation_id', sa.String(length=255), nullable=False),
            sa.Column('channel', sa.String(length=64), nullable=True),
            sa.Column('level', sa.String(length=32), nullable=False),
            sa.Column('flags', sa.Text(), nullable=False),
            sa.Column('message', sa.Text(), nullable=False),
            sa.Column('contact_name', sa.String(length=255), nullable=True),
            sa.Column('contact_details', sa.String(length=255), nullable=True),
            sa.Column('consent', sa.Boolean(), nullable=True),
            sa.Column('status', sa.String(length=32), nullable=False),
            sa.Column('assignee', sa.String(length=255), nullable=True),
            sa.Column('notes', sa.Text(), nullable=True),
            sa.Column('notified', sa.Boolean(), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint('id')
        )
        op.create_index('ix_escalations_conversation_id', 'escalations', ['conversation_id'])
        op.create_index('ix_escalations_created_at', 'escalations', ['created_at'])
        op.create_index('ix_escalations_level', 'escalations', ['level'])
        op.create_index('ix_escalations_status', 'escalations', ['status'])
    if _absent("staff_audit_log"):
        op.create_table('staff_audit_log',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('at', sa.DateTime(), nullable=False),
            sa.Column('actor', sa.String(length=64), nullable=False),
            sa.Column('action', sa.String(length=64), nullable=False),
            sa.Column('target', sa.String(length=255), nullable=True),
            sa.Column('detail', sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint('id')
        )
        op.create_index('ix_staff_audit_log_action', 'staff_audit_log', ['action'])
        op.create_index('ix_staff_audit_log_at', 'staff_audit_log', ['at'])
        op.create_index('ix_staff_audit_log_target', 'staff_audit_log', ['target'])
    if _absent("staff_low_confidence_messages"):
        op.create_table('staff_low_confidence_messages',
            sa.Column('event_id', sa.Integer(), nullable=False),
            sa.Column('sender_id', sa.String(length=255), nullable=False),
            sa.Column('text', sa.Text(), nullable=False),
            sa.Column('intent', sa.String(length=255), nullable=True),
            sa.Column('confidence', sa.Float(), nullable=True),
            sa.Column('at', sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint('event_id')
        )
        op.create_index('ix_staff_low_confidence_messages_at', 'staff_low_confidence_messages', ['at'])
        op.create_index('ix_staff_low_confidence_messages_sender_id', 'staff_low_confidence_messages', ['sender_id'])
    if _absent("staff_message_labels"):
        op.create_table('staff_message_labels',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('event_id', sa.Integer(), nullable=False),
            sa.Column('sender_id', sa.String(length=255), nullable=False),
            sa.Column('text', sa.Text(), nullable=False),
            sa.Column('predicted_intent', sa.String(length=255), nullable=True),
            sa.Column('correct_intent', sa.String(length=255), nullable=False),
            sa.Column('labelled_by', sa.String(length=64), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint('id'),
            sa.UniqueConstraint('event_id')
        )
        op.create_index('ix_staff_message_labels_correct_intent', 'staff_message_labels', ['correct_intent'])
        op.create_index('ix_staff_message_labels_sender_id', 'staff_message_labels', ['sender_id'])
    if _absent("staff_reviews"):
        op.create_table('staff_reviews',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('sender_id', sa.String(length=255), nullable=False),
            sa.Column('reviewer', sa.String(length=64), nullable=False),
            sa.Column('note', sa.Text(), nullable=True),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint('id')
        )
        op.create_index('ix_staff_reviews_sender_id', 'staff_reviews', ['sender_id'])
    if _absent("staff_summary_state"):
        op.create_table('staff_summary_state',
            sa.Column('key', sa.String(length=32), nullable=False),
            sa.Column('last_event_id', sa.Integer(), nullable=False),
            sa.Column('last_escalation_id', sa.Integer(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint('key')
        )
    if _absent("staff_tags"):
        op.create_table('staff_tags',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('sender_id', sa.String(length=255), nullable=False),
            sa.Column('tag', sa.String(length=64), nullable=False),
            sa.Column('created_by', sa.String(length=64), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint('id'),
            sa.UniqueConstraint('sender_id', 'tag', name='uq_staff_tags_sender_tag')
        )
        op.create_index('ix_staff_tags_tag', 'staff_tags', ['tag', 'sender_id'])
    if _absent("staff_users"):
        op.create_table('staff_users',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('username', sa.String(length=64), nullable=False),
            sa.Column('password_hash', sa.String(length=255), nullable=False),
            sa.Column('role', sa.String(length=16), nullable=False),
            sa.Column('active', sa.Boolean(), nullable=False),
            sa.Column('failed_logins', sa.Integer(), nullable=False),
            sa.Column('locked_until', sa.DateTime(), nullable=True),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('last_login_at', sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint('id'),
            sa.UniqueConstraint('username')
        )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)

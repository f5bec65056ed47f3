"""Contact details encrypted at rest: contact_name and contact_details become Fernet tokens (text columns).

Rows written before this revision hold plaintext; they are sealed here with the current data key
(CLINIC_DATA_KEY or var/data_key, see bot/encryption.py). Reading also accepts plaintext, so a row written by
an older action server during the upgrade is still shown; `python -m bot staff migrate` seals such rows too.

Revision ID: 0002_encrypt_contacts
Revises: 0001_baseline
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.encryption import decrypt, is_token, reencrypt

revision = "0002_encrypt_contacts"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

COLUMNS = ("contact_name", "contact_details")
# The raw columns (no EncryptedText processing): this revision reads and writes what is stored.
RAW = sa.table("escalations", sa.column("id", sa.Integer), *(sa.column(c, sa.Text) for c in COLUMNS))


def _rewrite(convert) -> int:  # noqa: ANN001 - a str -> str function
    bind = op.get_bind()
    changed = 0
    rows = bind.execute(sa.select(RAW).where(sa.or_(*(RAW.c[c].isnot(None) for c in COLUMNS)))).mappings().all()
    for row in rows:
        values = {c: convert(row[c]) for c in COLUMNS if row[c] is not None}
        values = {c: v for c, v in values.items() if v != row[c]}
        if values:
            bind.execute(RAW.update().where(RAW.c.id == row["id"]).values(**values))
            changed += 1
    return changed


def upgrade() -> None:
    with op.batch_alter_table("escalations") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=sa.String(length=255), type_=sa.Text(), existing_nullable=True)
    _rewrite(lambda value: value if is_token(value) else reencrypt(value))


def downgrade() -> None:
    """Back to plaintext (needs the data key); values longer than 255 characters are cut to fit."""
    _rewrite(lambda value: (decrypt(value) or "")[:255])
    with op.batch_alter_table("escalations") as batch:
        for column in COLUMNS:
            batch.alter_column(column, existing_type=sa.Text(), type_=sa.String(length=255), existing_nullable=True)

"""`python -m bot migrate-conversation-ids`: rename conversations stored under bare ids (before channel
namespaces) to their namespaced ids, by the channel recorded in their own events.

Before the namespaces a Telegram chat was `12345`, a Twilio WhatsApp sender `whatsapp:+447700900123`, a Meta
WhatsApp sender `447700900123`, a widget session 32 hex digits and a REST caller whatever it sent. Each
conversation's user events name their `input_channel`; the conversation becomes `telegram:12345`,
`twilio:+447700900123`, `whatsapp:+447700900123`, `web:<hex>` or `rest:<sender>` in every table that names
it (the events, escalations, the staff console's tables, delivery records, handoffs: every column called
`sender_id` or `conversation_id`, and staff audit targets).

A conversation whose user events came from several channels (the REST-into-WhatsApp hole this change
closes) goes to its platform channel (Telegram or WhatsApp, whose senders the platform vouches for) and is
listed as "mixed" for staff to review. Conversations with no user events, ids that cannot be converted, and
ids whose new name is already taken are left alone and listed. Running it again changes nothing.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.engine import Connection, Engine

from bot.channels import ids

PLATFORM_CHANNELS = ("telegram", "twilio", "whatsapp")
ID_COLUMNS = ("sender_id", "conversation_id")
AUDIT_TABLE, AUDIT_COLUMN = "staff_audit_log", "target"


@dataclass
class MigrationReport:
    renames: dict[str, str] = field(default_factory=dict)          # old id -> new id
    mixed: dict[str, list[str]] = field(default_factory=dict)      # old id -> its channels
    skipped: dict[str, str] = field(default_factory=dict)          # old id -> why it was left alone
    rows: dict[str, int] = field(default_factory=dict)             # table.column -> rows changed

    def summary(self, applied: bool) -> str:
        lines = [f"{len(self.renames)} conversation(s) {'renamed' if applied else 'to rename'}"]
        lines += [f"  {old} -> {new}" for old, new in sorted(self.renames.items())[:50]]
        if len(self.renames) > 50:
            lines.append(f"  ... and {len(self.renames) - 50} more")
        for old, channels in sorted(self.mixed.items()):
            lines.append(f"mixed channels ({', '.join(channels)}): {old} -> {self.renames.get(old)}; review it")
        for old, why in sorted(self.skipped.items()):
            lines.append(f"left alone: {old}: {why}")
        for column, count in sorted(self.rows.items()):
            lines.append(f"  {column}: {count} row(s)")
        return "\n".join(lines)


def _channels_by_sender(conn: Connection, events: Table) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for sender, data in conn.execute(select(events.c.sender_id, events.c.data).where(events.c.type_name == "user")):
        try:
            channel = (json.loads(data or "{}") or {}).get("input_channel")
        except ValueError:
            channel = None
        found[sender].add(str(channel) if channel else "unknown")
    return found


def target_id(sender: str, channels: set[str]) -> tuple[str | None, str]:
    """(new id or None, why not) for one stored conversation and the channels its user events came in on."""
    platforms = sorted(channels & set(PLATFORM_CHANNELS))
    known = sorted(channels & set(ids.NAMESPACES))
    if len(platforms) == 1:
        channel = platforms[0]
    elif len(platforms) > 1:
        return None, f"user messages from several platforms ({', '.join(platforms)})"
    elif known:
        channel = "socketio" if "socketio" in known else known[0]
    else:
        return None, f"no known channel in its events ({', '.join(sorted(channels)) or 'none'})"
    namespace = ids.NAMESPACES[channel]
    rest = sender[len(namespace) + 1:] if sender.startswith(f"{namespace}:") else None
    if rest is not None:
        try:
            if ids.conversation_id(channel, rest) == sender:
                return sender, "already namespaced"
        except ids.ConversationIdError:
            pass
    try:
        return ids.conversation_id(channel, sender), ""
    except ids.ConversationIdError as error:
        return None, str(error)


def plan(conn: Connection) -> MigrationReport:
    report = MigrationReport()
    events = Table("events", MetaData(), autoload_with=conn)
    by_sender = _channels_by_sender(conn, events)
    existing = {row[0] for row in conn.execute(select(events.c.sender_id).distinct())}
    for sender in sorted(existing):
        channels = by_sender.get(sender)
        if not channels:
            report.skipped[sender] = "no user messages, so no channel to go by"
            continue
        new, why = target_id(sender, channels)
        if new is None:
            report.skipped[sender] = why
        elif new != sender:
            if new in existing or new in report.renames.values():
                report.skipped[sender] = f"{new} already exists"
                continue
            report.renames[sender] = new
            if len(channels - {"unknown"}) > 1:
                report.mixed[sender] = sorted(channels)
    return report


def migrate_conversation_ids(engine: Engine, dry_run: bool = False) -> MigrationReport:
    """Plan and (unless dry_run) apply the renames in one transaction; returns what was (or would be) done."""
    with engine.begin() as conn:
        if "events" not in inspect(conn).get_table_names():
            return MigrationReport(skipped={"(database)": "no events table: nothing to migrate"})
        report = plan(conn)
        if dry_run or not report.renames:
            return report
        inspector = inspect(conn)
        metadata = MetaData()
        for table_name in inspector.get_table_names():
            columns = {column["name"] for column in inspector.get_columns(table_name)}
            names = [c for c in ID_COLUMNS if c in columns]
            if table_name == AUDIT_TABLE and AUDIT_COLUMN in columns:
                names.append(AUDIT_COLUMN)
            if not names:
                continue
            table = Table(table_name, metadata, autoload_with=conn)
            for name in names:
                column = table.c[name]
                changed = 0
                for old, new in report.renames.items():
                    changed += conn.execute(table.update().where(column == old).values({name: new})).rowcount or 0
                if changed:
                    report.rows[f"{table_name}.{name}"] = changed
        return report

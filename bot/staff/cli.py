"""`python -m bot staff ...`: accounts, retention, summaries, NLU labels, schema migrations, data-key rotation."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlalchemy.orm import Session


def _create_user(args: argparse.Namespace) -> int:
    from bot.staff.audit import record
    from bot.staff.auth import AccountError, create_user
    from bot.staff.db import staff_engine

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            print("error: the two passwords differ; nothing created", file=sys.stderr)
            return 2
    engine = staff_engine()
    with Session(bind=engine, future=True, expire_on_commit=False) as session:
        try:
            user = create_user(session, args.name, password, args.role, args.display_name)
            session.commit()
        except AccountError as error:
            print(f"error: {error}; nothing created", file=sys.stderr)
            return 2
    with engine.begin() as conn:
        record(conn, "cli", "create_user", args.name, f"role={args.role}")
    print(f"created staff user {user.username!r} with role {user.role}")
    return 0


def _retention(args: argparse.Namespace) -> int:
    from bot.staff.auth import load_secret_key
    from bot.staff.db import staff_engine
    from bot.staff.retention import apply_retention

    try:
        report = apply_retention(staff_engine(), load_secret_key(), days=args.days, dry_run=args.dry_run)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    verb = "would delete" if report.dry_run else "deleted"
    print(f"retention: conversations idle since before {report.cutoff:%Y-%m-%d %H:%M} UTC: "
          f"{verb} {report.conversations} conversations ({report.events} events)")
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from bot.staff.db import staff_engine
    from bot.staff.summaries import refresh_summaries

    print(f"summaries: folded in {refresh_summaries(staff_engine())} new events and escalations")
    return 0


def _export_nlu(args: argparse.Namespace) -> int:
    from bot.staff.audit import record
    from bot.staff.db import staff_engine
    from bot.staff.export import nlu_yaml

    with staff_engine().begin() as conn:
        body = nlu_yaml(conn)
        record(conn, "cli", "export_nlu", None, str(args.out or "stdout"))
    if args.out:
        Path(args.out).write_text(body)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(body)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from bot import migrations
    from bot.db import engine_for
    from bot.settings import database_url

    engine = engine_for(database_url())
    if args.status:
        print(f"database at revision {migrations.current(engine) or 'none'}; newest is {migrations.head()}")
        return 0
    if args.new:
        from alembic import command

        command.revision(migrations.alembic_config(engine), message=args.new, autogenerate=True)
        print("wrote a new revision under bot/migrations/versions/: read it, fix it, then commit it")
        return 0
    migrations.upgrade(engine, args.to)
    print(f"database at revision {migrations.current(engine)}")
    return 0


def _reencrypt(args: argparse.Namespace) -> int:
    from bot.escalations import reseal_contacts
    from bot.staff.db import staff_engine

    with staff_engine().begin() as conn:
        count = reseal_contacts(conn)
    print(f"contact details of {count} escalations sealed with the newest data key")
    return 0


def add_staff_commands(commands: argparse._SubParsersAction) -> None:
    """Add `staff` and its subcommands to the project's command line (bot/cli.py)."""
    staff = commands.add_parser("staff", help="staff console: accounts, retention, summaries, NLU export")
    sub = staff.add_subparsers(dest="staff_command", required=True)

    create = sub.add_parser("create-user", help="create a staff console account")
    create.add_argument("name")
    create.add_argument("--role", choices=["staff", "admin"], default="staff",
                        help="staff can review; admin can also export, erase and manage accounts")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.add_argument("--display-name", default=None,
                        help="the name a visitor sees when this person joins a chat (default: from the user name)")
    create.set_defaults(handler=_create_user)

    retention = sub.add_parser("retention", help="delete conversations idle longer than the retention period")
    retention.add_argument("--days", type=int, default=None,
                           help="override CLINIC_RETENTION_DAYS (default 365)")
    retention.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    retention.set_defaults(handler=_retention)

    refresh = sub.add_parser("refresh", help="bring the conversation summaries up to date")
    refresh.set_defaults(handler=_refresh)

    nlu = sub.add_parser("export-nlu", help="write the labelled misunderstood messages as Rasa NLU YAML")
    nlu.add_argument("--out", help="file to write (default: standard output)")
    nlu.set_defaults(handler=_export_nlu)

    migrate = sub.add_parser("migrate", help="bring the clinic's tables to the newest schema (Alembic)")
    migrate.add_argument("--to", default="head", help="a revision id (default: the newest)")
    migrate.add_argument("--status", action="store_true", help="only say which revision the database is at")
    migrate.add_argument("--new", metavar="MESSAGE", help="developers: write a new revision from the models")
    migrate.set_defaults(handler=_migrate)

    reencrypt = sub.add_parser("reencrypt", help="after adding a new first key to CLINIC_DATA_KEY, reseal "
                                                 "every stored contact detail with it")
    reencrypt.set_defaults(handler=_reencrypt)

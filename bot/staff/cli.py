"""`python -m bot staff ...`: create accounts, apply retention, refresh summaries, export NLU labels."""
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
            user = create_user(session, args.name, password, args.role)
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


def add_staff_commands(commands: argparse._SubParsersAction) -> None:
    """Add `staff` and its subcommands to the project's command line (bot/cli.py)."""
    staff = commands.add_parser("staff", help="staff console: accounts, retention, summaries, NLU export")
    sub = staff.add_subparsers(dest="staff_command", required=True)

    create = sub.add_parser("create-user", help="create a staff console account")
    create.add_argument("name")
    create.add_argument("--role", choices=["staff", "admin"], default="staff",
                        help="staff can review; admin can also export, erase and manage accounts")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
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

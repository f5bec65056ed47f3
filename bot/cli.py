"""The project's command line: `python -m bot build|train|run|...` (the Makefile's verbs call these)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from bot.paths import PROJECT_ROOT


def command_build(args: argparse.Namespace) -> int:
    from bot.build import build_all

    build_all(force=args.force)
    return 0


def command_spacy(args: argparse.Namespace) -> int:
    from bot.build import build_lock, build_spacy_pipeline

    with build_lock():
        build_spacy_pipeline(force=True)
    return 0


def command_kb(args: argparse.Namespace) -> int:
    from bot.build import build_knowledge_base, build_lock

    with build_lock():
        build_knowledge_base(force=args.force)
    return 0


def channel_name(key: str) -> str:
    """A credentials.yml key as people know it: 'telegram' for bot.channels.telegram.ClinicTelegramInput."""
    if "." not in key:
        return key
    from rasa.shared.utils.common import class_from_module_path

    try:
        return class_from_module_path(key).name()
    except (ImportError, AttributeError):
        return key


def command_run(args: argparse.Namespace) -> int:
    """Build what is stale, start every service, restart any that exits, print where to talk to the bot, and stop
    all on Ctrl-C. A service that keeps crashing right after its start is given up on (the rest keep running)."""
    from bot.build import build_all
    from bot.launcher import start_bot

    model = build_all()
    print("starting the action server, the Rasa server and the web app (first start takes ~30 s) ...")
    bot = start_bot(model, rasa_port=args.rasa_port, action_port=args.action_port, web_port=args.web_port)
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    def report(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    bot.supervise(report=report)
    try:
        seconds = bot.wait_until_ready()
        plan = bot.plan  # type: ignore[attr-defined]
        print(f"\nThe clinic bot is ready ({seconds:.0f} s). Talk to it:")
        print(f"  website and chat widget:  http://localhost:{bot.web_port}/")
        print(f"  staff console:            http://localhost:{bot.web_port}/staff/")
        print(f"  REST:  curl -s localhost:{bot.rasa_port}/webhooks/rest/webhook "
              "-d '{\"sender\": \"me\", \"message\": \"do heel lifts help?\"}'")
        print(f"  channels on:  {', '.join(channel_name(channel) for channel in plan.enabled)}")
        for channel, missing in plan.disabled.items():
            print(f"  channel off:  {channel_name(channel)} (set {', '.join(missing)} to switch it on; "
                  "see docs/channels.md)")
        print("Logs are in var/logs/. A part that stops is restarted (see docs/operations.md). "
              "Press Ctrl-C to stop everything.")
        shown = "ready"
        while not stopping:
            if all(service.gave_up for service in bot.services):
                report("every service was given up on; stopping")
                return 1
            status = bot.status()
            summary = status["status"] if not status["degraded"] else \
                "degraded: " + ", ".join(f"{name} {status['services'][name]['state']}" for name in status["degraded"])
            if summary != shown:
                report(f"status {summary}")
                shown = summary
            time.sleep(1.0)
        print("\nstopping ...")
        return 0
    finally:
        bot.stop()
        print("all processes stopped")


def command_runtime_config(args: argparse.Namespace) -> int:
    """Write the endpoints and credentials files the Rasa server starts with (for systemd's ExecStartPre)."""
    from pathlib import Path

    from bot.runtime_config import plan_channels, write_runtime_files

    plan = plan_channels()
    endpoints, credentials = write_runtime_files(args.action_port, plan, Path(args.out))
    print(f"wrote {endpoints} and {credentials} (channels on: {', '.join(plan.enabled) or 'none'})")
    return 0


def command_status(args: argparse.Namespace) -> int:
    """Readiness of a running bot (for a health check): each part ready or not; exit 1 if any is degraded."""
    from bot.launcher import probe_status

    status = probe_status(rasa_port=args.rasa_port, action_port=args.action_port,
                          web_port=args.web_port or None, only=args.only)
    for name, part in status["services"].items():
        print(f"{name:28} {part['state']}")
    print(f"bot: {status['status']}" + (f" ({', '.join(status['degraded'])})" if status["degraded"] else ""))
    return 0 if status["status"] == "ready" else 1


def command_migrate_conversation_ids(args: argparse.Namespace) -> int:
    """Rename conversations stored under bare ids to channel-namespaced ids (docs/channels.md)."""
    from bot.channels.migrate import migrate_conversation_ids
    from bot.db import engine_for
    from bot.settings import database_url

    report = migrate_conversation_ids(engine_for(args.database_url or database_url()), dry_run=args.dry_run)
    print(report.summary(applied=not args.dry_run))
    if args.dry_run:
        print("dry run: nothing was changed; run again without --dry-run to apply")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="The Achilles clinic bot.")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build the spaCy pipeline and knowledge base, train if stale")
    build.add_argument("--force", action="store_true", help="rebuild and retrain even if nothing changed")
    build.set_defaults(handler=command_build)

    commands.add_parser("spacy", help="rebuild the spaCy pipeline").set_defaults(handler=command_spacy)

    kb = commands.add_parser("kb", help="build the knowledge base from knowledge/sources and cards")
    kb.add_argument("--force", action="store_true")
    kb.set_defaults(handler=command_kb)

    run = commands.add_parser("run", help="build what is stale and start the whole bot on loopback")
    run.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    run.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    run.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", 8000)))
    run.set_defaults(handler=command_run)

    status = commands.add_parser("status", help="is each part of a running bot answering? (exit 1 if degraded)")
    status.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    status.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    status.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", 8000)),
                        help="0 when the bot runs without the website")
    status.add_argument("--only", choices=["actions", "rasa", "web"], help="check one part only")
    status.set_defaults(handler=command_status)

    runtime = commands.add_parser("runtime-config", help="write the Rasa server's endpoints and credentials files")
    runtime.add_argument("--action-port", type=int, default=int(os.environ.get("ACTION_PORT", 5055)))
    runtime.add_argument("--out", default=str(PROJECT_ROOT / "var"), help="folder to write them to")
    runtime.set_defaults(handler=command_runtime_config)

    migrate = commands.add_parser("migrate-conversation-ids",
                                  help="rename old bare conversation ids to channel-namespaced ids")
    migrate.add_argument("--dry-run", action="store_true", help="list the renames, change nothing")
    migrate.add_argument("--database-url", help="the database to migrate (default CLINIC_DATABASE_URL)")
    migrate.set_defaults(handler=command_migrate_conversation_ids)

    from bot.staff.cli import add_staff_commands

    add_staff_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.chdir(PROJECT_ROOT)
    args = build_parser().parse_args(argv)
    return args.handler(args)

"""Open an escalation: store it (committed first), then notify staff; later add consented contact details.

Notifiers run in a worker thread: the caller waits at most NOTIFY_WAIT seconds for them, so a hanging mail
server or webhook never holds up the reply (the record is already committed; a notification that finishes
later still marks it notified, one that fails leaves `notified` false for the staff console to show)."""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot import escalations
from bot.notify import Notifier, notify_staff
from bot.triage.detect import combine_with_earlier
from bot.triage.flags import CLASSIFIER_FLAG, level_rank

logger = logging.getLogger(__name__)

EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
NOTIFY_WAIT = 1.0  # seconds the reply waits for the staff notification before going on without it


@dataclass(frozen=True)
class EscalationResult:
    escalation_id: int | None   # None when the database could not store it
    level: str
    flags: list[str]
    stored: bool
    notified: bool
    new: bool


def merge_with_history(red_flags: dict, previous: Iterable[str]) -> tuple[str, list[str]]:
    """The message's level and flags (the NLU component's detection, from the parse data) with the composite
    flags that earlier turns complete (chest symptoms now + a calf sign in an earlier turn -> emergency).
    Works on the stored detection, so the action server never runs the matcher again."""
    level, flags = red_flags.get("level"), list(red_flags.get("flags") or [])
    previous = set(previous)
    if previous:
        try:
            combined_level, combined = combine_with_earlier(red_flags, previous)
        except Exception:  # noqa: BLE001 - the per-message result is still used
            logger.exception("combining red flags with earlier turns failed; using the message's own flags")
            combined_level, combined = None, []
        if combined:
            flags = list(dict.fromkeys(combined + [f for f in flags if f not in combined]))
            if level_rank(combined_level) < level_rank(level):
                level = combined_level
    return (level or "same_day"), (flags or [CLASSIFIER_FLAG])


def open_escalation(conversation_id: str, channel: str | None, level: str, flags: list[str], message: str,
                    open_escalation_id: int | None = None,
                    notifiers: Sequence[Notifier] | None = None,
                    recorded_by: str | None = None) -> EscalationResult:
    """Commit the escalation, then notify. A later, not more severe flag in the same conversation updates the
    open record without paging staff again. `recorded_by="rasa"`: the Rasa server records it because the action
    server failed (bot/server/action_timeout.py); the action server's next call adopts that record (one
    escalation, and the contact offer it could not make then). Never raises."""
    try:
        if recorded_by is None:
            adopted = _adopt_rasa_record(conversation_id, level, flags, message, notifiers)
            if adopted is not None:
                return adopted
        if open_escalation_id:
            existing = escalations.get_escalation(open_escalation_id)
            if existing is not None and level_rank(level) >= level_rank(existing.level):
                updated = escalations.add_flags(open_escalation_id, level, flags, message)
                return EscalationResult(open_escalation_id, existing.level, flags, True,
                                        bool(updated is not None and updated.notified), False)
        record = escalations.create_escalation(conversation_id, level, flags, message, channel, recorded_by)
    except Exception:  # noqa: BLE001 - the advice has been given; the person is told to call the clinic
        logger.exception("could not store the escalation for conversation %s (level %s, flags %s)",
                         conversation_id, level, flags)
        notify_in_background({"event": "store_failed", "id": None, "conversation_id": conversation_id,
                              "channel": channel, "level": level, "flags": flags, "message": message}, notifiers)
        return EscalationResult(None, level, flags, False, False, True)
    notified = notify_in_background(escalations.escalation_payload(record, "created"), notifiers, record.id)
    return EscalationResult(record.id, level, flags, True, notified, True)


def _adopt_rasa_record(conversation_id: str, level: str, flags: list[str], message: str,
                       notifiers: Sequence[Notifier] | None) -> EscalationResult | None:
    """Take over the conversation's open record the Rasa server made on its own; None when there is none.
    Counted as new (the offer to be contacted is made now); staff are paged if the Rasa server could not."""
    found = escalations.adoptable_escalation(conversation_id)
    if found is None:
        return None
    record = escalations.adopt(found.id, level, flags, message)
    if record is None:
        return None
    notified = bool(record.notified)
    if not notified:
        notified = notify_in_background(escalations.escalation_payload(record, "created"), notifiers, record.id)
    return EscalationResult(record.id, record.level, flags, True, notified, True)


def notify_in_background(payload: dict, notifiers: Sequence[Notifier] | None = None,
                         mark_notified: int | None = None, wait: float | None = None) -> bool:
    """Notify staff in a worker thread (marking escalation `mark_notified` as notified when it worked); wait at
    most `wait` seconds (NOTIFY_WAIT). True if it finished and delivered within the wait."""
    outcome: dict[str, bool] = {}

    def work() -> None:
        delivered = notify_staff(payload, notifiers)
        if delivered and mark_notified is not None:
            try:
                escalations.set_notified(mark_notified, True)
            except Exception:  # noqa: BLE001 - the record exists; only the notified mark is missing
                logger.exception("could not mark escalation %s as notified", mark_notified)
                delivered = False
        outcome["delivered"] = delivered

    thread = threading.Thread(target=work, name=f"notify-{payload.get('id')}", daemon=True)
    thread.start()
    thread.join(NOTIFY_WAIT if wait is None else wait)
    if thread.is_alive():
        logger.warning("staff notification for escalation %s still running after %.1f s; the reply goes on",
                       payload.get("id"), NOTIFY_WAIT if wait is None else wait)
    return outcome.get("delivered", False)


def save_contact(escalation_id: int | None, name: str | None, details: str | None, consent: bool,
                 conversation_id: str = "", level: str = "same_day", message: str = "",
                 notifiers: Sequence[Notifier] | None = None) -> bool:
    """Commit consent (and details only with consent). Returns False if nothing could be stored."""
    try:
        if escalation_id is None:  # the first attempt to store failed: try again now
            escalation_id = escalations.create_escalation(conversation_id, level, [CLASSIFIER_FLAG], message).id
        record = escalations.add_contact(escalation_id, name, details, consent)
    except Exception:  # noqa: BLE001 - the person is told we could not save, and given the phone number
        logger.exception("could not store contact details for escalation %s", escalation_id)
        return False
    if consent:
        notify_in_background(escalations.escalation_payload(record, "contact_added"), notifiers)
    return True


def normalise_contact(text: str | None) -> str | None:
    """A phone number (7-15 digits) or an email address in canonical form, or None if it is neither."""
    value = re.sub(r"<[^>]*>", "", (text or "")).strip().strip(".,;")
    if not value or len(value) > 254:
        return None
    if "@" in value:
        return value.lower() if EMAIL_RE.match(value) else None
    if not re.fullmatch(r"[+()\d][\d\s().\-]{5,24}", value):
        return None
    digits = re.sub(r"\D", "", value)
    if not 7 <= len(digits) <= 15:
        return None
    return ("+" if value.startswith("+") else "") + digits


def clean_name(text: str | None) -> str | None:
    """A plausible name: plain text, 1-100 characters, with at least one letter."""
    value = re.sub(r"<[^>]*>", "", (text or "")).strip()
    value = re.sub(r"\s+", " ", value)
    if not value or len(value) > 100 or not re.search(r"[^\W\d_]", value) or value.startswith("/"):
        return None
    return value

"""Staff notification for escalations: a structured log line always, plus SMTP email and/or an HTTP webhook."""
from __future__ import annotations

import json
import logging
import os
import smtplib
import urllib.request
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol

logger = logging.getLogger("clinic.notify")

DEFAULT_TIMEOUT = 5.0  # seconds; a slow mail server or webhook must not hold up the reply for long


PATIENT_FIELDS = ("message", "contact_name", "contact_details", "notes")


def _without_words(payload: dict) -> dict:
    """The payload without anything the patient wrote (a second guard: escalation_payload leaves them out)."""
    return {key: value for key, value in payload.items() if key not in PATIENT_FIELDS}


class Notifier(Protocol):
    """Something that tells the clinic's staff about an escalation. Raises on failure."""

    name: str

    def send(self, payload: dict) -> None: ...


class LogNotifier:
    """Always on: one JSON log line per notification, for log shipping and as the last record of it."""

    name = "log"

    def send(self, payload: dict) -> None:
        logger.warning("escalation %s", json.dumps(_without_words(payload), sort_keys=True, default=str))


class SmtpNotifier:
    """Email to the staff address (CLINIC_SMTP_HOST, CLINIC_STAFF_EMAIL, ...). No contact details in the mail."""

    name = "smtp"

    def __init__(self, host: str, to: str, port: int = 587, sender: str | None = None, user: str | None = None,
                 password: str | None = None, starttls: bool = True, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host, self.to, self.port = host, to, port
        self.sender = sender or to
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, payload: dict) -> None:
        message = EmailMessage()
        message["Subject"] = f"[{payload.get('level', '?')}] escalation #{payload.get('id')} ({payload.get('event')})"
        message["From"], message["To"] = self.sender, self.to
        message.set_content(
            "A conversation needs the team's attention. Open the staff console for the details.\n\n"
            + json.dumps(_without_words(payload), indent=2, default=str)
        )
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class WebhookNotifier:
    """POST the escalation as JSON to CLINIC_STAFF_WEBHOOK_URL (Slack/Teams relay, pager, ...)."""

    name = "webhook"

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT, token: str | None = None) -> None:
        self.url, self.timeout, self.token = url, timeout, token

    def send(self, payload: dict) -> None:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=json.dumps(_without_words(payload), default=str).encode(),
                                         headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - URL from config
            if response.status >= 300:
                raise RuntimeError(f"webhook {self.url} answered HTTP {response.status}")


def notifiers_from_env(env: dict | None = None) -> list[Notifier]:
    """The external notifiers configured in the environment (the log line is always added by notify_staff)."""
    env = os.environ if env is None else env
    timeout = float(env.get("CLINIC_NOTIFY_TIMEOUT") or DEFAULT_TIMEOUT)
    notifiers: list[Notifier] = []
    if env.get("CLINIC_SMTP_HOST"):
        if not env.get("CLINIC_STAFF_EMAIL"):
            logger.error("CLINIC_SMTP_HOST is set but CLINIC_STAFF_EMAIL is not: set it to receive escalation emails")
        else:
            notifiers.append(SmtpNotifier(
                host=env["CLINIC_SMTP_HOST"], to=env["CLINIC_STAFF_EMAIL"],
                port=int(env.get("CLINIC_SMTP_PORT") or 587), sender=env.get("CLINIC_SMTP_FROM"),
                user=env.get("CLINIC_SMTP_USER"), password=env.get("CLINIC_SMTP_PASSWORD"),
                starttls=(env.get("CLINIC_SMTP_STARTTLS", "true").lower() != "false"), timeout=timeout))
    if env.get("CLINIC_STAFF_WEBHOOK_URL"):
        notifiers.append(WebhookNotifier(env["CLINIC_STAFF_WEBHOOK_URL"], timeout=timeout,
                                         token=env.get("CLINIC_STAFF_WEBHOOK_TOKEN")))
    return notifiers


def notify_staff(payload: dict, notifiers: Sequence[Notifier] | None = None) -> bool:
    """Tell the staff. Never raises: errors are logged. True when at least one external channel delivered and
    none failed (the log line alone does not count: nobody is paged by it)."""
    try:
        LogNotifier().send(payload)
    except Exception:  # noqa: BLE001 - logging must not break the reply either
        pass
    try:
        channels = list(notifiers_from_env() if notifiers is None else notifiers)
    except Exception:  # noqa: BLE001 - a bad setting is logged, the escalation is already stored
        logger.exception("notifier configuration is invalid; check the CLINIC_SMTP_* / CLINIC_STAFF_* settings")
        return False
    delivered, failed = 0, 0
    for notifier in channels:
        try:
            notifier.send(payload)
            delivered += 1
        except Exception as error:  # noqa: BLE001 - a notifier crash must never lose the escalation
            failed += 1
            logger.error("staff notifier %s failed for escalation %s: %s: %s",
                         getattr(notifier, "name", type(notifier).__name__), payload.get("id"),
                         type(error).__name__, error)
    return delivered > 0 and failed == 0

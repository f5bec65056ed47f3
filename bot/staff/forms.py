"""Request validation for the console's forms and JSON bodies (WTForms). CSRF is checked by the console's guard.

Each form reads a form post, a query string or a JSON object; `present` says which fields the request
actually carried, so an update changes only what was sent.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import Form, IntegerField, PasswordField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, ValidationError

from bot.escalations import EDITABLE, STATUSES
from bot.staff.models import ROLES

DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class ConsoleForm(Form):
    """A WTForms form that also knows which of its fields were sent."""

    def __init__(self, formdata: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if formdata is not None and not hasattr(formdata, "getlist"):
            formdata = MultiDict(formdata)
        super().__init__(formdata=formdata, **kwargs)
        self.present = {name for name in self._fields if formdata is not None and name in formdata}

    @classmethod
    def from_json(cls, body: Any) -> ConsoleForm:
        """A JSON object whose values are text (or null); anything else fails validation with a clear error."""
        if not isinstance(body, dict):
            raise ValueError("send a JSON object")
        wrong = [k for k, v in body.items() if v is not None and not isinstance(v, str)]
        if wrong:
            raise ValueError(f"{', '.join(sorted(wrong))} must be text")
        return cls(MultiDict({k: v or "" for k, v in body.items()}))

    def sent(self) -> dict[str, Any]:
        return {name: self._fields[name].data for name in self.present}

    def first_error(self) -> str:
        for name, messages in self.errors.items():
            return f"{name}: {messages[0]}"
        return ""


class LoginForm(ConsoleForm):
    """Only parsed, never refused here: every failure must answer the same, whatever was wrong."""

    username = StringField(filters=[lambda v: (v or "")[:64]])
    password = PasswordField(filters=[lambda v: (v or "")[:1024]])


class EscalationUpdateForm(ConsoleForm):
    status = StringField(validators=[Optional(), AnyOf(STATUSES, message="must be one of " + ", ".join(STATUSES))])
    assignee = StringField(validators=[Length(max=EDITABLE["assignee"])])
    notes = StringField(validators=[Length(max=EDITABLE["notes"])])
    next = StringField(validators=[Optional(), Length(max=2000)])


def _day(label: str):
    def check(form: Form, field: StringField) -> None:
        if field.data and (not re.match(DAY_PATTERN, field.data) or _parse_day(field.data) is None):
            raise ValidationError(f"{label} must be a date written YYYY-MM-DD.")
    return check


def _parse_day(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None


class EscalationDatesForm(ConsoleForm):
    """The queue's date filter: escalations raised from date_from to date_to (inclusive UTC days)."""

    date_from = StringField(filters=[lambda v: (v or "").strip()], validators=[_day("From")])
    date_to = StringField(filters=[lambda v: (v or "").strip()], validators=[_day("To")])

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.start and self.end and self.start > self.end:
            self.date_from.errors = ["From must not be after To."]
            return False
        return True

    @property
    def start(self) -> datetime | None:
        return _parse_day(self.date_from.data) if self.date_from.data else None

    @property
    def end(self) -> datetime | None:
        return _parse_day(self.date_to.data) if self.date_to.data else None

    @property
    def error(self) -> str:
        return next((m[0] for m in self.errors.values() if m), "")

    def as_args(self) -> dict[str, str]:
        if self.error:
            return {}
        return {k: v for k, v in (("date_from", self.date_from.data), ("date_to", self.date_to.data)) if v}


class ReviewForm(ConsoleForm):
    sender_id = StringField(validators=[InputRequired(), Length(max=255)])
    reviewed = StringField(default="1", validators=[Optional(), AnyOf(["0", "1"])])
    note = StringField(filters=[lambda v: (v or "").strip()[:2000] or None])


class TagForm(ConsoleForm):
    sender_id = StringField(validators=[InputRequired(), Length(max=255)])
    tag = StringField(filters=[lambda v: " ".join((v or "").split()).lower()[:64]])
    op = StringField(validators=[Optional(), AnyOf(["add", "remove"])])


class LabelForm(ConsoleForm):
    event_id = IntegerField(validators=[InputRequired()])
    correct_intent = StringField(validators=[InputRequired()])
    back = StringField()

    def __init__(self, formdata: Mapping[str, Any] | None = None, intents: list[str] | None = None) -> None:
        super().__init__(formdata)
        self.correct_intent.validators = [InputRequired(), AnyOf(intents or [])]


class LabelDeleteForm(ConsoleForm):
    label_id = IntegerField(validators=[InputRequired()])
    back = StringField()


class EraseForm(ConsoleForm):
    sender_id = StringField(validators=[InputRequired(), Length(max=255)])
    confirm = StringField()


class UserCreateForm(ConsoleForm):
    """The account rules themselves (name characters, password length) live in bot.staff.auth."""

    username = StringField(filters=[lambda v: (v or "").strip()], validators=[InputRequired(), Length(max=64)])
    password = PasswordField(validators=[InputRequired(), Length(max=1024)])
    role = StringField(default="staff", validators=[AnyOf(ROLES)])
    display_name = StringField(validators=[Optional(), Length(max=64)])


USER_ACTIONS = ("unlock", "deactivate", "activate", "role", "password", "display_name")


class UserActionForm(ConsoleForm):
    action = StringField(validators=[AnyOf(USER_ACTIONS, message="unknown action")])
    role = StringField(validators=[Optional(), AnyOf(ROLES, message="unknown role")])
    password = PasswordField(validators=[Optional(), Length(max=1024)])
    display_name = StringField(validators=[Optional(), Length(max=64)])

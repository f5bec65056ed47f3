"""Check the contact details a person types: a name, a phone number (stored in E.164) or an email address.

Phone numbers are read with `phonenumbers` (Google's libphonenumber metadata) in the clinic's region from
clinic.yml, so "07700 900123" in a GB clinic becomes "+447700900123"; a number starting with + or 00 may be
from any country. Email addresses get a careful syntax check (RFC 5321 lengths, dot-atom local part, an IDNA
domain of at least two labels with an alphabetic top-level label); there is no DNS lookup (nothing leaves
loopback), so a well-formed address with a typo in it still passes: the bot reads the details back.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import idna
import phonenumbers

PHONE_CHARS = re.compile(r"[+\d\s().\-/]{3,40}")
LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
DOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
TOP_LABEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
MAX_NAME_CHARS = 100


@dataclass(frozen=True)
class ContactCheck:
    value: str | None     # the canonical form (E.164 phone, lower-case email), None if not acceptable
    kind: str             # "phone", "email" or "unknown" (what the text looked like)


def _plain(text: str | None) -> str:
    """NFKC-normalised, markup and control characters removed, spaces collapsed."""
    value = unicodedata.normalize("NFKC", text or "")
    value = re.sub(r"<[^>]*>", "", value)
    value = "".join(c for c in value if unicodedata.category(c)[0] != "C" or c in " \t")
    return " ".join(value.split())


def clinic_region() -> str | None:
    from bot.clinic_profile import clinic_profile

    return clinic_profile().region


def normalise_phone(text: str, region: str | None) -> str | None:
    """The number in E.164 if phonenumbers finds it possible for its country, else None.

    "Possible" (the right length for the country) rather than "valid" (an assigned range): Ofcom's ranges
    kept for drama and documentation, such as 07700 900xxx, are not assigned, and a clinic tests with them.
    """
    value = text.strip().rstrip(".,;")
    if not PHONE_CHARS.fullmatch(value) or sum(c.isdigit() for c in value) < 5:
        return None
    try:
        number = phonenumbers.parse(value, None if value.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:  # too short, too long, or a local-only number
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(text: str) -> str | None:
    """The address in lower case (domain in Unicode form) if it is well formed, else None."""
    value = text.strip().rstrip(".,;").lower()
    if value.startswith("mailto:"):
        value = value[len("mailto:"):]
    if value.count("@") != 1 or len(value) > 254:
        return None
    local, domain = value.split("@")
    if not 1 <= len(local) <= 64 or not LOCAL_PART.fullmatch(local):
        return None
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2 or not all(DOMAIN_LABEL.fullmatch(label) for label in labels):
        return None
    if not TOP_LABEL.fullmatch(labels[-1]):
        return None
    return f"{local}@{idna.decode(ascii_domain)}"


def check_contact(text: str | None, region: str | None = None) -> ContactCheck:
    """A phone number or an email address in canonical form (region: the clinic's, from clinic.yml)."""
    value = _plain(text)
    if not value:
        return ContactCheck(None, "unknown")
    if "@" in value:
        return ContactCheck(normalise_email(value), "email")
    if sum(c.isdigit() for c in value) >= 3 and not re.search(r"[^\W\d_]", value):
        return ContactCheck(normalise_phone(value, region if region is not None else clinic_region()), "phone")
    return ContactCheck(None, "unknown")


def clean_name(text: str | None) -> str | None:
    """A plausible name: plain text, 1-100 characters, with a letter; not a command, phone number or email."""
    value = _plain(text)
    if not value or len(value) > MAX_NAME_CHARS or value.startswith("/") or "@" in value:
        return None
    if not re.search(r"[^\W\d_]", value) or sum(c.isdigit() for c in value) > 3:
        return None
    return value


def example_phone(region: str | None) -> str:
    """A number to show in a re-ask, written the way people in the clinic's region write it."""
    example = phonenumbers.example_number_for_type(region or "GB", phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return "+44 7700 900123"
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)

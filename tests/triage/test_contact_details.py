"""Contact details people type in the contact form: phones read in the clinic's region and stored in E.164,
emails checked with care, names kept plain, and a re-ask that says what was wrong."""
from __future__ import annotations

import asyncio

import pytest

from actions.escalation import ValidateContactForm
from bot.clinic_profile import _load, clinic_profile
from bot.contact_details import check_contact, clean_name, normalise_email, normalise_phone
from tests.triage.conftest import make_tracker

FORM = {"slots": {}, "forms": {"contact_form": {"required_slots": ["contact_name", "contact_details",
                                                                  "contact_consent"]}}}


def validate(slot: str, value: str, dispatcher) -> dict:
    tracker = make_tracker(text=value, intent="inform", red_flags={}, slots={"requested_slot": slot, slot: value},
                           active_loop={"name": "contact_form"})
    tracker.events.append({"event": "slot", "name": slot, "value": value})
    events = asyncio.run(ValidateContactForm().run(dispatcher, tracker, FORM))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_the_clinic_profile_names_its_region():
    assert clinic_profile().region == "GB"


def test_an_unknown_region_in_clinic_yml_is_a_clear_error(tmp_path):
    from bot.clinic_profile import profile_path

    text = profile_path().read_text(encoding="utf-8").replace('region: "GB"', 'region: "Narnia"')
    bad = tmp_path / "clinic.yml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="region 'Narnia'"):
        _load(bad)


@pytest.mark.parametrize("typed,stored", [
    ("07700 900123", "+447700900123"),       # national format, read in the clinic's region (GB)
    ("(020) 7946 0958", "+442079460958"),
    ("0044 7700 900123", "+447700900123"),   # the international prefix
    ("+1 202 555 0143", "+12025550143"),     # another country, written with +
    ("+353 85 123 4567", "+353851234567"),
])
def test_phone_numbers_are_stored_in_e164(typed, stored, dispatcher):
    assert validate("contact_details", typed, dispatcher)["contact_details"] == stored
    assert dispatcher.messages == []


def test_the_region_decides_how_a_national_number_is_read():
    assert normalise_phone("(202) 555-0143", "US") == "+12025550143"
    assert normalise_phone("(202) 555-0143", "GB") != "+12025550143"
    assert normalise_phone("07700 900123", None) is None  # without a region only +-numbers can be read


@pytest.mark.parametrize("typed", ["077009", "12345", "+44 7700 900123 4567 89", "0" * 30])
def test_impossible_phone_numbers_are_asked_again_as_phone_numbers(typed, dispatcher):
    assert validate("contact_details", typed, dispatcher)["contact_details"] is None
    reply = dispatcher.messages[0]["text"]
    assert "phone number doesn't look complete" in reply and "area code" in reply and "stop" in reply


@pytest.mark.parametrize("typed,stored", [
    ("Sam@Example.COM", "sam@example.com"),
    ("sam.runner+clinic@mail.example.co.uk", "sam.runner+clinic@mail.example.co.uk"),
    ("mailto:sam@example.org.", "sam@example.org"),
    ("zoe@bücher.example", "zoe@bücher.example"),   # an internationalised domain (IDNA)
])
def test_good_email_addresses(typed, stored):
    assert check_contact(typed, "GB").value == stored


@pytest.mark.parametrize("typed", ["a@b", "sam@@example.com", "sam..runner@example.com", ".sam@example.com",
                                   "sam@-example.com", "sam@example.c0m", "sam@example", "sam@exa mple.com",
                                   "s\"am@example.com", "@example.com", "sam@", "x" * 65 + "@example.com",
                                   "sam@" + "a" * 64 + ".com", "sam@[127.0.0.1]"])
def test_bad_email_addresses_are_asked_again_as_emails(typed, dispatcher):
    assert normalise_email(typed) is None
    assert validate("contact_details", typed, dispatcher)["contact_details"] is None
    reply = dispatcher.messages[0]["text"]
    assert "email address doesn't look right" in reply and "one @" in reply


@pytest.mark.parametrize("typed", ["call me maybe", "tomorrow", "😀😀😀", "<b></b>"])
def test_neither_phone_nor_email_gets_the_general_re_ask_with_the_regions_example(typed, dispatcher):
    assert validate("contact_details", typed, dispatcher)["contact_details"] is None
    reply = dispatcher.messages[0]["text"]
    assert "doesn't look like a phone number or an email address" in reply
    assert "07" in reply and "name@example.com" in reply  # a GB-style example number and an email


@pytest.mark.parametrize("typed,kept", [("  Sam   Runner ", "Sam Runner"), ("Zoë O'Brien", "Zoë O'Brien"),
                                        ("<b>Ana</b>", "Ana"), ("Ｓａｍ", "Sam")])
def test_names_are_kept_plain(typed, kept):
    assert clean_name(typed) == kept


@pytest.mark.parametrize("typed", ["07700900123", "sam@example.com", "/affirm", "12345", "x" * 101, "\u0000\u0007"])
def test_a_number_email_or_command_is_not_a_name(typed, dispatcher):
    assert clean_name(typed) is None
    assert validate("contact_name", typed, dispatcher)["contact_name"] is None
    assert "didn't catch a name" in dispatcher.messages[0]["text"]

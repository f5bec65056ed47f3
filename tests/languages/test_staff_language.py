"""The staff console shows each conversation's language (from the logged parse data) and filters by it."""
from __future__ import annotations

from bot.staff.db import staff_engine
from bot.staff.summaries import refresh_summaries
from tests.staff import events as ev
from tests.staff.conftest import app, as_staff, cheap_password_hashing, staff_db  # noqa: F401 - fixtures


def _user(text: str, language: str) -> dict:
    event = ev.user(text, "ask_recovery_time")
    event["parse_data"]["language"] = language
    event["parse_data"]["language_detection"] = {"language": language, "supported": True}
    return event


def _seed(database_url: str) -> None:
    engine = staff_engine(database_url)
    ev.insert(engine, "hk-visitor", [ev.action("action_session_start"), _user("腳踭痛咗成個月", "zh-Hant"),
                                     _user("好的", "zh-Hant")])
    ev.insert(engine, "cn-visitor", [ev.action("action_session_start"), _user("脚后跟疼了一个月", "zh-Hans")])
    ev.insert(engine, "es-visitor", [ev.action("action_session_start"), _user("me duele el talón", "es")])
    ev.insert(engine, "en-visitor", [ev.action("action_session_start"), _user("my heel hurts", "en"),
                                     _user("07700 900123", "und")])
    refresh_summaries(engine)


def _listed(client, **args) -> dict[str, list[str]]:
    data = client.get("/staff/api/conversations", query_string=args).get_json()
    return {row["sender_id"]: row["languages"] for row in data["conversations"]}


def test_the_list_filters_and_shows_the_language(as_staff, staff_db):  # noqa: F811 - fixtures
    _seed(staff_db)
    client = as_staff.client
    assert set(_listed(client, language="zh-Hant")) == {"hk-visitor"}
    assert set(_listed(client, language="zh-Hans")) == {"cn-visitor"}
    assert set(_listed(client, language="es")) == {"es-visitor"}
    everyone = _listed(client)
    assert everyone["hk-visitor"] == ["zh-Hant"] and everyone["en-visitor"] == ["en"]  # "und" is not shown
    assert set(_listed(client, language="xx")) == set(everyone)  # an unknown code filters nothing
    page = as_staff.get("/staff/conversations", query_string={"language": "es"}).get_data(as_text=True)
    assert "/staff/transcript/es-visitor" in page and "/staff/transcript/hk-visitor" not in page
    assert 'name="language"' in page and "繁體中文" in page

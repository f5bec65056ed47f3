"""credentials.yml: without secrets only the website and REST are on; with them every connector builds."""
from __future__ import annotations

from rasa.shared.utils.common import class_from_module_path

from bot.runtime_config import plan_channels

CHANNEL_ENV = {
    "TELEGRAM_TOKEN": "123456789:AAF-token", "TELEGRAM_VERIFY": "clinic_bot",
    "TELEGRAM_WEBHOOK_URL": "https://clinic.example.org/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "abc_DEF-123",
    "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_WHATSAPP_NUMBER": "+14155238886",
    "TWILIO_WEBHOOK_URL": "https://clinic.example.org/webhooks/twilio/webhook",
    "WHATSAPP_ACCESS_TOKEN": "g", "WHATSAPP_PHONE_NUMBER_ID": "1", "WHATSAPP_VERIFY_TOKEN": "v",
    "WHATSAPP_APP_SECRET": "s",
}


def test_without_secrets_only_the_website_and_rest_are_on():
    plan = plan_channels(environ={})
    assert {"bot.channels.rest.ClinicRestInput", "bot.channels.socketio.ClinicSocketIOInput"} <= set(plan.enabled)
    assert not {name for name in plan.enabled if "telegram" in name or "whatsapp" in name}
    assert plan.disabled["bot.channels.telegram.ClinicTelegramInput"] == [
        "TELEGRAM_SECRET_TOKEN", "TELEGRAM_TOKEN", "TELEGRAM_VERIFY", "TELEGRAM_WEBHOOK_URL"]
    assert "TWILIO_WEBHOOK_URL" in plan.disabled["bot.channels.twilio_whatsapp.ClinicTwilioWhatsAppInput"]
    assert "WHATSAPP_APP_SECRET" in plan.disabled["bot.channels.whatsapp_cloud.WhatsAppCloudInput"]


def test_with_secrets_every_connector_builds_from_its_credentials():
    plan = plan_channels(environ=CHANNEL_ENV)
    assert not plan.disabled
    names = set()
    for path, credentials in plan.credentials.items():
        channel_class = class_from_module_path(path)
        channel = channel_class.from_credentials(credentials)
        names.add(channel.name())
    assert {"rest", "socketio", "telegram", "twilio", "whatsapp"} <= names

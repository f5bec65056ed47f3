"""Create the Flask app that serves the demo page (/) and the staff console (/staff/)."""
from __future__ import annotations

from flask import Flask

from bot.settings import settings


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        RASA_URL=settings().rasa_url,
    )
    if config:
        app.config.update(config)

    from bot.staff import init_staff

    init_staff(app)  # /staff/: secret key (CLINIC_SECRET_KEY or var/secret_key), cookies, CSRF, blueprint

    from bot.web.site import site

    app.register_blueprint(site)  # the demo page with the chat widget (/)

    @app.get("/healthz")
    def healthz() -> tuple[str, int]:
        return "ok", 200

    return app

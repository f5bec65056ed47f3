"""The /staff/ parent blueprint: cookie and CSRF settings, the login guard, security headers, the areas."""
from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from bot.settings import settings
from bot.staff import auth
from bot.staff.auth import load_secret_key
from bot.staff.blueprints import AREAS
from bot.staff.throttle import init_limiter, limit_login
from bot.staff.web import close_db_session, csrf, current_user, wants_json

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static",
               static_url_path="/static")

# The only endpoints reachable without a login (the login form itself and its stylesheet).
PUBLIC_ENDPOINTS = {"staff.auth.login", "staff.static"}
NAV: list[tuple[str, str, bool]] = []  # (label, endpoint, admin only), from the areas' NAV


def _register_areas() -> None:
    for name in AREAS:
        module = importlib.import_module(name)
        bp.register_blueprint(module.bp)
        if getattr(module, "NAV", None):
            NAV.append(module.NAV)


_register_areas()


def init_app(app: Flask) -> None:
    """Secret key, cookie settings, CSRF, login throttling, then the blueprint with every area."""
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = load_secret_key()
    # Flask's defaults are replaced (not setdefault: Flask has already set them); a value given in
    # create_app(config) other than Flask's default is kept.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        app.config["SESSION_COOKIE_SAMESITE"] = settings().cookie_samesite  # Lax or Strict
    if not app.config.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = settings().secure_cookies
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):  # Flask's default
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=settings().staff_session_hours)
    # CSRF is checked by the console itself (below), so other parts of the web app keep their own rules.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    csrf.init_app(app)
    trust_proxies(app)
    init_limiter(app)
    auth.warm_up()  # the first unknown-name login must not be the one that also builds the dummy hash
    app.register_blueprint(bp)
    limit_login(app)


def trust_proxies(app: Flask) -> None:
    """CLINIC_PROXY_HOPS (default 0): how many reverse proxies in front of the web app set X-Forwarded-For.
    0 uses the connecting address and ignores forwarded headers (they are forgeable); behind nginx, set 1,
    or the per-address login limit would count every visitor as the proxy."""
    hops = settings().proxy_hops
    if hops and not getattr(app.wsgi_app, "clinic_proxy_fix", False):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
        app.wsgi_app.clinic_proxy_fix = True  # type: ignore[attr-defined]


@bp.before_request
def guard() -> Any:
    """Login on every route but the login form; CSRF on every state-changing request."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method == "POST":
            csrf.protect()
        return None
    user = current_user()
    if user is None:
        if wants_json():
            return jsonify(error="login required"), 401
        return redirect(url_for("staff.auth.login", next=request.full_path))
    g.user = user
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


@bp.teardown_app_request
def _close_db(_error: BaseException | None) -> None:
    close_db_session()


@bp.after_request
def security_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # patient data: never cached by the browser or a proxy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # sender ids appear in console URLs
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    return response


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> Any:
    if wants_json():
        return jsonify(error=f"CSRF check failed: {error.description}"), 400
    return render_template("staff/error.html", message=f"CSRF check failed: {error.description}. "
                           "Reload the page and try again."), 400


@bp.app_context_processor
def staff_menu() -> dict[str, Any]:
    return {"staff_nav": NAV}


@bp.app_template_filter("pct")
def pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


@bp.app_template_filter("visitor_name")
def visitor_name(user: Any) -> str:
    from bot.staff.handoff import visitor_name as name

    return name(user)


@bp.app_template_filter("utc")
def utc(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else (value or "")

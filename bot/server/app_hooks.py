"""A place for start-up patches to configure the Sanic app Rasa builds, knowing how the server was started.

What Rasa does: `rasa.core.run.serve_application(interface, port, cors, enable_api, ...)` builds the Sanic
app with `configure_app(...)` and runs it; nothing in between is a public hook.

What the patches need: the app (to add middleware, error handlers and config) and the server's arguments
(the interface it listens on, whether the HTTP API is on, the channels). `install()` wraps both functions
once: `serve_application` records its arguments in `SERVER` and runs every `on_start` check first (a check
raises SystemExit with a message to refuse to start); `configure_app` then passes the finished app to every
`on_app` callback, in the order the patches registered them.

Test: tests/security/ (every patch using this runs on the real server there).
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

# The arguments of the running server's serve_application (interface, port, enable_api, auth_token, ...).
SERVER: dict[str, Any] = {}
_start_checks: list[Callable[[dict[str, Any]], None]] = []
_app_callbacks: list[Callable[[Any, dict[str, Any]], None]] = []
_installed = False


def on_start(check: Callable[[dict[str, Any]], None]) -> None:
    """Run `check(server_arguments)` before the server is built; it raises SystemExit to refuse to start."""
    install()
    if check not in _start_checks:
        _start_checks.append(check)


def on_app(callback: Callable[[Any, dict[str, Any]], None]) -> None:
    """Call `callback(app, server_arguments)` once Rasa has built its Sanic app (channels registered)."""
    install()
    if callback not in _app_callbacks:
        _app_callbacks.append(callback)


def install() -> None:
    """Wrap rasa.core.run.serve_application and configure_app (once)."""
    global _installed
    if _installed:
        return
    import rasa.core.run

    original_serve = rasa.core.run.serve_application
    original_configure = rasa.core.run.configure_app
    serve_signature = inspect.signature(original_serve)
    configure_signature = inspect.signature(original_configure)

    @functools.wraps(original_serve)
    def serve_application(*args: Any, **kwargs: Any) -> Any:
        bound = serve_signature.bind(*args, **kwargs)
        bound.apply_defaults()
        SERVER.clear()
        SERVER.update(bound.arguments)
        for check in _start_checks:
            check(SERVER)
        return original_serve(*args, **kwargs)

    @functools.wraps(original_configure)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original_configure(*args, **kwargs)
        bound = configure_signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = {**bound.arguments, **SERVER}
        for callback in _app_callbacks:
            callback(app, arguments)
        return app

    rasa.core.run.serve_application = serve_application
    rasa.core.run.configure_app = configure_app
    _installed = True

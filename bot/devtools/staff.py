"""A staff console client for Flask's test client that keeps its CSRF token, and a login helper."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask.testing import FlaskClient

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class StaffClient:
    """A test client that knows its CSRF token."""

    client: FlaskClient
    token: str = ""

    def get(self, *args, **kwargs):
        response = self.client.get(*args, **kwargs)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        match = CSRF_META.search(html)
        if match:
            self.token = match.group(1)
        return response

    def post(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kwargs)

    def post_json(self, url: str, payload: dict, **kwargs):
        return self.client.post(url, json=payload, headers={"X-CSRFToken": self.token}, **kwargs)


def login(client: FlaskClient, username: str, password: str) -> StaffClient:
    """Log in through the login form; raise AssertionError with the page if it did not redirect."""
    staff = StaffClient(client)
    staff.get("/staff/login")
    response = staff.post("/staff/login", {"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    staff.get("/staff/conversations")  # a fresh CSRF token for the new session
    return staff

"""Fake platform APIs on loopback (Telegram Bot API, Twilio, Meta Graph) recording every request."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.body or b"{}")

    @property
    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode(), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}


@dataclass
class FakeAPI:
    """One HTTP server in a thread; `answer(path)` decides what it replies (JSON, status 200 by default)."""

    kind: str  # telegram | twilio | graph
    requests: list[Recorded] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str, body: bytes) -> tuple[int, dict]:
        if self.kind == "telegram":
            return 200, {"ok": True, "result": True if path.endswith(("setWebhook", "answerCallbackQuery"))
                         else {"message_id": len(self.requests), "date": int(time.time())}}
        if self.kind == "twilio":
            return 201, {"sid": f"SM{len(self.requests):032d}", "status": "queued"}
        return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{len(self.requests)}"}]}

    def start(self) -> FakeAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append(Recorded("POST", self.path, dict(self.headers), body))
                status, payload = fake.answer(urlsplit(self.path).path, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def calls(self, path_suffix: str = "") -> list[Recorded]:
        return [r for r in list(self.requests) if urlsplit(r.path).path.endswith(path_suffix)]

    def wait_for(self, predicate, timeout: float = 60.0) -> list[Recorded]:
        """Wait until predicate(requests) is true ; return what it returned."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate(list(self.requests))
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"fake {self.kind} API: condition not met in {timeout:.0f} s; got "
                             f"{[(r.path, r.body[:200]) for r in self.requests]}")

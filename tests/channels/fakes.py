"""Fake platform APIs on loopback (Telegram Bot API, Twilio, Meta Graph) recording every request."""
from __future__ import annotations

import itertools
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
    status: int = 0  # what the fake answered

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
    # Scripted answers, used before the normal one: (path suffix, status, JSON body, headers), first first.
    script: list[tuple[str, int, dict, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, path_suffix: str, *answers: tuple[int, dict] | tuple[int, dict, dict[str, str]]) -> None:
        """Answer the next calls to a path ending in `path_suffix` with these (status, body[, headers])."""
        with self.lock:
            for answer in answers:
                status, body, headers = (*answer, {})[:3]
                self.script.append((path_suffix, status, body, headers))

    def too_many_requests(self, retry_after: int = 1) -> tuple[int, dict, dict[str, str]]:
        """The platform's 429: Telegram says retry_after in its body, Twilio and Meta in Retry-After."""
        if self.kind == "telegram":
            return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after "
                         f"{retry_after}", "parameters": {"retry_after": retry_after}}, {}
        return 429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": str(retry_after)}

    def server_error(self, status: int = 503) -> tuple[int, dict]:
        return status, {"ok": False, "error_code": status, "description": "Service Unavailable"}

    def scripted(self, path: str) -> tuple[int, dict, dict[str, str]] | None:
        with self.lock:
            for index, (suffix, status, body, headers) in enumerate(self.script):
                if path.endswith(suffix):
                    del self.script[index]
                    return status, body, headers
        return None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, path: str, body: bytes) -> tuple[int, dict]:
        if self.kind == "telegram":
            return 200, {"ok": True, "result": True if path.endswith(("setWebhook", "answerCallbackQuery"))
                         else {"message_id": next(self.ids), "date": int(time.time())}}
        if self.kind == "twilio":
            return 201, {"sid": f"SM{next(self.ids):032d}", "status": "queued"}
        return 200, {"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{next(self.ids)}"}]}

    def start(self) -> FakeAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorded = Recorded("POST", self.path, dict(self.headers), body)
                path = urlsplit(self.path).path
                headers: dict[str, str] = {}
                scripted = fake.scripted(path)
                if scripted is not None:
                    status, payload, headers = scripted
                else:
                    status, payload = fake.answer(path, body)
                recorded.status = status
                fake.requests.append(recorded)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
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

    def answered(self, path_suffix: str = "") -> list[Recorded]:
        """Calls to the path that got the normal (successful) answer, i.e. not a scripted failure."""
        return [r for r in self.calls(path_suffix) if r.status < 400]

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

"""An asyncio + aiohttp load generator for REST bots: N conversations, C at a time, live progress on stderr."""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from bot.devtools.rest import new_sender, say_async


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (share 0.95 = p95); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@dataclass
class LoadResult:
    """What one load run measured: every latency (seconds, in send order per conversation) and every error."""

    label: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    per_position: dict[int, list[float]] = field(default_factory=dict)  # message number (1-based) -> latencies
    silent: int = 0  # answered 200 with no message at all

    @property
    def messages(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else float("nan")

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95)

    def merge(self, other: LoadResult) -> LoadResult:
        """Two runs of the same kind as one (rates add up over the summed time)."""
        merged = LoadResult(self.label, self.concurrency, self.seconds + other.seconds,
                            self.latencies + other.latencies, self.errors + other.errors,
                            silent=self.silent + other.silent)
        for source in (self.per_position, other.per_position):
            for position, values in source.items():
                merged.per_position.setdefault(position, []).extend(values)
        return merged

    def window(self, first: int, last: int) -> list[float]:
        """Latencies of messages first..last (1-based, inclusive) of each conversation."""
        return [v for position in range(first, last + 1) for v in self.per_position.get(position, [])]


class Progress:
    """One self-updating line on stderr: label, messages done of total, errors, elapsed seconds."""

    def __init__(self, label: str, total: int, stream=sys.stderr):
        self.label, self.total, self.stream = label, total, stream
        self.done = self.errors = 0
        self.start = time.monotonic()
        self.tty = stream.isatty()
        self._last = 0.0

    def tick(self, error: bool) -> None:
        self.done += 1
        self.errors += int(error)
        now = time.monotonic()
        if self.done == self.total or now - self._last >= (0.25 if self.tty else 5.0):
            self._last = now
            line = (f"  {self.label}: {self.done}/{self.total} messages, {self.errors} errors, "
                    f"{now - self.start:.0f} s")
            self.stream.write(("\r" + line.ljust(78)) if self.tty else line + "\n")
            if self.done == self.total and self.tty:
                self.stream.write("\n")
            self.stream.flush()


async def _run(rasa_url: str, scripts: list[list[str]], concurrency: int, label: str,
               timeout: float) -> LoadResult:
    result = LoadResult(label, concurrency)
    progress = Progress(label, sum(len(script) for script in scripts))
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for script in scripts:
        queue.put_nowait(script)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            script = queue.get_nowait()
            sender = new_sender(f"bench-{label.split()[0]}")
            for position, message in enumerate(script, start=1):
                reply = await say_async(session, rasa_url, sender, message, timeout=timeout)
                result.latencies.append(reply.seconds)
                result.per_position.setdefault(position, []).append(reply.seconds)
                if reply.error:
                    result.errors.append(reply.error)
                elif not reply.replies:
                    result.silent += 1
                progress.tick(bool(reply.error))

    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        result.seconds = time.perf_counter() - start
    return result


def run_load(rasa_url: str, scripts: list[list[str]], concurrency: int, label: str,
             timeout: float = 60.0) -> LoadResult:
    """Send every script (one list of messages per conversation), `concurrency` conversations at a time."""
    return asyncio.run(_run(rasa_url, scripts, concurrency, label, timeout))


def conversations(messages: list[str], count: int, length: int) -> list[list[str]]:
    """`count` conversations of `length` messages, each starting at a different point of `messages`."""
    return [[messages[(start + i) % len(messages)] for i in range(length)] for start in range(count)]


def wait_for_first_reply(rasa_url: str, message: str, started: float, timeout: float = 900.0,
                         sleep: Callable[[float], None] = time.sleep) -> float:
    """Seconds from `started` (time.monotonic) until the bot answers a real message."""
    import requests

    from bot.devtools.rest import say

    while True:
        try:
            if say(rasa_url, new_sender("bench-ready"), message, timeout=30):
                return time.monotonic() - started
        except requests.RequestException:  # not up yet: connection refused, 5xx while the model loads
            pass
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{rasa_url} gave no reply within {timeout:.0f} s")
        sleep(0.25)

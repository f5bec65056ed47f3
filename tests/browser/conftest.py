"""Headless Chromium (Debian's, driven by Playwright) for the browser tests: one browser, a fresh profile each."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CLINIC_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser_context_factory() -> Iterator:
    """new_context(**playwright_options) -> a persistent context in a new, empty profile; all closed at the end.

    Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while it is
    open, and later tests that call asyncio.run() (tracker store, Rasa agent) would fail beside it.
    """
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/system_deps.sh` (make test does it)")
    from playwright.sync_api import sync_playwright

    profiles: list[str] = []
    contexts = []
    with sync_playwright() as playwright:
        def new_context(**options):
            profile = tempfile.mkdtemp(prefix="clinic-chromium-")
            profiles.append(profile)
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **options)
            contexts.append(context)
            return context

        yield new_context
        for context in contexts:
            context.close()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)

"""A report folder served by a real static HTTP server on 127.0.0.1 and opened in the system's
headless Chromium (Debian's `chromium`, driven by playwright; browsers are never downloaded).
Shared by the report tests and `benchmarks/report_build.py`."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MISSING = f"no Chromium at {CHROMIUM}: `.ci/install_browser` installs Debian's chromium"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """`python -m http.server -d FOLDER`, in a thread: yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (playwright's Browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Problems:
    """What went wrong while a page loaded: console errors, failed or refused requests."""

    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


def open_page(browser: Any, url: str, *, width: int = 1280) -> tuple[Any, Problems]:
    """A new page at `url`, loaded until the network is idle, and what went wrong so far (the
    lists keep filling while the page lives)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems = Problems()
    page.on("console", lambda m: problems.console_errors.append(m.text)
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.console_errors.append(str(e)))
    page.on("requestfailed", lambda r: problems.failed_requests.append(r.url))
    page.on("response", lambda r: problems.failed_requests.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page, problems

"""Printing route sheets to PDF with the Chromium-family browser already on the machine.

The sheets are HTML; a browser prints them exactly as they look on screen, fast (a
month of sheets in seconds) and with the system's fonts, Chinese included. Playwright
drives the browser; none is downloaded. Set ``ROUTEPLAN_BROWSER`` to a Chromium,
Chrome or Edge executable if it is not found on the ``PATH``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")
#: Flags for a headless run on a machine without a display, a sandbox-capable kernel or a network.
BROWSER_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_browser() -> str | None:
    """The browser executable to print with, or None when there is none."""
    named = os.environ.get("ROUTEPLAN_BROWSER")
    if named:
        return named if Path(named).exists() else shutil.which(named)
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdfs(jobs: list[tuple[Path, Path]], browser: str, progress: Callable[[int], None] | None = None) -> None:
    """Print each HTML file to its PDF path (A4, the page size the sheet's CSS asks for).

    Runs in a worker thread: Playwright's synchronous API refuses a thread with an event
    loop, which Jupyter and other Playwright sessions have.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_print, jobs, browser, progress).result()


def _print(jobs: list[tuple[Path, Path]], browser: str, progress: Callable[[int], None] | None) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=browser, args=list(BROWSER_ARGS))
        try:
            page = chrome.new_page()
            for i, (html, pdf) in enumerate(jobs):
                page.goto(html.resolve().as_uri())
                page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
                if progress:
                    progress(i + 1)
        finally:
            chrome.close()

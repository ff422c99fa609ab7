"""Refresh the README's screenshots from a rendered plan of the demo.

    routeplan plan scenarios/demo-city -o out/demo --tiles none
    routeplan whatif scenarios/demo-city --managers 4,5,6 -o out/whatif-demo
    python docs/screenshots.py out/demo out/whatif-demo

Needs a Chromium-family browser (see ``routeplan.render.pdf``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from routeplan.render.pdf import BROWSER_ARGS, find_browser

DOCS = Path(__file__).resolve().parent


def main(out: Path, whatif: Path | None = None) -> None:
    browser = find_browser()
    if browser is None:
        sys.exit("no Chromium, Chrome or Edge found")
    sheet = sorted((out / "sheets").glob("*/2026-*.html"))[1]
    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=browser, args=list(BROWSER_ARGS))
        page = chrome.new_page(viewport={"width": 1400, "height": 900})
        page.goto((out / "maps" / "plan.html").resolve().as_uri())
        page.wait_for_selector("input[data-manager]")
        page.evaluate("document.querySelector('details.rp-manager').open = true")
        page.screenshot(path=str(DOCS / "plan-map.png"))
        page = chrome.new_page(viewport={"width": 900, "height": 1250})
        page.goto(sheet.resolve().as_uri())
        page.screenshot(path=str(DOCS / "route-sheet.png"), full_page=False)
        if whatif is not None:
            page = chrome.new_page(viewport={"width": 1100, "height": 900})
            page.goto((whatif / "comparison.html").resolve().as_uri())
            page.screenshot(path=str(DOCS / "whatif-report.png"), full_page=True)
        chrome.close()
    print(f"wrote {DOCS / 'plan-map.png'} and {DOCS / 'route-sheet.png'} (sheet {sheet.relative_to(out)})")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo"), Path(sys.argv[2]) if len(sys.argv) > 2 else None)

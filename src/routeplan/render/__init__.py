"""Maps and printable route sheets of a plan.

``render_plan`` writes ``maps/`` (the plan map and one per manager) and ``sheets/``
(a page per manager and working day, and a PDF per manager) next to a plan's files.
Everything is built in a temporary folder and moved into place when complete.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..model import Scenario
from ..plan import Plan
from .labels import LANGUAGES
from .planmap import TILES, plan_map_html, tiles_datum
from .streets import bbox_around, read_streets

__all__ = ["LANGUAGES", "TILES", "RenderOptions", "RenderResult", "render_plan", "safe_filename"]


@dataclass(frozen=True)
class RenderOptions:
    """How to draw: label language, background tiles, an optional street extract, PDFs or not."""

    lang: str = "en"
    tiles: str = "osm"
    streets: Path | None = None
    pdf: bool = True

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise InputError(f"'{self.lang}' is not one of {', '.join(LANGUAGES)}", field="lang")
        if self.tiles not in TILES:
            raise InputError(f"'{self.tiles}' is not one of {', '.join(TILES)}", field="tiles")
        if self.streets is not None and not Path(self.streets).is_file():
            raise InputError("no such file", file=str(self.streets), field="streets")


@dataclass(frozen=True)
class RenderResult:
    files: tuple[Path, ...]
    notes: tuple[str, ...] = field(default=())


def safe_filename(text: str) -> str:
    """A file name from an id: letters, digits, ``-``, ``_`` and ``.`` kept, the rest ``_``."""
    name = re.sub(r"[^\w.-]", "_", text, flags=re.UNICODE).strip(".")
    return name or "_"


def render_plan(
    folder: str | Path,
    scenario: Scenario,
    plan: Plan,
    options: RenderOptions | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> RenderResult:
    """Write the maps and sheets of ``plan`` into ``folder``/maps and ``folder``/sheets."""
    from ..write import atomic_output
    from .daymap import StreetIndex
    from .pdf import find_browser, print_pdfs
    from .sheets import sheet_pages, sheets_html
    from .view import plan_view, positions

    opts = options or RenderOptions()
    folder = Path(folder)
    report = progress or (lambda stage, frac: None)
    datum = tiles_datum(opts.tiles)
    view = plan_view(scenario, plan, datum)
    streets: tuple = ()
    if opts.streets is not None:
        report("reading streets", 0.0)
        streets = read_streets(opts.streets, bbox_around(positions(view.managers)), datum)
    index = StreetIndex(streets) if streets else None
    notes: list[str] = []
    browser = find_browser() if opts.pdf else None
    if opts.pdf and browser is None:
        notes.append("no Chromium, Chrome or Edge found: PDFs skipped (set ROUTEPLAN_BROWSER); HTML sheets written")
    written: list[Path] = []

    def write_maps(path: Path) -> None:
        path.mkdir()
        report("drawing maps", 0.1)
        (path / "plan.html").write_text(
            plan_map_html(view, tiles=opts.tiles, lang=opts.lang, streets=streets), encoding="utf-8"
        )
        written.append(folder / "maps" / "plan.html")
        for m in view.managers:
            name = safe_filename(m.id) + ".html"
            html = plan_map_html(view, tiles=opts.tiles, lang=opts.lang, streets=streets, manager_ids=(m.id,))
            (path / name).write_text(html, encoding="utf-8")
            written.append(folder / "maps" / name)
        offices = scenario.offices()
        for office, team in offices.items() if len(offices) > 1 else ():  # a company: a map per office too
            name = "office-" + safe_filename(office) + ".html"
            ids = tuple(m.id for m in team)
            html = plan_map_html(view, tiles=opts.tiles, lang=opts.lang, streets=streets, manager_ids=ids)
            (path / name).write_text(html, encoding="utf-8")
            written.append(folder / "maps" / name)

    def write_sheets(path: Path) -> None:
        path.mkdir()
        jobs: list[tuple[Path, Path]] = []
        for k, m in enumerate(view.managers):
            report("writing route sheets", 0.3 + 0.2 * k / len(view.managers))
            mdir = path / safe_filename(m.id)
            mdir.mkdir()
            pages = sheet_pages(m, index, opts.lang)
            for page in pages:
                one = mdir / f"{page['day'].date.isoformat()}.html"
                one.write_text(sheets_html(m, [page], opts.lang), encoding="utf-8")
                written.append(folder / "sheets" / mdir.name / one.name)
            month = mdir / "month.html"
            month.write_text(sheets_html(m, pages, opts.lang), encoding="utf-8")
            written.append(folder / "sheets" / mdir.name / month.name)
            jobs.append((month, path / f"{mdir.name}.pdf"))
        if browser is not None and jobs:
            print_pdfs(jobs, browser, lambda done: report("printing PDFs", 0.5 + 0.5 * done / len(jobs)))
            written.extend(folder / "sheets" / pdf.name for _, pdf in jobs)

    atomic_output(folder, {"maps": write_maps, "sheets": write_sheets})
    report("done", 1.0)
    return RenderResult(tuple(written), tuple(notes))

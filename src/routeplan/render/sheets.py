"""Printable daily route sheets: one A4 page per manager and working day.

HTML from a Jinja2 template (autoescaped: names and addresses are user data): one
file per day, and one document per manager for the month that :mod:`.pdf` prints.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .daymap import DayMap, StreetIndex, day_map
from .jinja import template
from .labels import labels
from .view import DayView, ManagerView, Shop, route_label

#: A4 height inside the margins, less the header and gaps, in mm.
BODY_MM = 258.0
PAGE_WIDTH_MM = 190.0
PT_MM = 0.3528
#: Width a phone-list column needs per point of type: a shop name and a phone number side by side.
MM_PER_CALL_PT = 6.3
#: A table row is never lower than its tick box.
ROW_MIN_MM = 3.3
#: Widths of the stop table's wrapping columns (the template's colgroup).
NAME_COL_MM = 44.0
ADDRESS_COL_MM = 38.0


@dataclass(frozen=True)
class Layout:
    table_pt: float
    map_mm: float
    calls_pt: float
    call_cols: int


def _row_mm(pt: float) -> float:
    return max(ROW_MIN_MM, pt * PT_MM * 1.25 + 1.0)


def text_em(text: str) -> float:
    """Printed width of ``text`` in em: CJK and other wide characters 1 em, the rest about half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.56 for ch in text)


def _table_mm(cells: Sequence[tuple[str, str]], pt: float) -> float:
    """Height of the stop table; a long name or address wraps onto more lines of its row."""
    em_mm = pt * PT_MM
    total = _row_mm(pt) + 10
    for name, address in cells:
        lines = max(
            math.ceil(text_em(name) * em_mm / (NAME_COL_MM - 1.6)),
            math.ceil(text_em(address) * em_mm / (ADDRESS_COL_MM - 1.6)),
            1,
        )
        total += _row_mm(pt) + (lines - 1) * pt * PT_MM * 1.25
    return total


def _calls_mm(calls: int, pt: float, cols: int) -> float:
    return 6 + math.ceil(calls / cols) * pt * PT_MM * 1.2


def fit_layout(cells: Sequence[tuple[str, str]], calls: int) -> Layout:
    """The largest type and map that fit one page; a busy day gets smaller print, not a second page.

    ``cells`` are the (name, address) of each stop, which may wrap; ``calls`` the phone visits.
    """
    for table_pt in (9.0, 8.5, 8.0, 7.5, 7.0, 6.5, 6.0, 5.5, 5.0):
        room = BODY_MM - _table_mm(cells, table_pt)
        for map_mm in (95.0, 85.0, 75.0, 65.0, 55.0):
            if map_mm > room:
                continue
            for calls_pt in (8.0, 7.5, 7.0, 6.5, 6.0):
                for cols in (2, 3):
                    wide_enough = (PAGE_WIDTH_MM - map_mm - 4) / cols >= calls_pt * MM_PER_CALL_PT
                    if wide_enough and _calls_mm(calls, calls_pt, cols) <= room:
                        return Layout(table_pt, map_mm, calls_pt, cols)
    return Layout(5.0, 55.0, 5.0, 4)


def _rows(items: tuple[tuple[Shop, str], ...], n: int) -> list[list[tuple[Shop, str]]]:
    """``items`` in ``n`` newspaper columns (down, then across), as table rows."""
    per = math.ceil(len(items) / n)
    return [[items[c * per + r] for c in range(n) if c * per + r < len(items)] for r in range(per)]


def _page(manager: ManagerView, day: DayView, streets: StreetIndex | None, lang: str) -> dict[str, Any]:
    layout = fit_layout([(s.shop.name, s.shop.address) for s in day.stops], len(day.calls))
    text = labels(lang)
    weekday = text["weekday"][day.date.weekday()]  # type: ignore[index]
    dmap: DayMap = day_map(manager.office, [s.shop.at for s in day.stops], streets, layout.map_mm, layout.map_mm,
                           day.track)  # fmt: skip
    return {
        "day": day,
        "weekday": weekday,
        "routes": ", ".join(route_label(r, manager.id) for r in day.route_ids) or "-",
        "map": dmap,
        "table_pt": layout.table_pt,
        "calls_pt": layout.calls_pt,
        "call_rows": _rows(day.calls, layout.call_cols),
        "has_makeup": any(s.makeup for s in day.stops),
    }


def sheet_pages(manager: ManagerView, streets: StreetIndex | None, lang: str) -> list[dict[str, Any]]:
    """What each of ``manager``'s working days prints: its layout, map and rows."""
    return [_page(manager, d, streets, lang) for d in manager.days]


def sheets_html(manager: ManagerView, pages: list[dict[str, Any]], lang: str) -> str:
    """One HTML document with the given pages (see :func:`sheet_pages`), one A4 page each."""
    title = f"{labels(lang)['sheet']} · {manager.name} ({manager.id})"
    if len(pages) == 1:
        title += f" · {pages[0]['day'].date.isoformat()}"
    return template("sheet.html.j2").render(lang=lang, title=title, L=labels(lang), manager=manager, pages=pages)

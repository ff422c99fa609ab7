"""An input table: the rows of a CSV file or of an Excel sheet, its columns named as routeplan names them.

Shop lists come out of sales systems as CSV or ``.xlsx`` exports with their own headers
(客户编码, 经度, 档位 ...). A :class:`Table` finds the header row, maps each header to
routeplan's column name (recognised synonyms in Chinese and English, or the scenario's
``[columns]`` table) and yields every row as text, whatever the cell held (an Excel number,
date or text), so the readers of ``read.py`` parse one form. Every problem names the file
(and sheet), the row as the user's program numbers it (an editor's line, Excel's row), the
column as the file spells it, and routeplan's field.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any, TypeVar

from .errors import InputError, InputWarning

T = TypeVar("T")

#: Largest input file read (a city of 40,000 shops is about 8 MB of CSV, 3 MB of workbook).
MAX_CSV_BYTES = 200 * 2**20
#: Longest cell a table may hold: far more than any name or address, far less than a pasted file.
MAX_CELL_CHARS = 2000
#: The header may sit below a title or a note (a report's first rows): it is looked for this far down.
HEADER_SEARCH_ROWS = 10
#: Bad rows listed at most, when a table collects them (beyond, the first error after stops).
MAX_COLLECTED_ERRORS = 500
#: Share of a non-UTF-8 CSV's non-ASCII characters that must be Chinese for it to be read as GBK.
GBK_CHINESE_SHARE = 0.9
#: Workbook suffixes read with openpyxl; ``.xls`` (the binary format before 2007) is not one.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
#: Columns of a sheet read at most. A shop list has a few dozen; a sheet's used range can reach
#: Excel's last column (XFD) from one stray or formatted cell, and a million-row sheet of
#: 16,384 empty cells a row would take minutes to walk.
MAX_SHEET_COLUMNS = 512
#: What openpyxl raises on a file that is not a workbook it can read (a damaged archive, broken
#: XML, parts it does not expect, such as a chart sheet it cannot parse).
_UNREADABLE = (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, AttributeError, IndexError,
               SyntaxError, EOFError)  # fmt: skip

#: Header texts recognised for each column, beyond routeplan's own name; compared after
#: :func:`header_key` (case, width, spaces, underscores and a leading ``*`` do not matter).
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "retailers": {
        "id": ("客户编码", "客户代码", "客户编号", "零售户编码", "零售客户编码", "门店编码", "门店编号", "店铺编码",
               "许可证号", "专卖许可证号", "retailer_id", "shop_id", "customer_id", "customer code", "code"),
        "name": ("客户名称", "零售户名称", "门店名称", "店铺名称", "店名", "名称", "shop name", "customer name",
                 "retailer name"),
        "lat": ("纬度", "latitude"),
        "lon": ("经度", "longitude", "lng", "long"),
        "class": ("档位", "客户档位", "客户等级", "等级", "客户分类", "分类", "级别", "grade", "tier", "category"),
        "address": ("地址", "经营地址", "详细地址", "门店地址", "客户地址"),
        "phone": ("联系电话", "电话", "手机", "手机号", "联系方式", "telephone", "tel", "mobile"),
        "visits_per_month": ("月拜访次数", "拜访频次", "拜访次数", "visits"),
        "service_minutes": ("拜访时长", "服务时长", "拜访分钟", "service"),
        "manager_id": ("客户经理编码", "客户经理工号", "客户经理", "负责人", "manager"),
        "closed_weekdays": ("休息日", "定休日", "闭店日"),
        "status": ("状态", "经营状态", "客户状态"),
        "route_id": ("线路", "线路编号", "拜访线路", "route"),
        "office": ("营销部", "市场部", "所属营销部", "所属市场部", "office id"),
    },
    "staff": {
        "id": ("工号", "员工编号", "客户经理编码", "客户经理工号", "编号", "manager_id"),
        "name": ("姓名", "客户经理", "客户经理姓名", "员工姓名"),
        "start_lat": ("纬度", "出发纬度", "办公点纬度", "lat", "latitude"),
        "start_lon": ("经度", "出发经度", "办公点经度", "lon", "lng", "longitude"),
        "min_stops_per_day": ("每日最少拜访", "每日拜访数"),
        "days_off": ("休假日期", "请假日期", "休假"),
        "return_to_office": ("返回办公点", "回单位"),
        "office": ("营销部", "市场部", "所属营销部", "所属市场部", "office id"),
    },
}  # fmt: skip


def header_key(text: str) -> str:
    """A header as headers are compared: full-width folded (NFKC), lower case, without spaces,
    underscores, hyphens or a required-marker ``*``."""
    folded = unicodedata.normalize("NFKC", text).strip().lower().lstrip("*")
    return "".join(ch for ch in folded if ch not in " _-\t")


def column_letter(index: int) -> str:
    """0 -> ``A``, 26 -> ``AA``: a column as Excel names it."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV would hold: ``1001.0`` -> ``1001``, a date -> ``2026-12-25``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


class Table:
    """The rows of one input table as dicts keyed by routeplan's column names.

    ``columns`` maps a routeplan column to the header the file uses for it (the scenario's
    ``[columns]``); otherwise a header is routeplan's name or one of its :data:`SYNONYMS`.
    With ``collect``, a reader that wraps each row in :meth:`each_row` gathers every bad row's
    error instead of stopping at the first (the web desk lists them all before saving);
    ``fixes`` replaces cells, keyed by (row, column), as a user corrected them.
    """

    def __init__(
        self, path: Path, kind: str, required: tuple[str, ...], optional: tuple[str, ...], *, sheet: str | None = None,
        columns: Mapping[str, str] | None = None, warn_unknown: bool = True, collect: bool = False,
        fixes: Mapping[tuple[int, str], str] | None = None,
    ) -> None:  # fmt: skip
        self.path = path
        #: with ``collect``, the bad rows' errors (a reader goes on to the next row); else ``None``
        self.errors: list[InputError] | None = [] if collect else None
        self.fixes = dict(fixes or {})
        self.name = str(path)
        self.sheet: str | None = None
        self.known = (*required, *optional)
        _check_file(path)
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            rows = self._workbook_rows(path, sheet)
        elif path.suffix.lower() == ".xls":
            raise InputError("an old .xls workbook: save it as .xlsx (Excel workbook) or as CSV UTF-8", file=self.name)
        else:
            if sheet is not None:
                raise InputError("a sheet is named for a file that is not a workbook (.xlsx)", file=self.name)
            rows = _csv_rows(path, self.name)
        self._rows = rows
        self._formulas: set[tuple[int, int]] | None = None
        self.header_row, header = self._find_header(rows, kind, required, columns or {})
        self.field_of = _map_header(header, kind, columns or {}, self)
        self.letters = {field: i for i, field in self.field_of.items()}
        self.header = header
        for col in required:
            if col not in self.letters:
                raise self.error(f"missing column (needs {', '.join(required)})", self.header_row, col)
        if warn_unknown:
            self._warn_unknown(header)

    # -- reading -------------------------------------------------------------------------

    def _workbook_rows(self, path: Path, sheet: str | None) -> Iterator[tuple[int, list[str]]]:
        book = open_workbook(path, self.name, data_only=True)
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise InputError(f"no sheet '{sheet}' (the workbook has {', '.join(names)})", file=self.name)
        tables = [ws.title for ws in book.worksheets]
        if not tables:
            raise InputError("the workbook has no sheet with cells (only charts)", file=self.name)
        if sheet is not None and sheet not in tables:
            raise InputError(f"sheet '{sheet}' is a chart, not a table", file=self.name)
        self.sheet = sheet if sheet is not None else tables[0]
        ws = book[self.sheet]

        def rows() -> Iterator[tuple[int, list[str]]]:
            try:
                for number, values in _sheet_rows(ws, min(ws.max_column or MAX_SHEET_COLUMNS, MAX_SHEET_COLUMNS)):
                    yield number, [cell_text(v) for v in values]
            except _UNREADABLE as exc:
                raise InputError(f"the sheet cannot be read ({_first_line(exc)})", file=self.name) from None
            finally:
                book.close()

        return rows()

    def _find_header(
        self, rows: Iterator[tuple[int, list[str]]], kind: str, required: tuple[str, ...], columns: Mapping[str, str]
    ) -> tuple[int, list[str]]:
        """The first row (of the first few) that names every required column; else the first non-empty one."""
        first: tuple[int, list[str]] | None = None
        for number, cells in rows:
            if not any(c.strip() for c in cells):
                continue
            header = [c.strip() for c in cells]
            if first is None:
                first = (number, header)
            found = set(_recognise(header, kind, self.known, columns).values())
            if all(col in found for col in required):
                return number, header
            if number >= first[0] + HEADER_SEARCH_ROWS - 1:
                break
        if first is None:
            raise InputError("file is empty", file=self.name, row=1, sheet=self.sheet)
        return first  # __init__ reports the missing columns against it

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Each non-empty row as (row number, cells by field); with ``collect``, a row too wide or
        with a cell too long is kept among the errors and passed over."""
        width = len(self.header)
        for number, cells in self._rows:
            if not any(c.strip() for c in cells):
                continue
            row: dict[str, str] | None = None
            with self.each_row():
                row = self._row(number, cells, width)
            if row is not None:
                yield number, row

    def _row(self, number: int, cells: list[str], width: int) -> dict[str, str]:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            raise self.error(f"{len(cells)} cells but the header has {width}", number)
        row: dict[str, str] = {}
        for i, field in self.field_of.items():
            text = self.fixes.get((number, field), cells[i] if i < len(cells) else "")
            if len(text) > MAX_CELL_CHARS:
                raise self.error(f"{len(text)} characters (at most {MAX_CELL_CHARS})", number, field)
            row[field] = text.strip()
        return row

    @contextlib.contextmanager
    def each_row(self) -> Iterator[None]:
        """Around one row's reading: with ``collect``, its error is kept and the reader goes on."""
        try:
            yield
        except InputError as exc:
            if self.errors is None or len(self.errors) >= MAX_COLLECTED_ERRORS:
                raise
            self.errors.append(exc)

    def get(self, row: dict[str, str], number: int, col: str, parse: Callable[[str], T], *, required: bool = True) -> T:
        """The cell ``col`` of a row parsed by ``parse``; a wrong or missing value is an :class:`InputError`."""
        text = row.get(col, "")
        if required and text == "":
            raise self.error(self._empty(number, col), number, col)
        try:
            return parse(text)
        except ValueError as exc:
            raise self.error(str(exc), number, col) from None

    def _empty(self, number: int, field: str) -> str:
        """Why a required cell reads empty: a workbook's formula whose result was never saved (a
        file a program wrote, not Excel) shows a value in Excel and none here."""
        if self.sheet is not None and (number, self.letters[field]) in self._formula_cells():
            return ("a formula whose result the workbook does not hold (it was written by a program and "
                    "never calculated): open and save it in Excel or WPS, or paste the column as values")  # fmt: skip
        return "empty value"

    def _formula_cells(self) -> set[tuple[int, int]]:
        """(row, column index) of the sheet's formula cells, read again (formulas, not results) the
        first time a required cell is empty."""
        if self._formulas is None:
            self._formulas = set()
            book = open_workbook(self.path, self.name)
            try:
                for number, values in _sheet_rows(book[self.sheet], len(self.header)):
                    self._formulas.update((number, i) for i, v in enumerate(values) if _is_formula(v))
            except _UNREADABLE:
                pass  # the results were read: an unreadable second look only loses the hint
            finally:
                book.close()
        return self._formulas

    def error(self, message: str, row: int | None, field: str | None = None) -> InputError:
        """An :class:`InputError` at a row and field of this table, naming the column as the file spells it."""
        column = None
        if field is not None and field in self.letters:
            i = self.letters[field]
            spelt = self.header[i]
            if self.sheet is not None:
                column = f"{column_letter(i)} '{spelt}'" if spelt != field else column_letter(i)
            elif spelt != field:
                column = f"'{spelt}'"
        return InputError(message, file=self.name, row=row, field=field, sheet=self.sheet, column=column)

    def _warn_unknown(self, header: list[str]) -> None:
        """A header that looks like a misspelt column gets its own warning; the others one between them."""
        ignored = []
        for i, text in enumerate(header):
            if i in self.field_of or not text:
                continue
            near = difflib.get_close_matches(text, self.known, n=1, cutoff=0.75)
            if near:
                warnings.warn(InputWarning(
                    f"unknown column, ignored (did you mean '{near[0]}'? known: {', '.join(sorted(self.known))})",
                    file=self.name, row=self.header_row, field=text, sheet=self.sheet,
                ), stacklevel=3)  # fmt: skip
            else:
                ignored.append(text)
        if ignored:
            shown = ", ".join(ignored[:8]) + (f" and {len(ignored) - 8} more" if len(ignored) > 8 else "")
            warnings.warn(InputWarning(
                f"{len(ignored)} column{'s' if len(ignored) > 1 else ''} not used by routeplan, ignored: {shown} "
                f"(map one with [columns] in scenario.toml)",
                file=self.name, row=self.header_row, sheet=self.sheet,
            ), stacklevel=3)  # fmt: skip


def _check_file(path: Path) -> None:
    name = str(path)
    if not path.exists():
        raise InputError("file not found", file=name)
    if path.is_dir():
        kind = "a workbook" if path.suffix.lower() in WORKBOOK_SUFFIXES else "a CSV file"
        raise InputError(f"a folder where {kind} belongs", file=name)
    if not path.is_file():
        raise InputError("not a regular file (a device or a pipe?)", file=name)
    if path.stat().st_size > MAX_CSV_BYTES:
        raise InputError(f"larger than {MAX_CSV_BYTES // 2**20} MB", file=name)


def csv_text(data: bytes, name: str) -> str:
    """A CSV file's text: UTF-8 (a BOM is fine), else GBK (read as GB18030, its superset), which
    Excel and WPS write for a plain "CSV" on Chinese Windows; that one is said in a warning,
    since a file in another legacy encoding can decode as GBK too (it is taken only when its
    non-ASCII text is Chinese)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    wide = [ch for ch in text if ord(ch) >= 0x80]
    if wide and sum(_chinese(ch) for ch in wide) >= GBK_CHINESE_SHARE * len(wide):
        warnings.warn(InputWarning("read as GBK (Excel's plain CSV on Chinese Windows); save it as 'CSV UTF-8' "
                                   "to be sure of every name", file=name), stacklevel=2)  # fmt: skip
        return text
    raise InputError("not UTF-8 text, nor Chinese GBK: save it as 'CSV UTF-8'", file=name, row=line)


def _chinese(ch: str) -> bool:
    """A character of Chinese text: an ideograph, CJK or full-width punctuation, or the general
    punctuation (“”…—) and signs (·×÷) that GBK holds."""
    code = ord(ch)
    return (
        0x3000 <= code <= 0x303F or 0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF
        or 0xFF00 <= code <= 0xFFEF or 0x2000 <= code <= 0x206F or code in (0xB7, 0xD7, 0xF7)
    )  # fmt: skip


def _csv_rows(path: Path, name: str) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV (see :func:`csv_text`), each with the line it starts on as an editor numbers it."""
    try:
        text = csv_text(path.read_bytes(), name)
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=name) from None
    # a real CSV parse: a quoted cell may hold a newline (addresses exported from Excel), and
    # only \n, \r and \r\n end a row (not a form feed or U+2028 inside a name)
    reader = csv.reader(io.StringIO(text, newline=""))

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            number = reader.line_num + 1
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                raise InputError(f"not a CSV row ({exc})", file=name, row=number) from None
            if cells is None:
                return
            yield number, cells

    return rows()


def _recognise(header: list[str], kind: str, known: tuple[str, ...], columns: Mapping[str, str]) -> dict[int, str]:
    """Header position -> routeplan column. Where several headers could give one column, the
    ``[columns]`` choice or routeplan's own name wins, then the synonym listed first (an export
    with both 客户经理编码 and 客户经理 takes the code)."""
    ranks: dict[str, tuple[str, int]] = {}
    for field, words in SYNONYMS.get(kind, {}).items():
        for rank, word in enumerate(words, start=1):
            ranks.setdefault(header_key(word), (field, rank))
    for field in known:
        ranks[header_key(field)] = (field, 0)
    for field, text in columns.items():
        ranks[header_key(text)] = (field, -1)
    best: dict[str, tuple[int, int]] = {}
    for i, text in enumerate(header):
        field, rank = ranks.get(header_key(text), ("", 0))
        if not field or (field in columns and rank >= 0):
            continue  # a column the user mapped elsewhere is not guessed
        if field not in best or rank < best[field][0]:
            best[field] = (rank, i)
    return {i: field for field, (_, i) in best.items()}


def _map_header(header: list[str], kind: str, columns: Mapping[str, str], table: Table) -> dict[int, str]:
    """Header position -> routeplan column; a header twice, or a ``[columns]`` header missing
    from the file, is an error."""
    keys = [header_key(text) for text in header]
    for field, text in columns.items():
        if header_key(text) not in keys:
            raise InputError(
                f"[columns] says {field} = '{text}', but no column of the header is called that",
                file=table.name, row=table.header_row, field=field, sheet=table.sheet,
            )  # fmt: skip
    seen: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key and key in seen:
            raise InputError("column appears twice", file=table.name, row=table.header_row, field=header[i],
                             sheet=table.sheet)  # fmt: skip
        seen[key] = i
    return _recognise(header, kind, table.known, columns)


def open_workbook(path: Path | IO[bytes], name: str, *, data_only: bool = False) -> Any:
    """An ``.xlsx`` file opened read-only by openpyxl; a file it cannot read is the user's
    file, said in one line (:class:`InputError` naming ``name``)."""
    import openpyxl  # only when a workbook is read: it is the slowest import of the readers

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=data_only)
    except _UNREADABLE as exc:
        raise InputError(f"not an Excel workbook ({_first_line(exc)})", file=name) from None


def _sheet_rows(ws: Any, width: int) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """A sheet's rows with a cell in the first ``width`` columns, numbered as Excel numbers them
    (the empty rows between far-apart cells, up to a million of them, are passed over at once)."""
    for number, values in enumerate(ws.iter_rows(values_only=True, max_col=width), start=1):
        if values.count(None) != len(values):
            yield number, values


def _is_formula(value: Any) -> bool:
    return (isinstance(value, str) and value.startswith("=")) or type(value).__name__ == "ArrayFormula"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__

"""The exceptions routeplan raises.

Every error derives from :class:`RouteplanError`; input problems are also
``ValueError`` so that callers who do not know routeplan can still catch them.
"""

from __future__ import annotations


class RouteplanError(Exception):
    """Root of every error routeplan raises on purpose."""


class InputError(RouteplanError, ValueError):
    """A scenario file or value is wrong; the message names file, row and field (and, in a
    workbook, the sheet and the column as Excel letters it)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        key: str | None = None,
        sheet: str | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.row = row
        self.field = field
        self.sheet = sheet
        self.column = column
        self.detail = message
        where = file or ""
        if sheet is not None:
            # a workbook: the sheet, row and column as Excel shows them
            where += f", sheet '{sheet}'"
            if row is not None:
                where += f", row {row}"
            if column is not None:
                where += f", column {column}"
        elif row is not None:
            where += f":{row}"
        if column is not None and sheet is None:
            where += f", column {column}"
        if field is not None:
            where += f": field '{field}'" if where else f"field '{field}'"
        super().__init__(f"{where}: {message}" if where else message)


class InputWarning(InputError, UserWarning):
    """Something in the input is probably a mistake but planning can go on (an unknown
    column, say); ``routeplan --strict`` makes it an error."""

"""A new scenario from an uploaded shop list: preview, column mapping, every bad row, then save.

The upload is kept as it came (``uploads/<id>/``); the saved scenario is a normal scenario
folder (``scenario.toml`` + ``retailers.csv`` + ``staff.csv`` in routeplan's column names, the
user's fixes applied), so the command line plans it exactly as the desk does.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import InputError
from ..read import LIST_ALL_COLUMNS, LIST_COLUMNS, read_scenario, review_lists
from ..table import WORKBOOK_SUFFIXES, Table, csv_text, open_workbook
from ..write import atomic_output

#: Largest upload taken (a city's 40,000 shops are about 3 MB as a workbook).
MAX_UPLOAD_BYTES = 20 * 2**20
#: Rows shown in the preview.
PREVIEW_ROWS = 8
#: Upload ids and scenario folder names: nothing a path could be made of.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Upload:
    """An uploaded shop list (and maybe a separate staff list), stored under the workspace."""

    folder: Path
    original: str
    shops: Path
    staff: Path | None

    @property
    def id(self) -> str:
        return self.folder.name


def _kind(data: bytes, name: str) -> str:
    """The stored file's suffix, from its content as well as its name: a workbook is a zip."""
    suffix = Path(name).suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        if not data.startswith(b"PK\x03\x04"):
            raise InputError("not an Excel workbook (the file is not a zip archive)", file=name)
        open_workbook(io.BytesIO(data), name).close()  # refused at the door if openpyxl cannot read it
        return ".xlsx"
    if suffix == ".csv":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GBK is read; the preview reads the file again
            csv_text(data, name)
        return ".csv"
    raise InputError("upload an Excel workbook (.xlsx) or a CSV file", file=name)


def store_upload(root: Path, data: bytes, name: str, staff: tuple[bytes, str] | None = None) -> Upload:
    """Keep an upload under ``root/<new id>/``; the user's file name is kept as text only, never as a path."""
    if len(data) > MAX_UPLOAD_BYTES or (staff and len(staff[0]) > MAX_UPLOAD_BYTES):
        raise InputError(f"larger than {MAX_UPLOAD_BYTES // 2**20} MB", file=name)
    suffix = _kind(data, name)
    staff_suffix = _kind(*staff) if staff else None
    folder = root / secrets.token_hex(8)
    folder.mkdir(parents=True)
    (folder / f"shops{suffix}").write_bytes(data)
    if staff:
        (folder / f"staff{staff_suffix}").write_bytes(staff[0])
    (folder / "upload.json").write_text(json.dumps({"original": name}, ensure_ascii=False), encoding="utf-8")
    return load_upload(root, folder.name)


def load_upload(root: Path, upload_id: str) -> Upload:
    if not SAFE_NAME.match(upload_id) or not (root / upload_id / "upload.json").is_file():
        raise InputError("no such upload", field="upload")
    folder = root / upload_id
    meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    shops = next(folder.glob("shops.*"))
    staff = next(folder.glob("staff.*"), None)
    return Upload(folder, str(meta.get("original", "")), shops, staff)


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook that hold cells, not charts ([] for a CSV)."""
    if path.suffix.lower() not in WORKBOOK_SUFFIXES:
        return []
    book = open_workbook(path, path.name)
    try:
        return [ws.title for ws in book.worksheets]
    finally:
        book.close()


@dataclass
class Choices:
    """What the user chose on the preview page: sheets, the column mapping, and fixed cells."""

    shops_sheet: str | None = None
    staff_sheet: str | None = None
    columns: dict[str, dict[str, str]] = field(default_factory=lambda: {"retailers": {}, "staff": {}})
    fixes: dict[str, dict[tuple[int, str], str]] = field(default_factory=lambda: {"retailers": {}, "staff": {}})
    crs: str = "wgs84"


@dataclass
class Side:
    """One list (shops or staff) as the preview shows it."""

    kind: str
    file: str
    sheet: str | None
    header: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # routeplan column -> header
    sample: list[list[str]] = field(default_factory=list)
    problem: str | None = None  # the list cannot be read at all (a missing column, say)


@dataclass
class Preview:
    shops: Side
    staff: Side
    errors: list[tuple[str, InputError]]  # (retailers | staff, the row's error)
    shop_count: int = 0
    manager_count: int = 0
    classes: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.errors and self.shops.problem is None and self.staff.problem is None and self.shop_count > 0


def _pick_sheet(path: Path, kind: str, taken: str | None) -> str | None:
    """The first sheet whose header names every required column of ``kind`` (not the one ``taken``)."""
    required, optional = LIST_COLUMNS[kind]
    for name in sheet_names(path):
        if name == taken:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Table(path, kind, required, optional, sheet=name)
            return name
        except InputError:
            continue
    return None


def _side(path: Path, kind: str, sheet: str | None, choices: Choices) -> tuple[Side, Table | None]:
    required, optional = LIST_COLUMNS[kind]
    side = Side(kind, path.name, sheet)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = Table(path, kind, required, optional, sheet=sheet, columns=choices.columns[kind], collect=True,
                          fixes=choices.fixes[kind])  # fmt: skip
    except InputError as exc:
        side.problem = exc.detail if exc.field is None else f"{exc.field}: {exc.detail}"
        return side, None
    side.header = table.header
    side.mapping = {f: table.header[i] for i, f in table.field_of.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # said by ``table``
        sample = Table(path, kind, required, optional, sheet=sheet, columns=choices.columns[kind],
                       warn_unknown=False, collect=True, fixes=choices.fixes[kind])  # fmt: skip
    for n, (_, row) in enumerate(sample):
        if n >= PREVIEW_ROWS:
            break
        side.sample.append([row.get(f, "") for f in side.mapping])
    return side, table


def preview(upload: Upload, choices: Choices) -> Preview:
    """Read the upload as the choices say: the mapping found, a sample, and every bad row."""
    shops_sheet = choices.shops_sheet or _pick_sheet(upload.shops, "retailers", None) or _first(upload.shops)
    staff_path = upload.staff or upload.shops
    staff_sheet = choices.staff_sheet or _pick_sheet(staff_path, "staff", shops_sheet if upload.staff is None else None)
    if staff_sheet is None:
        staff_sheet = _first(staff_path)
    shops, shop_table = _side(upload.shops, "retailers", shops_sheet, choices)
    staff, staff_table = _side(staff_path, "staff", staff_sheet, choices)
    if upload.staff is None and staff_sheet == shops_sheet and staff.problem is None and staff_sheet is not None:
        staff.problem = "the staff list needs its own sheet or file"
    result = Preview(shops, staff, [])
    if shop_table is None or staff_table is None or staff.problem:
        return result
    try:
        review = review_lists(shop_table, staff_table, crs=choices.crs)
    except InputError as exc:  # beyond the bad rows listed, or a whole-table problem
        review = None
        same = Path(exc.file or "").name == staff.file and exc.sheet == staff.sheet
        last = [("staff" if same else "retailers", exc)]
    else:
        last = []
    result.errors = [*(("staff", e) for e in staff_table.errors or []),
                     *(("retailers", e) for e in shop_table.errors or []), *last]  # fmt: skip
    if review is None:
        return result
    result.shop_count = len(review.retailers) + len(review.suspended)
    result.manager_count = len(review.managers)
    result.classes = sorted({r.klass for r in (*review.retailers, *review.suspended)})
    if not review.managers and not result.errors:
        staff.problem = "the staff list has no manager"
    return result


def _first(path: Path) -> str | None:
    names = sheet_names(path)
    return names[0] if names else None


def folder_name(name: str, taken: set[str]) -> str:
    """A scenario's folder name from its display name: ASCII letters, digits and dashes, unique."""
    base = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:40] or "scenario"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def save_scenario(
    upload: Upload, choices: Choices, dest: Path, *, name: str, month: str, holidays: list[date]
) -> Path:  # fmt: skip
    """Write the scenario folder (only if every row reads) and return it."""
    result = preview(upload, choices)
    if not result.ready:
        first = result.errors[0][1] if result.errors else None
        raise InputError(str(first) if first else (result.shops.problem or result.staff.problem or "nothing to save"))
    shops_text = _normalised(upload.shops, "retailers", result.shops.sheet, choices)
    staff_text = _normalised(upload.staff or upload.shops, "staff", result.staff.sheet, choices)
    toml = _scenario_toml(name, month, holidays, choices.crs, result.classes)
    atomic_output(
        dest,
        {
            "scenario.toml": lambda p: p.write_text(toml, encoding="utf-8"),
            "retailers.csv": lambda p: p.write_text(shops_text, encoding="utf-8"),
            "staff.csv": lambda p: p.write_text(staff_text, encoding="utf-8"),
        },
    )
    read_scenario(dest)  # the saved folder reads as the preview said
    return dest


def _normalised(path: Path, kind: str, sheet: str | None, choices: Choices) -> str:
    """The list as CSV in routeplan's column names, the user's fixes applied."""
    required, optional = LIST_COLUMNS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = Table(path, kind, required, optional, sheet=sheet, columns=choices.columns[kind],
                      fixes=choices.fixes[kind])  # fmt: skip
    fields = [f for f in LIST_ALL_COLUMNS[kind] if f in table.letters]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(fields)
    for _, row in table:
        w.writerow([row.get(f, "") for f in fields])
    return buf.getvalue()


def _scenario_toml(name: str, month: str, holidays: list[date], crs: str, classes: list[str]) -> str:
    lines = [
        f"name = {json.dumps(name, ensure_ascii=False)}",
        f"month = {json.dumps(month)}",
        'retailers = "retailers.csv"',
        'staff = "staff.csv"',
        'workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]',
        "holidays = [" + ", ".join(f'"{d.isoformat()}"' for d in sorted(holidays)) + "]",
        f"crs = {json.dumps(crs)}",
        "",
        "[rules]  # the service standard's defaults: edit them on the scenario's page",
        "min_stops_per_day = 30",
        "min_visits_per_month = 2",
        'day_start = "07:30"',
        "meeting_minutes = 30",
        "min_field_minutes = 360",
        "max_day_minutes = 600",
        "service_minutes = 10",
        "speed_kmh = 25",
        "detour_factor = 1.3",
        "cycle_weeks = 2",
    ]
    for klass in classes:
        lines += ["", f"[classes.{json.dumps(klass, ensure_ascii=False)}]", "visits_per_month = 2"]
    return "\n".join(lines) + "\n"


def parse_fixes(form: Mapping[str, str]) -> dict[str, dict[tuple[int, str], str]]:
    """Fixed cells from form fields named ``fix:<kind>:<row>:<column>``."""
    out: dict[str, dict[tuple[int, str], str]] = {"retailers": {}, "staff": {}}
    for key, value in form.items():
        parts = key.split(":")
        if (
            len(parts) == 4
            and parts[0] == "fix"
            and parts[1] in out
            and parts[2].isdigit()
            and parts[3] in LIST_ALL_COLUMNS[parts[1]]
        ):
            out[parts[1]][(int(parts[2]), parts[3])] = value
    return out

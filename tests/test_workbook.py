"""Excel in: shop and staff lists as workbooks with the headers a sales system exports."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import DEMO, ROOT, TINY, ZH_SHOPS, workbook_scenario
from routeplan.cli import main
from routeplan.errors import InputError, InputWarning
from routeplan.geo import haversine_km
from routeplan.read import read_scenario
from routeplan.table import cell_text, column_letter, header_key

WORKBOOK = ROOT / "scenarios" / "demo-workbook"


def _error(folder: Path) -> InputError:
    with pytest.raises(InputError) as err:
        read_scenario(folder)
    return err.value


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bundled_workbook_reads_as_the_demo_city():
    """The demo workbook (title row, numeric codes, GCJ-02, a date cell) is the demo city."""
    with pytest.warns(InputWarning, match="序号"):
        book = read_scenario(WORKBOOK)
    demo = read_scenario(DEMO)
    assert len(book.retailers) == len(demo.retailers) == 1500
    lat = np.array([[r.location.lat for r in sc.retailers] for sc in (book, demo)])
    lon = np.array([[r.location.lon for r in sc.retailers] for sc in (book, demo)])
    assert haversine_km(lat[0], lon[0], lat[1], lon[1]).max() < 0.001  # GCJ-02 back to WGS-84 within a metre
    for a, b in zip(book.retailers, demo.retailers, strict=True):
        assert (a.name, a.klass, a.closed_weekdays, a.address, a.phone) == (b.name, b.klass, b.closed_weekdays,
                                                                              b.address, b.phone)  # fmt: skip
        assert a.id == str(510104000000 + int(b.id[1:]))  # a numeric cell is the code, without ".0"
    assert [(m.id, m.name, m.days_off) for m in book.managers] == [(m.id, m.name, m.days_off) for m in demo.managers]


def test_workbook_with_chinese_headers_reads_like_the_csv(tmp_path: Path):
    folder = workbook_scenario(tmp_path / "wb")
    book, csv_sc = read_scenario(folder), read_scenario(TINY)
    assert book.retailers == csv_sc.retailers
    assert book.managers == csv_sc.managers


def test_workbook_plans_the_same_as_the_csv(tmp_path: Path):
    """The same shops from a workbook or a CSV give the same plan for a seed, from the command line."""
    folder = workbook_scenario(tmp_path / "wb")
    args = ["--time-limit", "4", "--workers", "1", "--reproducible", "--seed", "3", "--quiet"]
    assert main(["plan", str(folder), "-o", str(tmp_path / "a"), *args]) == 0
    assert main(["plan", str(TINY), "-o", str(tmp_path / "b"), *args]) == 0
    assert (tmp_path / "a" / "visits.csv").read_text() == (tmp_path / "b" / "visits.csv").read_text()
    assert main(["check", str(folder), str(tmp_path / "a")]) == 0


def test_bad_cell_names_file_sheet_excel_row_and_column(tmp_path: Path, capsys):
    def edit(wb):
        wb["门店"]["C5"] = "北纬30度"  # 纬度 is column C; row 5 = title, header, then the third shop

    folder = workbook_scenario(tmp_path / "wb", edit=edit)
    out = tmp_path / "out"
    assert main(["plan", str(folder), "-o", str(out), "--time-limit", "2", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("门店.xlsx, sheet '门店', row 5, column C '纬度': field 'lat': '北纬30度' is not a number")
    assert len([line for line in err if line.startswith("error:")]) == 1
    assert not out.exists()
    assert main(["validate", str(folder)]) == 2


@pytest.mark.parametrize(
    ("cell", "value", "field", "expected"),
    [
        ("A6", None, "id", "empty value"),
        ("E4", "Z", "class", "unknown class 'Z'"),
        ("H3", "赵六", "manager_id", "unknown manager '赵六'"),
        ("I7", "周八", "closed_weekdays", "not a weekday"),
    ],
)
def test_each_bad_cell_is_located(tmp_path: Path, cell: str, value: Any, field: str, expected: str):
    def edit(wb):
        wb["门店"][cell] = value

    err = _error(workbook_scenario(tmp_path / "wb", edit=edit))
    assert (err.sheet, err.row, err.field) == ("门店", int(cell[1:]), field)
    assert err.column is not None and err.column.startswith(cell[0])
    assert expected in err.detail


def test_excel_cell_kinds_become_the_values_they_show(tmp_path: Path):
    """Numbers, dates, date-times, booleans and Chinese words as a sales system stores them."""

    def edit(wb):
        shops, people = wb["门店"], wb["人员"]
        shops["A3"] = 1001.0  # a code stored as a number
        shops["I3"] = "周一、周三"  # closed on Mondays and Wednesdays
        shops["H4"] = "王伟"  # the manager by name, not id
        people["B2"] = "王伟"
        people["F2"] = date(2026, 12, 16)  # a date cell
        people["F3"] = "2026/12/17；2026年12月18日"  # dates as text, a Chinese list separator
        people["G3"] = True

    sc = read_scenario(workbook_scenario(tmp_path / "wb", edit=edit))
    first, second = sc.retailers[0], sc.retailers[1]
    assert first.id == "1001" and first.closed_weekdays == frozenset({0, 2})
    assert second.manager_id == sc.managers[0].id
    assert sc.managers[0].days_off == frozenset({date(2026, 12, 16)})
    assert sc.managers[1].days_off == frozenset({date(2026, 12, 17), date(2026, 12, 18)})
    assert sc.managers[1].return_to_office is True


def test_chinese_status_words(tmp_path: Path):
    def edit(wb):
        ws = wb["门店"]
        ws["J2"] = "经营状态"
        ws["J3"], ws["J4"], ws["J5"] = "停业", "注销", "正常"

    sc = read_scenario(workbook_scenario(tmp_path / "wb", edit=edit))
    assert len(sc.retailers) == 88 and len(sc.suspended) == 1
    assert sc.suspended[0].name == _csv(TINY / "retailers.csv")[0]["name"]


def test_columns_table_maps_any_header(tmp_path: Path):
    def edit(wb):
        wb["门店"]["C2"] = "纬度(GCJ02)"
        wb["门店"]["D2"] = "经度(GCJ02)"

    folder = workbook_scenario(tmp_path / "wb", edit=edit)
    assert "missing column" in _error(folder).detail
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[columns]\nlat = "纬度(GCJ02)"\nlon = "经度（GCJ02）"\n',
                    encoding="utf-8")  # fmt: skip
    assert read_scenario(folder).retailers == read_scenario(TINY).retailers  # full-width brackets match too


@pytest.mark.parametrize(
    ("table", "expected", "field"),
    [
        ('[columns]\nlatt = "纬度"', "did you mean 'lat'", "columns.latt"),
        ("[columns]\nlat = 3", "expected the header text", "columns.lat"),
        ('[columns]\nlat = "北纬"', "no column of the header is called that", "lat"),
        ('[columns.shops]\nlat = "纬度"', "[columns.retailers] or [columns.staff]", "columns.shops"),
        ('[columns.staff]\nstart_lat = "纬度"\nstart_lon = "纬度"', "already the header", "columns.staff.start_lon"),
    ],
)
def test_bad_columns_table(tmp_path: Path, table: str, expected: str, field: str):
    folder = workbook_scenario(tmp_path / "wb")
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n" + table + "\n", encoding="utf-8")
    err = _error(folder)
    assert expected in err.detail and err.field == field


def test_the_best_named_of_two_candidate_columns_wins(tmp_path: Path):
    """An export with both 客户经理编码 and 客户经理 (names) pins by the code; the other is ignored."""

    def edit(wb):
        ws = wb["门店"]
        ws["J2"] = "客户经理编码"
        ws["H3"], ws["J3"] = "nobody", "M02"

    with pytest.warns(InputWarning, match="客户经理"):
        sc = read_scenario(workbook_scenario(tmp_path / "wb", edit=edit))
    assert sc.retailers[0].manager_id == "M02"


def test_header_found_below_a_title_and_missing_sheet_named(tmp_path: Path):
    assert len(read_scenario(workbook_scenario(tmp_path / "a", title_row=True)).retailers) == 90
    folder = workbook_scenario(tmp_path / "b")
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('sheet = "人员"', 'sheet = "员工"'), encoding="utf-8")
    err = _error(folder)
    assert "no sheet '员工'" in err.detail and "门店, 人员" in err.detail


def test_first_sheet_when_none_is_named_and_default_file_names(tmp_path: Path):
    folder = workbook_scenario(tmp_path / "wb")
    (folder / "门店.xlsx").rename(folder / "retailers.xlsx")
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('retailers = { file = "门店.xlsx", sheet = "门店" }\n', "")
    text = text.replace(
        'staff = { file = "门店.xlsx", sheet = "人员" }', 'staff = { file = "retailers.xlsx", sheet = "人员" }'
    )
    toml.write_text(text, encoding="utf-8")
    assert len(read_scenario(folder).retailers) == 90  # retailers.xlsx found, its first sheet read


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("shops.xls", b"\xd0\xcf\x11\xe0", "old .xls workbook"),
        ("shops.xlsx", b"id,name\n", "not an Excel workbook"),
        ("shops.csv", None, "not a workbook"),
    ],
)
def test_files_that_are_not_workbooks(tmp_path: Path, name: str, content: bytes | None, expected: str):
    folder = workbook_scenario(tmp_path / "wb")
    sheet = ""
    if content is None:
        shutil.copy(TINY / "retailers.csv", folder / name)
        sheet = ', sheet = "门店"'
    else:
        (folder / name).write_bytes(content)
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace(
        'retailers = { file = "门店.xlsx", sheet = "门店" }', f'retailers = {{ file = "{name}"{sheet} }}'
    )
    toml.write_text(text, encoding="utf-8")
    err = _error(folder)
    assert expected in err.detail and err.file is not None and err.file.endswith(name)


def test_a_cell_in_excels_last_row_and_column_does_not_stall_the_reading(tmp_path: Path):
    """One stray (or only formatted) cell at XFD1048576 stretches a sheet's used range to 16,384
    columns and a million rows; the shops are read as if it were not there."""

    def stray(wb: Any) -> None:
        wb["门店"]["XFD1048576"] = None
        wb["门店"]["XFD1048576"].number_format = "0.00"
        wb["门店"]["XFD1048575"] = " "

    sc = read_scenario(workbook_scenario(tmp_path / "wb", edit=stray))
    assert sc.retailers == read_scenario(TINY).retailers


def test_chart_sheets_are_passed_over_and_named_when_asked_for(tmp_path: Path):
    from openpyxl.chart import BarChart, Reference

    def chart_first(wb: Any) -> None:
        chart = BarChart()
        chart.add_data(Reference(wb["门店"], min_col=3, min_row=2, max_row=10), titles_from_data=True)
        wb.create_chartsheet("图表", 0).add_chart(chart)

    folder = workbook_scenario(tmp_path / "wb", edit=chart_first)
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace('retailers = { file = "门店.xlsx", sheet = "门店" }',
                                                    'retailers = "门店.xlsx"')  # fmt: skip
    toml.write_text(text, encoding="utf-8")
    assert read_scenario(folder).retailers == read_scenario(TINY).retailers  # the first sheet with cells
    toml.write_text(text.replace('sheet = "人员"', 'sheet = "图表"'), encoding="utf-8")
    err = _error(folder)
    assert err.detail == "sheet '图表' is a chart, not a table"
    assert err.file is not None and err.file.endswith("门店.xlsx")


def test_an_empty_staff_sheet_is_named_with_its_workbook(tmp_path: Path):
    def empty_staff(wb: Any) -> None:
        wb["人员"].delete_rows(2, 10)

    err = _error(workbook_scenario(tmp_path / "wb", edit=empty_staff))
    assert err.detail == "no managers: the staff list has no rows" and err.sheet == "人员"
    assert err.file is not None and err.file.endswith("门店.xlsx")


def test_a_workbook_openpyxl_cannot_parse_is_one_line(tmp_path: Path, capsys):
    """A chart sheet without its drawing (as some tools write it) breaks openpyxl inside: a bad file, exit 2."""

    def broken_chart(wb: Any) -> None:
        wb.create_chartsheet("图表", 0)

    folder = workbook_scenario(tmp_path / "wb", edit=broken_chart)
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "门店.xlsx: not an Excel workbook" in err and "Traceback" not in err


def test_formulas_read_as_their_saved_results_and_an_uncalculated_one_is_named(tmp_path: Path):
    """Excel saves each formula's result beside it, and that is what is read; a formula written
    by a program and never calculated has no result, which is said as such, not as an empty cell."""
    import re
    import zipfile

    def formulas(wb: Any) -> None:
        wb["门店"]["D5"] = "=104+0.02"  # no saved result (openpyxl does not calculate)

    folder = workbook_scenario(tmp_path / "wb", edit=formulas)
    book = folder / "门店.xlsx"
    with zipfile.ZipFile(book) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet, n = re.subn(r'(<c r="C4"[^>]*>)(<v>[^<]*</v>)', r"\1<f>30+0.6</f>\2", sheet)  # a result saved, as Excel does
    assert n == 1
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(book, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    err = _error(folder)
    assert (err.row, err.field) == (5, "lon")
    assert err.detail.startswith("a formula whose result the workbook does not hold")
    saved = sheet.replace("<f>104+0.02</f><v />", "<f>104+0.02</f><v>104.008654</v>")  # as Excel saves it
    assert saved != sheet
    parts["xl/worksheets/sheet1.xml"] = saved.encode()
    with zipfile.ZipFile(book, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert read_scenario(folder).retailers == read_scenario(TINY).retailers  # each formula read as its result


def test_wrong_file_table_in_toml(tmp_path: Path):
    folder = workbook_scenario(tmp_path / "wb")
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('sheet = "门店"', "sheet = 1"), encoding="utf-8")
    err = _error(folder)
    assert err.field == "retailers" and "a file name, or a table" in err.detail


def test_csv_with_chinese_headers_and_bom(tiny_copy: Path):
    path = tiny_copy / "retailers.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[0] = ",".join(ZH_SHOPS.get(c, c) for c in rows[0].split(","))
    path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    assert read_scenario(tiny_copy).retailers == read_scenario(TINY).retailers


def test_a_gbk_csv_from_chinese_excel_reads_like_utf8_with_a_warning(tiny_copy: Path, capsys):
    """Excel's and WPS's plain "CSV" on Chinese Windows is GBK: read, and said in a warning."""
    path = tiny_copy / "retailers.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    rows[0] = ",".join(ZH_SHOPS.get(c, c) for c in rows[0].split(","))
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("gbk"))
    with pytest.warns(InputWarning, match="read as GBK"):
        assert read_scenario(tiny_copy).retailers == read_scenario(TINY).retailers
    assert main(["--strict", "validate", str(tiny_copy)]) == 2  # a warning, so --strict refuses it
    assert "read as GBK" in capsys.readouterr().err


def test_a_csv_neither_utf8_nor_chinese_gbk_is_refused_at_its_line(tiny_copy: Path):
    path = tiny_copy / "retailers.csv"
    data = path.read_bytes().splitlines(keepends=True)
    data[2] = data[2].replace(b"GoldenMarket", b"Caf\xe9 M\xfcller")  # Latin-1: \xe9 + space is no GBK either
    path.write_bytes(b"".join(data))
    err = _error(tiny_copy)
    assert err.detail == "not UTF-8 text, nor Chinese GBK: save it as 'CSV UTF-8'" and err.row == 3


def test_cell_text_helpers():
    assert [cell_text(v) for v in (None, 1001.0, 30.5, True, date(2026, 1, 2), datetime(2026, 1, 2, 8, 30))] == [
        "", "1001", "30.5", "true", "2026-01-02", "2026-01-02 08:30:00",
    ]  # fmt: skip
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert header_key(" *客户编码（必填） ") == header_key("客户编码(必填)") == "客户编码(必填)"

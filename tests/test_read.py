"""Reading scenarios: the contract, and a one-line error naming file, row and field for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeplan.errors import InputError, RouteplanError
from routeplan.read import read_scenario


def test_tiny_loads(tiny):
    assert len(tiny.retailers) == 90
    assert [m.id for m in tiny.managers] == ["M01", "M02"]
    assert tiny.calendar.n_slots == 10
    a = next(r for r in tiny.retailers if r.klass == "A")
    assert a.visits_per_month == 4 and a.service_minutes == 15


def test_bom_and_chinese_names(tiny_copy: Path):
    path = tiny_copy / "retailers.csv"
    text = path.read_text(encoding="utf-8").replace("R0001,", "R0001,", 1)
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[1] = "幸福超市 (总店)"
    lines[1] = ",".join(cells)
    path.write_bytes("\ufeff".encode() + "\n".join(lines).encode("utf-8"))
    sc = read_scenario(tiny_copy)
    assert sc.retailers[0].name == "幸福超市 (总店)"


def test_gcj02_coordinates_are_converted(tiny_copy: Path):
    toml = tiny_copy / "scenario.toml"
    plain = read_scenario(tiny_copy)
    toml.write_text(toml.read_text(encoding="utf-8").replace('crs = "wgs84"', 'crs = "gcj02"'), encoding="utf-8")
    shifted = read_scenario(tiny_copy)
    # GCJ-02 is offset by a few hundred metres in Chengdu: converted back it must move
    d_lat = abs(plain.retailers[0].location.lat - shifted.retailers[0].location.lat)
    d_lon = abs(plain.retailers[0].location.lon - shifted.retailers[0].location.lon)
    assert 0.0005 < d_lat + d_lon < 0.02


def _edit_csv(path: Path, row: int, column: str, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[row - 1].split(",")
    cells[header.index(column)] = value
    lines[row - 1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


BROKEN = [
    # (file, row, column, value, what the message must name)
    ("retailers.csv", 3, "lat", "abc", ("retailers.csv:3", "'lat'", "not a number")),
    ("retailers.csv", 4, "lon", "200", ("retailers.csv:4", "'lon'", "outside")),
    ("retailers.csv", 5, "class", "Z", ("retailers.csv:5", "'class'", "unknown class 'Z'")),
    ("retailers.csv", 6, "id", "R0001", ("retailers.csv:6", "'id'", "duplicate id 'R0001'")),
    ("retailers.csv", 7, "manager_id", "M99", ("retailers.csv:7", "'manager_id'", "unknown manager 'M99'")),
    ("retailers.csv", 8, "closed_weekdays", "Funday", ("retailers.csv:8", "'closed_weekdays'", "not a weekday")),
    ("retailers.csv", 9, "closed_weekdays", "Mon;Tue;Wed;Thu;Fri", ("retailers.csv:9", "closed on every workday")),
    ("staff.csv", 2, "start_lat", "", ("staff.csv:2", "'start_lat'", "empty value")),
    ("staff.csv", 3, "id", "M01", ("staff.csv:3", "'id'", "duplicate id 'M01'")),
    ("staff.csv", 2, "days_off", "2026-13-01", ("staff.csv:2", "'days_off'", "not a date")),
]


@pytest.mark.parametrize(("file", "row", "column", "value", "expected"), BROKEN)
def test_broken_cell_is_named(tiny_copy: Path, file, row, column, value, expected):
    _edit_csv(tiny_copy / file, row, column, value)
    with pytest.raises(InputError) as info:
        read_scenario(tiny_copy)
    message = str(info.value)
    assert "\n" not in message
    for part in expected:
        assert part in message


def test_missing_column(tiny_copy: Path):
    path = tiny_copy / "retailers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [",".join(c for i, c in enumerate(line.split(",")) if i != 2) for line in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"retailers.csv:1: field 'lat': missing column"):
        read_scenario(tiny_copy)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("min_field_minutes = 90", "min_field_minutes = 700", "field 'rules.min_field_minutes'"),
        ("cycle_weeks = 2", "cycle_weeks = 9", "field 'rules.cycle_weeks'"),
        ('month = "2026-12"', 'month = "December"', "field 'month'"),
        ("speed_kmh = 25", "speed_kmh = 25\nspeed_mph = 3", "field 'rules.speed_mph'"),
        ('day_start = "07:30"', 'day_start = "7.30"', "field 'rules.day_start'"),
        ("visits_per_month = 4", "visits_per_month = 40", "needs 40 visits"),
    ],
)
def test_impossible_or_unknown_rules(tiny_copy: Path, old, new, expected):
    toml = tiny_copy / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_scenario(tiny_copy)
    assert expected in str(info.value)


def test_errors_share_one_root():
    assert issubclass(InputError, RouteplanError)
    assert issubclass(InputError, ValueError)


def test_missing_folder(tmp_path: Path):
    with pytest.raises(InputError, match="not a scenario folder"):
        read_scenario(tmp_path / "nope")

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


def test_a_shop_no_day_can_reach_is_named_by_its_row(tiny_copy: Path):
    """A latitude typed 12 for 30.6 puts the shop 2,000 km away: the row is refused, not planned."""
    _edit_csv(tiny_copy / "retailers.csv", 6, "lat", "12.616278")
    with pytest.raises(InputError) as info:
        read_scenario(tiny_copy)
    message = str(info.value)
    assert "\n" not in message
    for part in ("retailers.csv:6", "'lat'", "shop R0005", "2,0", "570 field minutes"):
        assert part in message


def test_a_manager_who_reaches_no_shop_is_named_by_his_row(tiny_copy: Path):
    _edit_csv(tiny_copy / "staff.csv", 3, "start_lat", "3.6586")
    with pytest.raises(InputError) as info:
        read_scenario(tiny_copy)
    for part in ("staff.csv:3", "'start_lat'", "M02 starts", "no shop can be reached"):
        assert part in str(info.value)


@pytest.mark.parametrize("shops", ["class A", "every shop"])
def test_a_visit_longer_than_the_day_names_the_service_not_a_position(tiny_copy: Path, shops: str):
    """Class A's visits of 1,440 min (a typo for 14.40?) fit in no day: the message says so, and
    does not send the user to check coordinates or the managers' starts."""
    toml = tiny_copy / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace(
        "[classes.A]\nvisits_per_month = 4\nservice_minutes = 15",
        "[classes.A]\nvisits_per_month = 4\nservice_minutes = 1440",
    )
    if shops == "every shop":
        text = text.replace("service_minutes = 10\n", "service_minutes = 1440\n")
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_scenario(tiny_copy)
    assert info.value.field == "service_minutes" and "takes 1440 min" in str(info.value)
    assert "[classes.A]" in str(info.value) if shops == "class A" else "[rules]" in str(info.value)
    assert "retailers.csv" in str(info.value)


def _far_shop_near_m02(folder: Path, pin: str) -> None:
    """R0007 195 km east of the office (a 608-minute drive at 25 km/h x 1.3, the day has 570 field
    minutes), and M02 starting 150 km east: 50 km from it, and the town still within his reach."""
    _edit_csv(folder / "retailers.csv", 8, "lon", "106.1")
    _edit_csv(folder / "retailers.csv", 8, "manager_id", pin)
    _edit_csv(folder / "staff.csv", 3, "start_lon", "105.6")


def test_reach_counts_only_managers_who_may_visit_the_shop(tiny_copy: Path):
    _far_shop_near_m02(tiny_copy, "")
    assert {r.id for r in read_scenario(tiny_copy).retailers} >= {"R0007"}  # M02 reaches it
    _far_shop_near_m02(tiny_copy, "M01")
    with pytest.raises(InputError) as info:
        read_scenario(tiny_copy)
    assert "retailers.csv:8" in str(info.value) and "shop R0007" in str(info.value)


def test_road_travel_judges_reach_at_the_fastest_road_speed(tiny_copy: Path):
    """At 120 km/h the shop 195 km away is reachable; at the rules' 25 km/h it is not."""
    _edit_csv(tiny_copy / "retailers.csv", 8, "lon", "106.1")
    with pytest.raises(InputError, match="shop R0007"):
        read_scenario(tiny_copy)
    toml = tiny_copy / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[travel]\nmodel = "road"\nosrm_url = "http://127.0.0.1:9"\n')
    assert "R0007" in {r.id for r in read_scenario(tiny_copy).retailers}


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
        (
            'workdays = ["Mon", "Tue", "Wed", "Thu", "Fri"]\nholidays = ["2026-12-25"]',
            'workdays = ["Fri"]\nholidays = ["2026-12-04", "2026-12-11", "2026-12-18", "2026-12-25"]',
            "field 'holidays': no working day is left in 2026-12",
        ),
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


def _rewrite(path: Path, edit) -> None:
    from conftest import rewrite_csv

    rewrite_csv(path, edit, line_end="\r\n")  # as Excel writes it


def test_quoted_newline_keeps_cell_and_row_numbers(tiny_copy: Path):
    path = tiny_copy / "retailers.csv"

    def edit(rows):
        col = rows[0].index("address") if "address" in rows[0] else 1
        rows[1][col] = "12 Long Street\nBack entrance"
        rows[2][1] = "Name with\x0cform feed and\u2028line separator"
        rows[5][2] = "north"  # a bad latitude on the 5th data row

    _rewrite(path, edit)
    with pytest.raises(InputError) as err:
        read_scenario(tiny_copy)
    # the header is line 1, the first row spans lines 2-3: the 5th data row starts on line 7
    assert err.value.row == 7 and err.value.field == "lat"


def test_quoted_newline_survives(tiny_copy: Path):
    path = tiny_copy / "retailers.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    col = header.index("address") if "address" in header else 1

    def edit(rows):
        rows[1][col] = "12 Long Street\nBack entrance"
        rows[2][1] = "Shop\x0cwith\u2028odd spaces"

    _rewrite(path, edit)
    sc = read_scenario(tiny_copy)
    first = sc.retailers[0]
    assert (first.address if col != 1 else first.name) == "12 Long Street\nBack entrance"
    assert sc.retailers[1].name == "Shop\x0cwith\u2028odd spaces"
    assert len(sc.retailers) == 90


def test_unknown_column_warns_and_strict_refuses(tiny_copy: Path, capsys):
    from routeplan.cli import main
    from routeplan.errors import InputWarning

    path = tiny_copy / "retailers.csv"

    def edit(rows):
        rows[0].append("manger_id")
        for row in rows[1:]:
            row.append("M01")

    _rewrite(path, edit)
    with pytest.warns(InputWarning, match="did you mean 'manager_id'"):
        read_scenario(tiny_copy)
    assert main(["validate", str(tiny_copy)]) == 0
    assert "warning:" in capsys.readouterr().err
    assert main(["--strict", "validate", str(tiny_copy)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "manger_id" in err and err.count("\n") == 1


def test_huge_cell_is_one_line_error(tiny_copy: Path):
    path = tiny_copy / "retailers.csv"

    def edit(rows):
        rows[3][1] = "x" * 200_000

    _rewrite(path, edit)
    with pytest.raises(InputError) as err:
        read_scenario(tiny_copy)
    assert err.value.row == 4


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("detour_factor = inf", "rules.detour_factor"),
        ("speed_kmh = inf", "rules.speed_kmh"),
        ("service_minutes = nan", "rules.service_minutes"),
        ("service_minutes = inf", "rules.service_minutes"),
        ("max_day_minutes = 100000000", "rules.max_day_minutes"),
    ],
)
def test_infinite_and_absurd_rules_are_refused(tiny_copy: Path, line: str, field: str):
    toml = tiny_copy / "scenario.toml"
    key = line.split(" =")[0]
    text = "\n".join(x for x in toml.read_text(encoding="utf-8").splitlines() if not x.startswith(key + " "))
    toml.write_text(text.replace("[rules]", f"[rules]\n{line}"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_scenario(tiny_copy)
    assert err.value.field == field


@pytest.mark.parametrize("value", ["inf", "nan", "-3", "5000"])
def test_service_minutes_cell_must_be_finite(tiny_copy: Path, value: str):
    def edit(rows):
        rows[0].append("service_minutes")
        for row in rows[1:]:
            row.append("")
        rows[4][-1] = value

    _rewrite(tiny_copy / "retailers.csv", edit)
    with pytest.raises(InputError) as err:
        read_scenario(tiny_copy)
    assert (err.value.row, err.value.field) == (5, "service_minutes")


@pytest.mark.parametrize(
    ("key", "value"),
    [("holidays", "5"), ("workdays", "true"), ("classes", '"A"'), ("rules", '"fast"'), ("add_managers", "5"),
     ("month", '"9999-12"'), ("travel", '"roads"')],
)  # fmt: skip
def test_toml_values_of_the_wrong_type(tiny_copy: Path, key: str, value: str):
    toml = tiny_copy / "scenario.toml"
    lines = toml.read_text(encoding="utf-8").splitlines()
    # top-level keys go before the first table; a key that is a table here is replaced whole
    head = [x for x in lines if not x.startswith(f"{key} ")]
    cut = next(i for i, x in enumerate(head) if x.startswith("["))
    body = head[cut:]
    if key in ("rules", "classes"):
        body = []  # the tables themselves go: the key now holds the wrong type
    toml.write_text("\n".join([*head[:cut], f"{key} = {value}", *body]) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_scenario(tiny_copy)
    assert err.value.field == key


@pytest.mark.parametrize(("key", "value"), [("retailers", "../../etc/passwd"), ("staff", "/etc/passwd")])
def test_files_outside_the_scenario_folder_are_refused(tiny_copy: Path, key: str, value: str):
    toml = tiny_copy / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(f'{key} = "{key}.csv"', f'{key} = "{value}"'), "utf-8")
    with pytest.raises(InputError) as err:
        read_scenario(tiny_copy)
    assert err.value.field == key and "outside the scenario folder" in str(err.value)


def test_a_pipe_where_a_file_belongs_is_refused(tiny_copy: Path):
    import os

    (tiny_copy / "staff.csv").unlink()
    os.mkfifo(tiny_copy / "staff.csv")  # reading it would block for ever
    with pytest.raises(InputError, match="not a regular file"):
        read_scenario(tiny_copy)


def test_deeply_nested_toml_and_geojson_are_one_line(tiny_copy: Path):
    toml = tiny_copy / "scenario.toml"
    original = toml.read_text(encoding="utf-8")
    toml.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n" + original, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        read_scenario(tiny_copy)
    from routeplan.read import read_polygon

    deep = tiny_copy / "deep.geojson"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        read_polygon(deep)


@pytest.mark.parametrize(("value", "why"), [("9" * 400, "too large"), ("2000000", "too large"), ("-1", "negative")])
def test_a_count_cell_out_of_range_is_one_line_error(tiny_copy: Path, value: str, why: str):
    def edit(rows):
        rows[2][rows[0].index("min_stops_per_day")] = value

    _rewrite(tiny_copy / "staff.csv", edit)
    with pytest.raises(InputError, match=why) as err:
        read_scenario(tiny_copy)
    assert (err.value.row, err.value.field) == (3, "min_stops_per_day")


def test_a_team_away_all_month_is_refused_by_the_staff_row(tiny_copy: Path):
    days = ";".join(f"2026-12-{d:02d}" for d in range(1, 32))
    _rewrite(tiny_copy / "staff.csv", lambda rows: [r.__setitem__(rows[0].index("days_off"), days) for r in rows[1:]])
    with pytest.raises(InputError, match="every manager has every working day of 2026-12 off") as err:
        read_scenario(tiny_copy)
    assert (err.value.row, err.value.field) == (2, "days_off") and err.value.file.endswith("staff.csv")

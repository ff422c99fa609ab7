"""Fuzzing scenario folders: every input gives a plan or one line with exit 2, never a crash.

Each example copies the tiny scenario, breaks one thing (a TOML value of any type, a cell
of any text, a column dropped, a file made a folder, garbage bytes ...) and runs
``routeplan validate`` (and for some examples ``routeplan plan``) in-process. The exit code
must be 0, 1 or 2 (3 is an internal error, a crash), an error must be one line starting with
``error:``, and a plan that stops on bad input must leave nothing behind.

``ROUTEPLAN_FUZZ_EXAMPLES=5000 ROUTEPLAN_FUZZ_RANDOM=1 pytest tests/test_fuzz.py`` runs more, new examples.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from conftest import TINY, rewrite_csv, workbook_scenario
from routeplan.cli import main
from routeplan.read import RULE_KEYS, SCENARIO_KEYS, STAFF_OPTIONAL, STAFF_REQUIRED

EXAMPLES = int(os.environ.get("ROUTEPLAN_FUZZ_EXAMPLES", "300"))
PLAN_EXAMPLES = max(10, EXAMPLES // 20)
#: ``ROUTEPLAN_FUZZ_RANDOM=1``: new examples each run (CI runs the same ones every time)
RANDOM = os.environ.get("ROUTEPLAN_FUZZ_RANDOM")

NASTY = [
    "", " ", "0", "-1", "1e308", "inf", "-inf", "nan", "NaN", "9" * 40, "9" * 400, "1,5", "30.6", "-91", "181", "true",
    "M01", "M99", "A", "Z", "Mon", "Sun;Sat", "Mon;Tue;Wed;Thu;Fri", "2026-13-01", "2026-12-25", "12:00", "25:61",
    "=1+1", "@SUM(A1)", "幸福超市", "\ufeffid", "a\x00b", "a\x07b", "a\x1bb", "line\nbreak", "\u2028", "x" * 3000,
    "'", '"', "\\", "../../etc/passwd", "9999-12", "0000-01", "2026-12", "1900-01", "R0001", "suspended", "closed", "M01-W1-Mon", "M02-W9-Sun",
]  # fmt: skip

toml_scalars = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(NASTY),
    st.dates().map(lambda d: d),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(["a", "b", "A"]), inner)),
    max_leaves=6,
)


def _toml_literal(value: object) -> str:
    """A TOML literal for any value the strategies make (strings escaped, floats with inf/nan)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in value) + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_literal(v)}" for k, v in value.items()) + "}"
    return str(value)  # a date


def _set_toml(folder: Path, section: str | None, key: str, value: object) -> None:
    """Put ``key = value`` at the top level (section None) or into ``[section]`` of scenario.toml."""
    path = folder / "scenario.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    current = None
    kept = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.strip("[]")
        if current == section and stripped.split("=")[0].strip() == key:
            continue
        kept.append(line)
    literal = f"{key} = {_toml_literal(value)}"
    if section is None:
        kept.insert(0, literal)
    else:
        head = f"[{section}]"
        kept = [*kept, "", head, literal] if head not in kept else [
            x for line in kept for x in ((line, literal) if line == head else (line,))
        ]  # fmt: skip
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")


def _edit_csv(path: Path, edit) -> None:
    rewrite_csv(path, edit)


@st.composite
def broken_scenarios(draw: st.DrawFn) -> list[tuple[str, tuple]]:
    """One to three edits of the tiny scenario, each a (kind, arguments) pair."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["toml", "rule", "class", "manager", "cell", "column", "row", "file"]))
        if kind == "manager":
            edits.append(
                (kind, (draw(st.sampled_from([*STAFF_REQUIRED, *STAFF_OPTIONAL, "colour"])), draw(toml_values)))
            )
        elif kind == "toml":
            edits.append((kind, (draw(st.sampled_from(sorted(SCENARIO_KEYS - {"extends"}))), draw(toml_values))))
        elif kind == "rule":
            edits.append((kind, (draw(st.sampled_from(sorted(RULE_KEYS))), draw(toml_values))))
        elif kind == "class":
            key = draw(st.sampled_from(["visits_per_month", "service_minutes", "colour"]))
            edits.append((kind, (draw(st.sampled_from(["A", "B", "Q"])), key, draw(toml_values))))
        elif kind == "cell":
            which = draw(st.sampled_from(["retailers.csv", "staff.csv"]))
            text = draw(st.one_of(st.sampled_from(NASTY), st.text(max_size=12)))
            edits.append((kind, (which, draw(st.integers(0, 95)), draw(st.integers(0, 12)), text)))
        elif kind == "column":
            edits.append((kind, (draw(st.sampled_from(["retailers.csv", "staff.csv"])), draw(st.integers(0, 12)))))
        elif kind == "row":
            which = draw(st.sampled_from(["retailers.csv", "staff.csv"]))
            edits.append((kind, (which, draw(st.integers(1, 95)), draw(st.sampled_from(["dup", "drop", "short"])))))
        else:
            which = draw(st.sampled_from(["retailers.csv", "staff.csv", "scenario.toml"]))
            how = draw(st.sampled_from(["folder", "garbage", "empty", "missing", "latin1", "deep"]))
            edits.append((kind, (which, how)))
    edits.sort(key=lambda e: e[0] == "file")  # a file replaced last: the other edits need it readable
    return edits


ODD = ["one-point", "one-shop", "all-on-M01", "two-on-M02", "M02-away", "min-stops-1", "names"]


@st.composite
def odd_scenarios(draw: st.DrawFn) -> list[tuple[str, tuple]]:
    """Valid but odd scenarios (they must plan): shops at one point, one shop, a manager with
    none, one or two shops or away all month, and hostile text in names, addresses and phones."""
    edits: list[tuple[str, tuple]] = [("odd", (k,)) for k in draw(st.lists(st.sampled_from(ODD), max_size=3))]
    for _ in range(draw(st.integers(0, 3))):
        text = draw(st.one_of(st.sampled_from(NASTY[20:]), st.text(max_size=20)))
        edits.append(("cell", ("retailers.csv", draw(st.integers(1, 90)), draw(st.sampled_from([1, 5, 6])), text)))
    return edits


def _odd(folder: Path, how: str) -> None:
    shops, staff = folder / "retailers.csv", folder / "staff.csv"
    head = shops.read_text(encoding="utf-8").splitlines()[0].split(",")
    lat, lon, pin = head.index("lat"), head.index("lon"), head.index("manager_id")
    if how == "one-point":
        _edit_csv(shops, lambda rows: [r.__setitem__(slice(lat, lon + 1), ["30.6", "104.0"]) for r in rows[1:]])
    elif how == "one-shop":
        _edit_csv(shops, lambda rows: rows.__delitem__(slice(2, None)))
    elif how == "all-on-M01":
        _edit_csv(shops, lambda rows: [r.__setitem__(pin, "M01") for r in rows[1:]])
    elif how == "two-on-M02":
        _edit_csv(shops, lambda rows: [r.__setitem__(pin, "M02" if i < 2 else "M01") for i, r in enumerate(rows[1:])])
    elif how == "M02-away":
        import calendar

        days = ";".join(f"2026-12-{d:02d}" for d in range(1, calendar.monthrange(2026, 12)[1] + 1))

        def away(rows: list[list[str]]) -> None:
            if "days_off" not in rows[0]:
                for r in rows:
                    r.append("")
                rows[0][-1] = "days_off"
            rows[2][rows[0].index("days_off")] = days

        _edit_csv(staff, away)
    elif how == "min-stops-1":
        _set_toml(folder, "rules", "min_stops_per_day", 1)
    else:
        _edit_csv(shops, lambda rows: [r.__setitem__(1, f"<b>店{i}</b>&\"'") for i, r in enumerate(rows[1:])])


def _new_manager(folder: Path, key: str, value: object) -> None:
    """A ``[[add_managers]]`` table whose ``key`` holds ``value`` (the other keys valid)."""
    table = {"id": "M09", "name": "New", "start_lat": 30.66, "start_lon": 104.07, key: value}
    body = "".join(f"{k} = {_toml_literal(v)}\n" for k, v in table.items())
    path = folder / "scenario.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[[add_managers]]\n" + body, encoding="utf-8")


def _apply(folder: Path, kind: str, args: tuple) -> None:
    EDITS[kind](folder, *args)


def _cell(folder: Path, name: str, r: int, c: int, text: str) -> None:
    def edit(rows: list[list[str]]) -> None:
        row = rows[r % len(rows)]
        if row:
            row[c % len(row)] = text

    _edit_csv(folder / name, edit)


def _column(folder: Path, name: str, c: int) -> None:
    _edit_csv(folder / name, lambda rows: [row.pop(c % len(row)) for row in rows if row])


def _row(folder: Path, name: str, r: int, how: str) -> None:
    def edit(rows: list[list[str]]) -> None:
        i = r % len(rows)
        if how == "dup":
            rows.insert(i, list(rows[i]))
        elif how == "drop" and i:
            rows.pop(i)
        else:
            rows[i] = rows[i][:2]

    _edit_csv(folder / name, edit)


def _file(folder: Path, name: str, how: str) -> None:
    path = folder / name
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    content = {
        "garbage": bytes(range(256)) * 3,
        "empty": b"",
        "latin1": "id,name\nR1,Caf\xe9\n".encode("latin-1"),
        "deep": ("a = " + "[" * 5000 + "]" * 5000 + "\n").encode(),
    }
    if how == "folder":
        path.mkdir()
    elif how in content:
        path.write_bytes(content[how])


EDITS = {
    "odd": _odd,
    "toml": lambda folder, key, value: _set_toml(folder, None, key, value),
    "rule": lambda folder, key, value: _set_toml(folder, "rules", key, value),
    "class": lambda folder, klass, key, value: _set_toml(folder, f"classes.{klass}", key, value),
    "manager": _new_manager,
    "cell": _cell,
    "column": _column,
    "row": _row,
    "file": _file,
}


def _broken_copy(tmp: Path, edits: list[tuple[str, tuple]]) -> Path:
    """A copy of the tiny scenario in ``tmp`` with the edits applied."""
    folder = tmp / "scen"
    shutil.copytree(TINY, folder)
    for kind, args in edits:
        _apply(folder, kind, args)
    return folder


def _run(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main(args)
    return code, err.getvalue()


def _assert_clean(code: int, err: str) -> None:
    assert code in (0, 1, 2), f"exit {code}: {err}"
    assert "Traceback" not in err
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, err


@settings(max_examples=EXAMPLES, deadline=None, derandomize=RANDOM is None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(broken_scenarios())
def test_validate_never_crashes(edits):
    with tempfile.TemporaryDirectory() as tmp:
        _assert_clean(*_run(["validate", str(_broken_copy(Path(tmp), edits))]))


@settings(max_examples=PLAN_EXAMPLES, deadline=None, derandomize=RANDOM is None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(st.one_of(broken_scenarios(), odd_scenarios(), odd_scenarios()))
def test_plan_never_crashes_and_writes_nothing_on_error(edits):
    with tempfile.TemporaryDirectory() as tmp:
        folder = _broken_copy(Path(tmp), edits)
        out = Path(tmp) / "out"
        code, err = _run(["plan", str(folder), "-o", str(out), "--time-limit", "1", "--workers", "1", "--quiet",
                          "--no-render"])  # fmt: skip
        _assert_clean(code, err)
        if code == 2:
            assert not out.exists(), "bad input must leave nothing behind"
        else:
            assert (out / "summary.json").is_file()


cell_values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
    st.times(),
    st.sampled_from(NASTY),
    st.text(max_size=12),
)


@st.composite
def broken_workbooks(draw: st.DrawFn) -> list[tuple[str, int, int, object]]:
    """One to four cells of the tiny scenario's workbook (sheets 门店 and 人员) set to any Excel value."""
    return [
        (draw(st.sampled_from(["门店", "人员"])), draw(st.integers(1, 94)), draw(st.integers(1, 12)), draw(cell_values))
        for _ in range(draw(st.integers(1, 4)))
    ]


@settings(max_examples=max(20, EXAMPLES // 5), deadline=None, derandomize=RANDOM is None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(broken_workbooks())
def test_workbook_cells_never_crash(cells):
    """Any cell value a workbook can hold (numbers, dates, times, booleans, any text, a header
    cell overwritten) gives a valid scenario or one line naming the sheet, row and column."""

    def edit(wb):
        for sheet, row, col, value in cells:
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)  # a workbook cannot hold them
            wb[sheet].cell(row=row, column=col, value=value)

    with tempfile.TemporaryDirectory() as tmp:
        code, err = _run(["validate", str(workbook_scenario(Path(tmp) / "wb", edit=edit))])
        _assert_clean(code, err)
        if code == 2:
            assert "sheet '" in err or "scenario.toml" in err, err

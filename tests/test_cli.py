"""The command line: plan, check, validate; bad input gives one line and exit 2, and writes nothing."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from routeplan.cli import main
from routeplan.write import defuse, restore

EVIL = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny scenario with a formula-like shop name, planned once through the CLI."""
    from conftest import TINY

    scen = tmp_path_factory.mktemp("scen") / "tiny"
    import shutil

    shutil.copytree(TINY, scen)
    rows = list(csv.reader((scen / "retailers.csv").read_text(encoding="utf-8").splitlines()))
    rows[1][1] = EVIL
    rows[2][1] = "@SUM(A1:A9)"
    with (scen / "retailers.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    out = tmp_path_factory.mktemp("out") / "plan"
    assert main(["plan", str(scen), "-o", str(out), "--time-limit", "5", "--workers", "1", "--quiet"]) == 0
    return scen, out


def test_plan_writes_every_output(planned):
    _, out = planned
    for name in ("visits.csv", "calls.csv", "summary.json", "schedule.xlsx"):
        assert (out / name).stat().st_size > 0
    header = (out / "visits.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:7] == ["manager_id", "date", "seq", "retailer_id", "arrival", "departure", "route_id"]
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert doc["feasible"] is True and doc["violation_count"] == 0
    assert doc["kpis"]["total"]["visits"] == len((out / "visits.csv").read_text().splitlines()) - 1
    assert not list(out.glob(".routeplan-*")), "temporary folder left behind"


def test_check_command_agrees(planned):
    scen, out = planned
    assert main(["check", str(scen), str(out)]) == 0


def test_a_plan_whose_days_run_past_midnight_reads_back(tiny_copy, tmp_path, capsys):
    """A team that meets at 22:00 works into the night: its visits are written as 23:50, 24:05,
    25:10 (minutes from the midnight that starts the day), and ``check`` reads them back."""
    toml = tiny_copy / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('day_start = "07:30"', 'day_start = "22:00"'),
                    encoding="utf-8")  # fmt: skip
    out = tmp_path / "night"
    code = main(["plan", str(tiny_copy), "-o", str(out), "--time-limit", "5", "--workers", "1", "--quiet",
                 "--no-render"])  # fmt: skip
    assert code == 0
    departures = [row["departure"] for row in csv.DictReader((out / "visits.csv").open(encoding="utf-8"))]
    assert max(departures) >= "24:00"
    capsys.readouterr()
    assert main(["check", str(tiny_copy), str(out)]) == 0
    assert "Every rule kept" in capsys.readouterr().out


def test_check_command_finds_a_broken_plan(planned, tmp_path):
    scen, out = planned
    broken = tmp_path / "broken"
    broken.mkdir()
    lines = (out / "visits.csv").read_text(encoding="utf-8").splitlines()
    (broken / "visits.csv").write_text("\n".join(lines[:1] + lines[2:]) + "\n", encoding="utf-8")
    (broken / "calls.csv").write_text((out / "calls.csv").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["check", str(scen), str(broken)]) == 1


@pytest.mark.parametrize(("file", "field", "value"), [("visits.csv", "retailer_id", "R9999"),
                                                      ("calls.csv", "retailer_id", "R9999"),
                                                      ("visits.csv", "manager_id", "M99")])  # fmt: skip
def test_render_of_a_plan_naming_strangers_is_one_line_exit_2(planned, tmp_path, capsys, file, field, value):
    """A plan folder whose rows name a shop or manager the scenario lacks (edited by hand, or
    drawn with another scenario) cannot be drawn: the row is named, and no map is written."""
    import shutil

    _, out = planned
    copy = tmp_path / "plan"
    shutil.copytree(out, copy, ignore=shutil.ignore_patterns("maps", "sheets"))
    rows = list(csv.reader((copy / file).read_text(encoding="utf-8").splitlines()))
    rows[3][rows[0].index(field)] = value
    with (copy / file).open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    capsys.readouterr()
    assert main(["render", str(copy), "--tiles", "none", "--no-pdf", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{file}:4" in err and f"'{field}'" in err and value in err
    assert not (copy / "maps").exists() and not (copy / "sheets").exists()


def test_formula_injection_is_defused(planned):
    _, out = planned
    text = (out / "visits.csv").read_text(encoding="utf-8")
    assert "'" + EVIL.replace('"', '""') in text
    assert "'@SUM(A1:A9)" in text
    wb = load_workbook(out / "schedule.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    hits = [c for c in cells if EVIL in c.value]
    assert hits
    assert all(c.data_type == "s" for c in hits)  # text, never a formula
    assert len(wb.sheetnames) == 3  # overview + one per manager


def test_defuse_round_trip():
    for text in ["=1+1", "+86 28 1234", "-x", "@a", "plain", "'quoted"]:
        assert restore(defuse(text)) == text


def test_bad_input_one_line_exit_2_nothing_written(tiny_copy, tmp_path):
    path = tiny_copy / "retailers.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("30.", "3x.", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "routeplan.cli", "plan", str(tiny_copy), "-o", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "retailers.csv:4" in err and "'lat'" in err
    assert not out.exists()


def test_validate(tiny_copy):
    assert main(["validate", str(tiny_copy)]) == 0
    assert main(["validate", str(tiny_copy / "missing")]) == 2


def test_internal_error_exits_3_and_saves_the_traceback(monkeypatch, tmp_path, capsys):
    import tempfile

    import routeplan.cli as cli
    from conftest import TINY

    def broken(*args, **kwargs):
        raise RuntimeError("boom\x07" + "x" * 500)

    monkeypatch.setattr(cli, "read_scenario", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["validate", str(TINY)]) == 3
    line = capsys.readouterr().err.strip()
    assert "\n" not in line and line.startswith("error: internal error (RuntimeError: boom\\x07")
    assert len(line) < 400
    saved = list(tmp_path.glob("routeplan-crash-*.txt"))
    assert len(saved) == 1 and str(saved[0]) in line
    assert "Traceback" in saved[0].read_text(encoding="utf-8")


def test_unwritable_output_is_one_line_exit_2(tmp_path, capsys):
    from conftest import TINY

    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    code = main(["plan", str(TINY), "-o", str(blocker / "out"), "--time-limit", "1", "--quiet", "--no-render"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err


def test_reproducible_plans_are_byte_identical(tmp_path):
    from conftest import TINY

    outs = [tmp_path / "a", tmp_path / "b"]
    for o in outs:
        args = ["plan", str(TINY), "-o", str(o), "--time-limit", "3", "--seed", "7", "--reproducible", "--quiet",
                "--no-render"]  # fmt: skip
        assert main(args) == 0
    for name in ("visits.csv", "calls.csv", "routes.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes()


def test_control_characters_in_names_still_give_a_workbook(tmp_path):
    import shutil

    from conftest import TINY, rewrite_csv

    scen = tmp_path / "scen"
    shutil.copytree(TINY, scen)
    rewrite_csv(scen / "retailers.csv", lambda rows: rows[1].__setitem__(1, "Bell\x07shop\x1b"))
    out = tmp_path / "out"
    assert (
        main(["plan", str(scen), "-o", str(out), "--time-limit", "2", "--workers", "1", "--quiet", "--no-render"]) == 0
    )
    texts = [c for ws in load_workbook(out / "schedule.xlsx") for row in ws.iter_rows(values_only=True) for c in row]
    assert "Bell\\x07shop\\x1b" in texts


def test_a_plan_is_never_written_over_its_scenario_or_previous_plan(tiny_copy, planned, tmp_path, capsys):
    before = sorted(p.name for p in tiny_copy.iterdir())
    assert main(["plan", str(tiny_copy), "-o", str(tiny_copy), "--quiet", "--no-render"]) == 2
    assert "the output folder is the scenario folder" in capsys.readouterr().err
    assert sorted(p.name for p in tiny_copy.iterdir()) == before
    _, out = planned
    args = ["plan", str(tiny_copy), "-o", str(out) + "/", "--previous", str(out), "--quiet", "--no-render"]
    assert main(args) == 2 and "the output folder is the --previous plan" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value"), [("--time-limit", "nan"), ("--time-limit", "inf"), ("--move-km", "nan"),
                                               ("--seed", "-1"), ("--time-limit", "0.5")])  # fmt: skip
def test_options_out_of_range_are_refused_before_planning(tmp_path, capsys, option, value):
    from conftest import TINY

    out = tmp_path / "out"
    assert main(["plan", str(TINY), "-o", str(out), option, value, "--quiet", "--no-render"]) == 2
    assert f"Invalid value for '{option}'" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [(["plan", "--bogus"], "routeplan plan: No such option '--bogus'"), (["plann"], "No such command 'plann'"),
     (["pvrp"], "routeplan pvrp: Missing argument 'INSTANCE'"),
     (["plan", "x", "--time-limit"], "routeplan plan: Option '--time-limit' requires an argument"),
     (["--bogus", "plan", "x"], "routeplan: No such option '--bogus'")],
)  # fmt: skip
def test_a_mistyped_command_line_is_one_line_with_where_to_look(capsys, args, said):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and said in err and "--help')" in err


@pytest.mark.parametrize("command", ["plan", "whatif", "compare", "pvrp"])
@pytest.mark.parametrize("where", ["a file", "under a file", "empty"])
def test_an_output_path_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, command, where):
    """A file where the output folder belongs (or a folder where pvrp's solution file does), a
    path under a file, an empty path: one line naming the path, exit 2 at once, nothing created."""
    from conftest import TINY

    taken = tmp_path / ("taken" if command != "pvrp" else "taken.d")
    if command == "pvrp":
        taken.mkdir()
    else:
        taken.write_text("keep me", encoding="utf-8")
    blocker = tmp_path / "blocker"
    blocker.write_text("keep me too", encoding="utf-8")
    out = {"a file": str(taken), "under a file": str(blocker / "out"), "empty": ""}[where]
    args = {
        "plan": ["plan", str(TINY), "-o", out, "--quiet", "--no-render"],
        "whatif": ["whatif", str(TINY), "--managers", "2,3", "-o", out],
        "compare": ["compare", str(TINY), str(TINY), "-o", out],
        "pvrp": ["pvrp", str(tmp_path / "instance.txt"), "-o", out, "--quiet"],
    }[command]
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(args) == 2
    err = capsys.readouterr().err
    kind = "file" if command == "pvrp" else "folder"
    expected = {"a file": f"error: {taken}: a {'folder' if command == 'pvrp' else 'file'} where the output {kind} belongs",
                "under a file": f"error: {blocker}: a file, so the output {kind} {out} cannot be made under it",
                "empty": f"error: field '--out': an empty path: name the output {kind}"}[where]  # fmt: skip
    assert err == expected + "\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert blocker.read_text(encoding="utf-8") == "keep me too"


def test_a_plan_cut_short_by_its_time_limit_says_more_time_may_keep_its_rules(capsys):
    """Broken rules under a limit below the suggested one point to --time-limit before the
    checker's fixes (add shops, drop a manager); at the suggested limit, for a checked plan
    (no limit known) or a team too large for its shops, they do not."""
    from conftest import TINY
    from routeplan.check import Violation
    from routeplan.cli import _causes, _report
    from routeplan.read import read_scenario
    from routeplan.solve.params import suggested_time_limit
    from routeplan.whatif import with_team_size

    scenario = read_scenario(TINY)
    short = [Violation(3, "min-stops", "M1 has 28 stops on 2026-12-07 (needs 30)", "add shops", "M1")]
    suggested = suggested_time_limit(len(scenario.retailers))
    capacity, slow = _causes(scenario, short, 2.0)
    assert capacity is None and slow is not None
    assert "The time limit of 2 s is short" in slow and f"--time-limit {suggested:g}" in slow
    _report(short, slow)
    assert slow in capsys.readouterr().out
    assert _causes(scenario, short, suggested) == (None, None) == _causes(scenario, short, None)
    assert _causes(scenario, [], 2.0) == (None, None)
    crowded = with_team_size(scenario, 12)
    capacity, slow = _causes(crowded, short, 2.0)
    assert capacity is not None and capacity.startswith("90 shops cannot give 12 managers") and slow is None


def test_the_time_note_goes_into_the_plan_notes_that_summary_json_and_the_desk_show(tmp_path):
    """A plan cut short (its month has room, its limit was 2 s) carries the note into summary.json."""
    from conftest import TINY
    from routeplan.check import Violation, check_plan
    from routeplan.cli import _causes, _with_note
    from routeplan.read import read_plan, read_scenario
    from routeplan.write import write_plan

    scenario = read_scenario(TINY)
    out = tmp_path / "out"
    assert main(["plan", str(TINY), "-o", str(out), "--time-limit", "2", "--quiet", "--no-render"]) in (0, 1)
    plan = read_plan(out)
    short = [Violation(3, "min-stops", "M1 has 28 stops on 2026-12-07 (needs 30)", "add shops", "M1")]
    _, slow = _causes(scenario, short, 2.0)
    noted = _with_note(plan, slow)
    assert noted.notes[:-1] == plan.notes and noted.notes[-1] == slow and _with_note(plan, None) == plan
    write_plan(out, scenario, noted, short + check_plan(scenario, plan))
    assert slow in json.loads((out / "summary.json").read_text(encoding="utf-8"))["notes"]


def test_the_suggested_time_limit_grows_with_the_shops_from_a_floor():
    from routeplan.solve.params import SUGGESTED_LEAST_SECONDS, suggested_time_limit

    limits = [suggested_time_limit(n) for n in (0, 1, 1500, 3000, 6000, 12000, 30000)]
    assert limits == sorted(limits) and limits[0] == SUGGESTED_LEAST_SECONDS
    assert limits[3] == 60 and limits[-1] == 540  # the benchmarks' limits at 3,000 and 30,000 shops


def test_a_long_report_shows_every_kind_of_broken_rule_and_leaves_the_rest_to_summary_json(tmp_path, capsys):
    """Thirty managers for the tiny town's 90 shops break two kinds of rule for each of them: the
    terminal shows 12 lines, both kinds among them, and says where all of them are."""
    from conftest import TINY
    from routeplan.cli import REPORT_LINES
    from routeplan.read import read_scenario
    from routeplan.whatif import with_team_size
    from routeplan.write import write_scenario

    write_scenario(tmp_path / "crowded", with_team_size(read_scenario(TINY), 30))
    out = tmp_path / "out"
    args = ["plan", str(tmp_path / "crowded"), "-o", str(out), "--time-limit", "2", "--quiet", "--no-render"]
    assert main(args) == 1
    said = capsys.readouterr().out.splitlines()
    shown = [line for line in said if line.startswith("  - rule")]
    every = json.loads((out / "summary.json").read_text(encoding="utf-8"))["violations"]
    assert len(shown) == REPORT_LINES < len(every) and all(line[4:] in every for line in shown)
    assert {"min-stops", "min-field"} <= {line.split("), ")[1].split(",")[0] for line in shown}
    assert f"  ... and {len(every) - REPORT_LINES} more lines like these, every one in {out / 'summary.json'}" in said
    assert main(["check", str(tmp_path / "crowded"), str(out)]) == 1
    assert len([line for line in capsys.readouterr().out.splitlines() if line.startswith("  - rule")]) == len(every)

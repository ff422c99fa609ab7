"""What-if: variant scenarios, territory design, team sizes and the comparison."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from routeplan.check import check_plan
from routeplan.cli import main
from routeplan.errors import InputError
from routeplan.read import read_scenario
from routeplan.solve.design import design_territories
from routeplan.solve.month import PlanParams
from routeplan.solve.naive import plan_month_naive
from routeplan.whatif import (
    MORNING_DRIVE_NOTE,
    capacity_note,
    plan_variants,
    smallest_team,
    team_estimate,
    with_team_size,
)
from routeplan.write import summary

QUICK = PlanParams(time_limit_s=4, workers=1, clock=False)


def _variant(tmp_path: Path, toml: str, files: dict[str, str] | None = None) -> Path:
    from conftest import TINY

    base = tmp_path / "tiny"
    if not base.exists():
        shutil.copytree(TINY, base)
    folder = tmp_path / "variant"
    folder.mkdir(exist_ok=True)
    (folder / "scenario.toml").write_text('extends = "../tiny"\n' + toml, encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_variant_overrides_rules_and_classes(tmp_path, tiny):
    folder = _variant(tmp_path, "[rules]\nmin_stops_per_day = 9\n[classes.B]\nvisits_per_month = 3\n")
    sc = read_scenario(folder)
    assert sc.rules.min_stops_per_day == 9
    assert sc.rules.max_day_minutes == tiny.rules.max_day_minutes, "other rules inherited"
    for old, new in zip(tiny.retailers, sc.retailers, strict=True):
        assert new.visits_per_month == (3 if old.klass == "B" else old.visits_per_month)
    assert sc.name == "variant"


def test_variant_edits_managers_and_shops(tmp_path, tiny):
    first, second = tiny.retailers[0], tiny.retailers[1]
    new_shops = "id,name,lat,lon,class\nX1,New shop,30.65,104.06,A\n"
    polygon = {
        "type": "Polygon",
        "coordinates": [[[104.0, 30.0], [104.066, 30.0], [104.066, 31.0], [104.0, 31.0], [104.0, 30.0]]],
    }
    toml = f"""remove_managers = ["M02"]
add_retailers = "new.csv"
close_retailers = ["{first.id}"]
[[add_managers]]
id = "M09"
name = "New one"
start_lat = 30.66
start_lon = 104.07
[[reassign]]
polygon = "west.geojson"
manager = "M09"
"""
    sc = read_scenario(_variant(tmp_path, toml, {"new.csv": new_shops, "west.geojson": json.dumps(polygon)}))
    assert [m.id for m in sc.managers] == ["M01", "M09"]
    ids = [r.id for r in sc.retailers]
    assert first.id not in ids and second.id in ids and "X1" in ids
    for r in sc.retailers:
        west = 104.0 < r.location.lon < 104.066
        assert (r.manager_id == "M09") == west, r


@pytest.mark.parametrize(
    "toml, files, message",
    [
        ('remove_managers = ["M77"]\n', {}, r"variant/scenario\.toml: field 'remove_managers': no manager 'M77'"),
        ('close_retailers = ["NOPE"]\n', {}, "no shop 'NOPE' to close"),
        ('add_retailers = "new.csv"\n', {"new.csv": "id,name,lat,lon,class\nR0001,Dup,30.6,104.0,A\n"},
         r"new\.csv:2: field 'id': shop 'R0001' already exists"),
        ('[[reassign]]\npolygon = "p.geojson"\nmanager = "M01"\n', {"p.geojson": '{"type": "Point"}'},
         r"p\.geojson: field 'type': no Polygon"),
        ('[[reassign]]\npolygon = "p.geojson"\nmanager = "M05"\n', {"p.geojson": "{}"}, "unknown manager 'M05'"),
    ],
)  # fmt: skip
def test_bad_variant_edits_name_file_and_field(tmp_path, toml, files, message):
    folder = _variant(tmp_path, toml, files)
    with pytest.raises(InputError, match=message):
        read_scenario(folder)
    assert main(["validate", str(folder)]) == 2


def test_extends_in_a_circle(tmp_path):
    for a in ("a", "b"):
        (tmp_path / a).mkdir()
    for a, b in (("a", "b"), ("b", "a")):
        (tmp_path / a / "scenario.toml").write_text(f'extends = "../{b}"\nmonth = "2026-12"\n', encoding="utf-8")
    with pytest.raises(InputError, match="circle"):
        read_scenario(tmp_path / "a")


def test_extends_naming_a_scenario_file_asks_for_its_folder(tmp_path):
    from conftest import TINY

    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "scenario.toml").write_text(f'extends = "{TINY / "scenario.toml"}"\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"no scenario at '.*scenario\.toml': name its folder$"):
        read_scenario(tmp_path / "v")


def test_design_balances_and_keeps_pins(tiny):
    pinned = dataclasses.replace(tiny.retailers[0], manager_id="M02")
    sc = dataclasses.replace(tiny, retailers=(pinned, *tiny.retailers[1:]))
    t = design_territories(sc)
    assert t.manager_of[pinned.id] == "M02"
    assert set(t.manager_of) == {r.id for r in sc.retailers}
    assert t.balance <= 1.05


def test_removing_a_manager_moves_few_others():
    from conftest import DEMO

    sc = read_scenario(DEMO)
    base = design_territories(sc)
    for gone in ("M02", "M04"):
        smaller = dataclasses.replace(sc, managers=tuple(m for m in sc.managers if m.id != gone))
        t = design_territories(smaller, current=base.manager_of)
        others = [r.id for r in sc.retailers if base.manager_of[r.id] != gone]
        moved = sum(1 for r in others if t.manager_of[r] != base.manager_of[r])
        assert moved <= 0.10 * len(others), (gone, moved)
        assert t.moved == moved + sum(1 for r in sc.retailers if base.manager_of[r.id] == gone)
        assert t.balance <= 1.10


def test_team_size_variants(tiny):
    three = with_team_size(tiny, 3)
    assert [m.id for m in three.managers] == ["M01", "M02", "N1"]
    assert three.managers[2].office == tiny.managers[0].office
    one = with_team_size(tiny, 1)
    assert [m.id for m in one.managers] == ["M01"]
    assert all(r.manager_id in (None, "M01") for r in one.retailers)


def test_variants_are_checked_plans(tiny):
    results = plan_variants([("one", with_team_size(tiny, 1)), ("two", tiny)], QUICK, workers=2)
    assert [r.name for r in results] == ["one", "two"]
    for r in results:
        assert list(r.violations) == check_plan(r.scenario, r.plan)
        assert {v.manager_id for v in r.plan.visits} <= {m.id for m in r.scenario.managers}
        assert all(r.territories.manager_of[v.retailer_id] == v.manager_id for v in r.plan.visits)


def test_smallest_team_is_the_smallest(tiny):
    strict = dataclasses.replace(tiny, rules=dataclasses.replace(tiny.rules, max_day_minutes=300))
    best, tried = smallest_team(strict, QUICK, workers=2, largest=4)
    sizes = {len(r.scenario.managers): r for r in tried}
    assert best is not None and sizes[best].feasible
    assert best == 1 or not sizes[best - 1].feasible, "one fewer breaks a rule"


def test_whatif_and_compare_cli(tmp_path):
    from conftest import TINY

    out = tmp_path / "wi"
    args = ["whatif", str(TINY), "--managers", "1,2", "-o", str(out), "--time-limit", "4", "--quiet"]
    assert main(args) == 0
    assert (out / "1-manager" / "visits.csv").is_file()
    assert (out / "2-managers" / "scenario" / "scenario.toml").is_file()
    rows = list(csv.reader((out / "comparison.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["figure", "1 manager", "2 managers"]
    table = {r[0]: r[1:] for r in rows[1:]}
    assert table["managers"] == ["1", "2"]
    assert table["shops that change manager"][1] == "0", "the team as is keeps the current split"
    html = (out / "comparison.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "workload balance" in html

    report = tmp_path / "cmp"
    assert main(["compare", str(out / "2-managers"), str(out / "1-manager"), "-o", str(report)]) == 0
    rows = list(csv.reader((report / "comparison.csv").read_text(encoding="utf-8").splitlines()))
    table = {r[0]: r[1:] for r in rows[1:]}
    moved = int(table["shops that change manager"][1])
    assert moved > 0 and table["shops that change manager"][0] == "0"


def test_whatif_writes_its_plans_and_report_all_or_nothing(tmp_path, monkeypatch, capsys):
    """A report that cannot be written (a disk full, say) leaves no variant folder behind."""
    import errno

    from conftest import TINY
    from routeplan.render import report

    def full(*args: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report, "report_html", full)
    out = tmp_path / "wi"
    assert main(["whatif", str(TINY), "--managers", "1", "-o", str(out), "--time-limit", "2", "--quiet"]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_whatif_bad_sizes(tmp_path):
    from conftest import TINY

    assert main(["whatif", str(TINY), "--managers", "two", "-o", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()


def test_fixed_territories_keep_the_design(tiny):
    from routeplan.solve.month import plan_month

    plan = plan_month(tiny, PlanParams(time_limit_s=4, workers=1, territories="fixed", clock=False), seed=0)
    designed = design_territories(tiny, seed=0).manager_of
    assert all(designed[v.retailer_id] == v.manager_id for v in plan.visits)
    assert {v.retailer_id for v in plan.visits} == {r.id for r in tiny.retailers}
    assert check_plan(tiny, plan) == [], "the tiny town keeps every rule with designed territories"


def test_a_territory_far_from_the_office_gets_less_visiting_for_its_morning_drive():
    """Every working day of a far territory starts with the drive out: the design counts it, so
    the farthest territory carries fewer visits than the nearest (equal work, not equal visits)."""
    import numpy as np

    from routeplan.geo import LatLon, haversine_km
    from routeplan.model import Rules
    from routeplan.synth import shape, synthetic_scenario

    rules = Rules(min_stops_per_day=8, min_field_minutes=90, max_day_minutes=600)
    sc = synthetic_scenario(shape("city", 600, 4), seed=2, rules=rules)
    corner = LatLon(min(r.location.lat for r in sc.retailers), min(r.location.lon for r in sc.retailers))
    sc = dataclasses.replace(sc, managers=tuple(dataclasses.replace(m, office=corner) for m in sc.managers))
    design = design_territories(sc, seed=0)
    visits, km = {}, {}
    for m in sc.managers:
        mine = [r for r in sc.retailers if design.manager_of[r.id] == m.id]
        visits[m.id] = sum(r.visits_per_month for r in mine)
        km[m.id] = float(np.mean([haversine_km(r.location.lat, r.location.lon, corner.lat, corner.lon) for r in mine]))
    near, far = min(km, key=km.__getitem__), max(km, key=km.__getitem__)
    assert visits[near] >= 1.1 * visits[far]
    assert design.balance < 1.1  # the estimated work stays balanced


def test_a_fresh_design_keeps_the_managers_names():
    from conftest import DEMO

    sc = read_scenario(DEMO)
    days = len(sc.working_days(sc.managers[0]))
    ids = [m.id for m in sc.managers if len(sc.working_days(m)) == days]  # M03 has a day off: he keeps his
    assert len(ids) >= 3
    renamed = {m.id: m.id for m in sc.managers} | dict(zip(ids, ids[1:] + ids[:1], strict=True))  # names rotated
    current = {shop: renamed[mid] for shop, mid in design_territories(sc).manager_of.items()}
    t = design_territories(sc, current=current, fresh=True)
    assert dict(t.manager_of) == current and t.moved == 0


@pytest.mark.parametrize("apart", ["pinned shop", "other office"])
def test_a_fresh_design_trades_territories_only_between_like_managers(tiny, apart):
    if apart == "pinned shop":
        shop = dataclasses.replace(tiny.retailers[0], manager_id="M02")
        sc = dataclasses.replace(tiny, retailers=(shop, *tiny.retailers[1:]))
    else:
        office = tiny.managers[1].office._replace(lat=tiny.managers[1].office.lat + 0.001)
        sc = dataclasses.replace(
            tiny, managers=(tiny.managers[0], dataclasses.replace(tiny.managers[1], office=office))
        )
    fresh = design_territories(sc).manager_of
    swapped = {shop: {"M01": "M02", "M02": "M01"}[mid] for shop, mid in fresh.items()}
    t = design_territories(sc, current=swapped, fresh=True)
    assert dict(t.manager_of) == dict(fresh)  # M02 keeps its pinned shop or its office: no trade
    assert t.moved == len(sc.retailers)


@pytest.mark.parametrize("target", [float("inf"), 0.5])
def test_a_variant_that_misses_the_balance_is_designed_afresh_and_the_best_plan_kept(tiny, monkeypatch, target):
    import routeplan.whatif as whatif

    designs, plans = [], []
    design, plan = whatif.design_territories, whatif.plan_company

    def spy_design(*args, **kwargs):
        designs.append(kwargs.get("fresh", False))
        return design(*args, **kwargs)

    def spy_plan(scenario, params, *, seed):
        planned = plan(scenario, params, seed=seed)
        plans.append((len(check_plan(tiny, planned)), whatif._balance(tiny, planned)))
        return planned

    monkeypatch.setattr(whatif, "design_territories", spy_design)
    monkeypatch.setattr(whatif, "plan_company", spy_plan)
    current = dict(design_territories(tiny).manager_of)
    v = whatif.plan_variant("two", tiny, QUICK, current, 0, balance_target=target)
    if target == float("inf"):
        assert designs == [False] and len(plans) == 1
    else:  # never met: every corrected design, then a fresh one
        assert designs == [False] * (1 + whatif.RETRIES) + [True]
    assert (len(v.violations), whatif._balance(tiny, v.plan)) == min(plans)
    assert list(v.violations) == check_plan(tiny, v.plan)


def test_a_month_too_short_for_its_visits_is_named_as_the_cause(tiny):
    """The tiny town's two managers have room in December; with one manager and a February whose
    Spring Festival takes 7 working days, the report says the month is the cause and the fix."""
    from datetime import date

    assert capacity_note(tiny) is None
    spring = frozenset({date(2027, 2, d) for d in (8, 9, 10, 11, 12, 15, 16)})
    short = dataclasses.replace(tiny, calendar=dataclasses.replace(tiny.calendar, year=2027, month=2, holidays=spring))
    alone = with_team_size(dataclasses.replace(short, rules=dataclasses.replace(short.rules, max_day_minutes=240)), 1)
    need = team_estimate(alone)
    note = capacity_note(alone)
    assert need > 1 and note is not None
    assert note.startswith("The month's 13 working days (7 lost to holidays)")
    assert f"about {need} managers' for a team of 1" in note and "Approve fewer visits for this month" in note
    plan = plan_month_naive(alone)
    broken = check_plan(alone, plan)
    assert broken and summary(alone, plan, broken)["capacity"] == note  # summary.json, and so the desk
    assert summary(tiny, plan_month_naive(tiny), [])["capacity"] is None
    assert "drive from the office" not in note


def test_a_team_whose_mornings_are_long_drives_hears_that_nearer_starts_would_need_less(tiny):
    """One manager starting 30 km from the tiny town: the capacity note names the morning
    drive's share of the work and what shortens it (a February too short, above, does not)."""
    from routeplan.geo import LatLon
    from routeplan.solve.design import shop_work, shop_work_parts

    def share(sc: object) -> float:
        work, morning = shop_work_parts(sc)
        assert (work == shop_work(sc)).all() and (morning >= 0).all() and (morning < work).all()
        return float(morning.sum() / work.sum())

    alone = with_team_size(dataclasses.replace(tiny, rules=dataclasses.replace(tiny.rules, max_day_minutes=180)), 1)
    far_office = LatLon(alone.managers[0].office.lat + 0.27, alone.managers[0].office.lon)  # 30 km north
    far = dataclasses.replace(alone, managers=(dataclasses.replace(alone.managers[0], office=far_office),))
    assert share(alone) < 0.5 * share(far) and share(far) >= MORNING_DRIVE_NOTE
    note = capacity_note(far)
    assert note is not None and f"About {share(far):.0%} of that work is the drive from the office" in note
    assert "start_lat/start_lon" in note


_NEW_MANAGER = 'id = "M09"\nname = "New one"\nstart_lat = 30.66\nstart_lon = 104.07\n'


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("min_stops_per_day = [1]", "min_stops_per_day"),
        ("min_stops_per_day = 1.5", "min_stops_per_day"),
        ("min_stops_per_day = 10000000", "min_stops_per_day"),
        ("days_off = 5", "days_off"),
        ('days_off = ["soon"]', "days_off"),
        ('return_to_office = "no"', "return_to_office"),
        ("office = 5", "office"),
        ("bogus = 1", "bogus"),
    ],
)
def test_a_new_manager_s_keys_of_the_wrong_type_are_named(tmp_path, line: str, field: str):
    folder = _variant(tmp_path, f"[[add_managers]]\n{_NEW_MANAGER}{line}\n")
    with pytest.raises(InputError) as err:
        read_scenario(folder)
    assert (err.value.field, err.value.file) == (f"add_managers[0].{field}", str(folder / "scenario.toml"))


@pytest.mark.parametrize(
    ("key", "value"), [("id", "5"), ("name", "{}"), ("start_lat", '"30.6"'), ("start_lon", "true")]
)
def test_a_new_manager_s_required_keys_must_have_their_type(tmp_path, key: str, value: str):
    table = "".join(line + "\n" for line in _NEW_MANAGER.splitlines() if not line.startswith(key + " "))
    folder = _variant(tmp_path, f"[[add_managers]]\n{table}{key} = {value}\n")
    with pytest.raises(InputError) as err:
        read_scenario(folder)
    assert err.value.field == f"add_managers[0].{key}"


def test_a_new_manager_s_typed_keys_are_kept(tmp_path):
    extra = 'days_off = [2026-12-03, "2026-12-04"]\nreturn_to_office = true\nmin_stops_per_day = 7\noffice = "East"\n'
    sc = read_scenario(_variant(tmp_path, f"[[add_managers]]\n{_NEW_MANAGER}{extra}"))
    m = next(m for m in sc.managers if m.id == "M09")
    assert (m.name, m.min_stops_per_day, m.return_to_office, m.office_id) == ("New one", 7, True, "East")
    assert sorted(d.day for d in m.days_off) == [3, 4]


def test_a_polygon_that_is_not_a_file_name_is_named(tmp_path):
    folder = _variant(tmp_path, '[[reassign]]\npolygon = 5\nmanager = "M01"\n')
    with pytest.raises(InputError) as err:
        read_scenario(folder)
    assert err.value.field == "reassign[0].polygon"


def test_a_team_larger_than_the_shops_is_refused_at_once(tmp_path, capsys):
    """--managers 999 for 90 shops (a slip for 9?) is one line and exit 2, nothing planned or written."""
    from conftest import TINY

    out = tmp_path / "out"
    assert main(["whatif", str(TINY), "--managers", "3,999", "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a team of 999 for 90 open shops" in err
    assert not out.exists()


def test_a_team_too_large_for_its_shops_is_told_how_large_a_team_fits(tiny):
    """90 shops and a daily minimum of 8 stops: 11 managers can each have 8 shops of their own,
    12 cannot, and the plan of 12 breaks the minimum whatever its routes; the note says so."""
    assert capacity_note(with_team_size(tiny, 11)) is None
    crowded = with_team_size(tiny, 12)
    note = capacity_note(crowded)
    assert note is not None and note.startswith("90 shops cannot give 12 managers their daily minimum of stops")
    assert "A team of at most 11 can keep it" in note
    broken = check_plan(crowded, plan_month_naive(crowded))
    assert "min-stops" in {v.code for v in broken}
    assert summary(crowded, plan_month_naive(crowded), broken)["capacity"] == note
    few = dataclasses.replace(with_team_size(tiny, 1), retailers=tiny.retailers[:5])
    assert capacity_note(few) == (
        "5 shops cannot give 1 manager their daily minimum of stops: each manager needs at least that many shops "
        "of his own (8 a day). Lower min_stops_per_day, or add the territory's other shops."
    )

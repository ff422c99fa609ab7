"""A city company: shops shared among market offices, each office planned apart."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import rewrite_csv
from routeplan.calendar import Calendar
from routeplan.check import check_plan
from routeplan.cli import main
from routeplan.errors import InputError
from routeplan.geo import LatLon, haversine_km, neighbour_share
from routeplan.model import Rules, Scenario
from routeplan.plan import Plan
from routeplan.read import read_scenario
from routeplan.routebook import RouteBook, stability
from routeplan.solve.company import (
    continue_company,
    hand_out,
    office_scenarios,
    plan_company,
    share_among_offices,
)
from routeplan.solve.continuation import continued_calendar
from routeplan.solve.month import PlanParams, plan_month
from routeplan.synth import shape, synthetic_scenario
from routeplan.write import write_scenario

RULES = Rules(min_stops_per_day=8, min_field_minutes=90, max_day_minutes=600)


def _company(n: int = 240, managers: int = 4) -> Scenario:
    """Two market offices 16 km apart, named in the staff list (East, West)."""
    sc = synthetic_scenario(shape("two_offices", n, managers), seed=3, rules=RULES)
    west = min(m.office.lon for m in sc.managers)
    team = tuple(dataclasses.replace(m, office_id="West" if m.office.lon == west else "East") for m in sc.managers)
    return dataclasses.replace(sc, managers=team)


def test_offices_default_to_start_positions_or_the_staff_list():
    sc = synthetic_scenario(shape("two_offices", 60, 4), seed=1, rules=RULES)
    assert sc.office_of_manager() == {"M01": "O1", "M02": "O2", "M03": "O1", "M04": "O2"}
    assert list(_company().offices()) == ["West", "East"]


def test_offices_get_compact_areas_in_proportion_to_their_teams():
    sc = _company(400, 6)
    share = share_among_offices(sc, seed=0)
    teams = sc.offices()
    starts = {o: team[0].office for o, team in teams.items()}
    lat = np.array([r.location.lat for r in sc.retailers])
    lon = np.array([r.location.lon for r in sc.retailers])
    got = np.array([share[r.id] for r in sc.retailers])
    labels = (got == "East").astype(int)
    assert neighbour_share(lat, lon, labels, k=8) >= 0.9  # compact: a shop's neighbours share its office
    for office, p in starts.items():  # and each office's shops lie around it, not around the other
        other = next(q for o, q in starts.items() if o != office)
        mine = got == office
        assert np.median(haversine_km(lat[mine], lon[mine], p.lat, p.lon)) < np.median(
            haversine_km(lat[mine], lon[mine], other.lat, other.lon)
        )
    work = {o: sum(r.visits_per_month for r in sc.retailers if share[r.id] == o) for o in teams}
    total = sum(work.values())
    for office, team in teams.items():  # each office's share of the visits follows its team (3 and 3)
        assert abs(work[office] / total - len(team) / len(sc.managers)) < 0.1


def test_pins_decide_the_office():
    sc = _company()
    far_east = max(sc.retailers, key=lambda r: r.location.lon)
    west_manager = next(m for m in sc.managers if m.office_id == "West")
    near_west = min(sc.retailers, key=lambda r: r.location.lon)
    shops = [
        dataclasses.replace(r, office_id="West") if r.id == far_east.id
        else dataclasses.replace(r, manager_id=west_manager.id) if r.id == sc.retailers[5].id
        else dataclasses.replace(r, office_id="East") if r.id == near_west.id
        else r
        for r in sc.retailers
    ]  # fmt: skip
    share = share_among_offices(dataclasses.replace(sc, retailers=tuple(shops)), seed=0)
    assert share[far_east.id] == "West" and share[near_west.id] == "East"
    assert share[sc.retailers[5].id] == "West"


def test_a_company_plan_keeps_every_rule_and_each_office_its_shops():
    sc = _company()
    params = PlanParams(time_limit_s=4, workers=1, clock=False)
    plan = plan_company(sc, params, seed=0)
    assert check_plan(sc, plan) == []
    share = share_among_offices(sc, seed=0)
    of = sc.office_of_manager()
    assert all(share[v.retailer_id] == of[v.manager_id] for v in plan.visits)
    assert {v.retailer_id for v in plan.visits} == {r.id for r in sc.retailers}
    # the same plan whether the offices are planned one after the other or in two processes
    again = plan_company(sc, dataclasses.replace(params, workers=2), seed=0)
    assert again.visits == plan.visits and again.routes == plan.routes


def test_one_office_is_the_month_planner():
    sc = synthetic_scenario(shape("city", 120, 2), seed=5, rules=RULES)
    params = PlanParams(time_limit_s=3, workers=1, clock=False)
    assert plan_company(sc, params, seed=1).visits == plan_month(sc, params, seed=1).visits


def test_an_office_without_shops_has_no_month():
    sc = _company(80, 4)
    pinned = tuple(dataclasses.replace(r, office_id="West") for r in sc.retailers)
    parts = office_scenarios(sc, share_among_offices(dataclasses.replace(sc, retailers=pinned), seed=0))
    assert [office for office, _ in parts] == ["West"]


def test_office_columns_are_read_written_and_checked(tmp_path: Path):
    folder = tmp_path / "company"
    write_scenario(folder, _company())
    sc = read_scenario(folder)
    assert list(sc.offices()) == ["West", "East"]
    shops = folder / "retailers.csv"
    office_col = shops.read_text(encoding="utf-8").splitlines()[0].split(",").index("office")
    rewrite_csv(shops, lambda rows: rows[3].__setitem__(office_col, "North"))
    with pytest.raises(InputError) as err:
        read_scenario(folder)
    assert err.value.row == 4 and err.value.field == "office" and "not an office" in err.value.detail
    manager_col = shops.read_text(encoding="utf-8").splitlines()[0].split(",").index("manager_id")
    east = next(m.id for m in sc.managers if m.office_id == "East")

    def conflict(rows):
        rows[3][office_col] = "West"
        rows[3][manager_col] = east

    rewrite_csv(shops, conflict)
    with pytest.raises(InputError) as err:
        read_scenario(folder)
    assert err.value.row == 4 and f"its manager {east} works from 'East'" in err.value.detail


def test_summary_reports_each_office(tmp_path: Path):
    folder = tmp_path / "company"
    write_scenario(folder, _company())
    out = tmp_path / "plan"
    assert main(["plan", str(folder), "-o", str(out), "--time-limit", "4", "--reproducible", "--quiet",
                 "--no-render"]) == 0  # fmt: skip
    doc = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    offices = doc["offices"]
    assert set(offices) == {"West", "East"}
    assert sum(o["visits"] for o in offices.values()) == doc["kpis"]["total"]["visits"]
    assert sum(o["km"] for o in offices.values()) == pytest.approx(doc["kpis"]["total"]["km"], abs=0.2)
    assert sum(o["shops"] for o in offices.values()) == 240


def test_a_large_office_is_planned_as_territory_groups(monkeypatch):
    """Above GROUP_SHOPS an office is split among groups of its managers: every shop and manager
    in exactly one group, pins kept, the groups compact; the plan keeps every rule."""
    from routeplan.solve import company

    monkeypatch.setattr(company, "GROUP_SHOPS", 70)
    sc = synthetic_scenario(shape("city", 200, 4), seed=8, rules=RULES)
    pinned = sc.retailers[10]
    sc = dataclasses.replace(sc, retailers=tuple(
        dataclasses.replace(r, manager_id="M04") if r.id == pinned.id else r for r in sc.retailers
    ))  # fmt: skip
    groups = company.territory_groups(sc, seed=0)
    assert len(groups) == 3
    managers = [m.id for _, g in groups for m in g.managers]
    shops = [r.id for _, g in groups for r in g.retailers]
    assert sorted(managers) == ["M01", "M02", "M03", "M04"] and sorted(shops) == sorted(r.id for r in sc.retailers)
    home = next(g for _, g in groups if pinned.id in {r.id for r in g.retailers})
    assert "M04" in {m.id for m in home.managers}
    share = {r.id: i for i, (_, g) in enumerate(groups) for r in g.retailers}
    lat = np.array([r.location.lat for r in sc.retailers])
    lon = np.array([r.location.lon for r in sc.retailers])
    assert neighbour_share(lat, lon, np.array([share[r.id] for r in sc.retailers]), k=8) >= 0.85
    monkeypatch.setattr(company, "ONE_PROBLEM_SHOPS", 70)
    plan = plan_company(sc, PlanParams(time_limit_s=3, workers=1, clock=False), seed=0)
    assert check_plan(sc, plan) == []


@pytest.mark.parametrize("asked", ["auto", "compact"])
def test_territory_groups_are_planned_in_the_shape_of_their_office_design(monkeypatch, asked):
    """Each group of a large office keeps the shape the office's design took (a sector of wedges
    is planned as wedges), instead of choosing again on its own shops."""
    from routeplan.solve import company
    from routeplan.solve.design import design_territories

    monkeypatch.setattr(company, "GROUP_SHOPS", 70)
    monkeypatch.setattr(company, "ONE_PROBLEM_SHOPS", 70)
    sc = synthetic_scenario(shape("city", 200, 4), seed=8, rules=RULES)
    office = design_territories(sc, seed=0, shape=asked)
    groups, shape_name = company.shaped_groups(sc, seed=0, shape=asked)
    assert len(groups) == 3
    assert shape_name == ("wedges" if office.wedges else "compact")
    assert asked == "auto" or shape_name == asked
    seen = []

    def spy(job):
        seen.append((job[0].name, job[1].territory_shape))
        return company.plan_month(job[0], job[1], seed=job[2])

    monkeypatch.setattr(company, "plan_task", spy)
    plan = plan_company(sc, PlanParams(time_limit_s=3, workers=1, clock=False, territory_shape=asked), seed=0)
    assert sorted(name.rsplit(": ", 1)[1] for name, _ in seen) == ["group 1", "group 2", "group 3"]
    assert {planned for _, planned in seen} == {shape_name}
    assert check_plan(sc, plan) == []


def _next_month(sc: Scenario, **fields: object) -> Scenario:
    """The scenario in January 2027 (no holidays), with the given fields replaced."""
    cal = Calendar(2027, 1, sc.calendar.workdays, frozenset(), sc.calendar.cycle_weeks)
    return dataclasses.replace(sc, **{"calendar": cal, **fields})


def test_a_company_continues_office_by_office():
    """A continued company month: each office continues its own routes; a leaving manager's shops
    stay in his office, a new shop goes to the office around it, a closed one leaves; the same
    plan with one process or two."""
    sc = _company(240, 6)
    params = PlanParams(time_limit_s=4, workers=1, clock=False)
    december = plan_company(sc, params, seed=0)
    book = RouteBook.of(sc, december)
    of = sc.office_of_manager()
    before = december.manager_of()
    leaver = [m for m in sc.managers if of[m.id] == "East"][-1]
    closed = sc.retailers[0]
    host = next(r for r in sc.retailers if of[before[r.id]] == "West" and r.id != closed.id)
    new = dataclasses.replace(host, id="NEW1", location=LatLon(host.location.lat + 0.0004, host.location.lon))
    jan = _next_month(
        sc, managers=tuple(m for m in sc.managers if m.id != leaver.id), retailers=(*sc.retailers[1:], new)
    )  # fmt: skip
    plan = continue_company(jan, book, params, seed=0)
    assert check_plan(continued_calendar(jan, book), plan) == []
    after = plan.manager_of()
    assert of[after["NEW1"]] == "West"
    why = {c.retailer_id: c.why for c in plan.changes if c.kind == "manager"}
    for shop, manager in before.items():
        if shop == closed.id:
            assert shop not in after
        elif manager == leaver.id:
            assert of[after[shop]] == "East" and why[shop] == f"{leaver.id} left the team"
        elif of[manager] == "West":  # the West office's team did not change
            assert after[shop] == manager
        elif after[shop] != manager:  # the East office's routes are redrawn for its smaller team: with a reason
            assert why[shop]
    kinds = {(c.retailer_id, c.kind) for c in plan.changes}
    assert (closed.id, "closed") in kinds and ("NEW1", "new") in kinds
    # a reason never names another manager than the one the shop went to
    staff = {m.id for m in sc.managers}
    for c in plan.changes:
        named = {word.strip(":,") for word in c.why.split()} & staff
        assert named <= {leaver.id} | {word.split("-")[0] for word in f"{c.before} {c.after}".split()}, c
    again = continue_company(jan, book, dataclasses.replace(params, workers=2), seed=0)
    assert again.visits == plan.visits and again.routes == plan.routes


def test_a_large_office_continues_group_by_group(monkeypatch):
    """A continued month of a large office keeps its groups as the book has them: with nothing
    changed, every shop keeps its manager and what moves is only what the calendar forces."""
    from routeplan.solve import company

    monkeypatch.setattr(company, "GROUP_SHOPS", 70)
    monkeypatch.setattr(company, "ONE_PROBLEM_SHOPS", 70)
    sc = synthetic_scenario(shape("city", 200, 4), seed=8, rules=RULES)
    params = PlanParams(time_limit_s=3, workers=1, clock=False)
    december = plan_company(sc, params, seed=0)
    book = RouteBook.of(sc, december)
    jan = _next_month(sc)
    plan = continue_company(jan, book, params, seed=0)
    assert check_plan(continued_calendar(jan, book), plan) == []
    st = stability(december.routes, plan.routes)
    assert st["keep_manager"] == 1.0 and st["keep_route"] >= 0.9
    assert all(c.why.startswith(("its routes give no", "repairs")) for c in plan.changes if c.kind != "order")


def test_cli_continues_a_company(tmp_path: Path):
    """`plan --previous` of a company with named offices: each office continues its routes, the
    summary reports the stability and each office, and `check --previous` passes."""
    folder = tmp_path / "company"
    write_scenario(folder, _company())
    december = tmp_path / "dec"
    common = ["--time-limit", "4", "--reproducible", "--quiet", "--no-render"]
    assert main(["plan", str(folder), "-o", str(december), *common]) == 0
    toml = folder / "scenario.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'month = "2026-12"' in text
    toml.write_text(text.replace('month = "2026-12"', 'month = "2027-01"'), "utf-8")
    january = tmp_path / "jan"
    assert main(["plan", str(folder), "-o", str(january), "--previous", str(december), *common]) == 0
    doc = json.loads((january / "summary.json").read_text(encoding="utf-8"))
    assert set(doc["offices"]) == {"West", "East"}
    assert doc["stability"]["keep_manager"] == 1.0 and doc["stability"]["keep_route"] >= 0.9
    assert (january / "changes.csv").is_file()
    assert main(["check", str(folder), str(january), "--previous", str(december)]) == 0


def test_hand_over_gives_the_border_shops_and_keeps_pins():
    """An office with long days hands its free shops nearest to its neighbour, about
    HANDOVER_SHARE of its estimated work; pinned shops stay."""
    from routeplan.solve import company
    from routeplan.solve.design import positions_km, shop_work

    sc = _company()
    parts = dict(office_scenarios(sc, share_among_offices(sc, seed=0)))
    west, east = parts["West"], parts["East"]
    east_lon = np.mean([r.location.lon for r in east.retailers])
    nearest = min(west.retailers, key=lambda r: abs(r.location.lon - east_lon))
    pinned = dataclasses.replace(nearest, manager_id=west.managers[0].id)
    west = dataclasses.replace(west, retailers=tuple(pinned if r.id == pinned.id else r for r in west.retailers))
    giver, taker, moved = company._hand_over(west, east)
    assert moved and pinned.id not in moved
    assert {r.id for r in giver.retailers} == {r.id for r in west.retailers} - set(moved)
    assert {r.id for r in taker.retailers} == {r.id for r in east.retailers} | set(moved)
    work = dict(zip([r.id for r in west.retailers], shop_work(west), strict=True))
    share = sum(work[s] for s in moved) / sum(work.values())
    assert company.HANDOVER_SHARE <= share < company.HANDOVER_SHARE + max(work.values()) / sum(work.values())
    # the shops handed over are the free ones nearest to the taker
    both = dataclasses.replace(sc, retailers=(*west.retailers, *east.retailers))
    xy, _ = positions_km(both)
    n = len(west.retailers)
    gap = {r.id: float(np.min(np.hypot(*(xy[n:] - xy[i]).T))) for i, r in enumerate(west.retailers)}
    kept_free = [r.id for r in giver.retailers if r.id != pinned.id]
    assert max(gap[s] for s in moved) <= min(gap[s] for s in kept_free)


def test_relieve_hands_work_over_until_the_days_fit(monkeypatch):
    """Parts with long days hand shops to the neighbour that keeps the limit, and only the parts
    that changed are planned again, until no day is long or the rounds are spent."""
    from routeplan.solve import company

    sc = _company()
    parts = office_scenarios(sc, share_among_offices(sc, seed=0))
    size = {name: len(sub.retailers) for name, sub in parts}
    limit = size["West"] - 5  # "long days" while West holds more than this many shops

    def check(sub, plan):  # (long days, rules broken): every long day is the one broken rule
        long = max(0, len(sub.retailers) - limit) if sub.name.endswith("West") else 0
        return long, long

    monkeypatch.setattr(company, "_check", check)
    asked: list[list[str]] = []

    def replan(some):
        asked.append(sorted(name for name, _ in some))
        return {name: Plan(sub.name, (), ()) for name, sub in some}

    plans = {name: Plan(sub.name, (), ()) for name, sub in parts}
    after, handed = company._relieve(parts, plans, replan, deadline=float("inf"))
    final = dict(after)
    assert len(final["West"].retailers) <= limit
    assert len(final["West"].retailers) + len(final["East"].retailers) == sum(size.values())
    assert set(handed) == {r.id for r in final["East"].retailers} - {r.id for r in dict(parts)["East"].retailers}
    assert all(text == "to East: relieves the long days of West" for text in handed.values())
    assert asked and all(names == ["East", "West"] for names in asked)


def test_relieve_starts_no_round_it_cannot_finish(monkeypatch):
    """A hand-over round re-plans two parts: it is not started when their plans took longer than
    the time left."""
    import time

    from routeplan.solve import company

    sc = _company()
    parts = office_scenarios(sc, share_among_offices(sc, seed=0))
    monkeypatch.setattr(company, "_check", lambda sub, plan: (int(sub.name.endswith("West")),) * 2)
    plans = {name: Plan(sub.name, (), (), solve_seconds=60.0) for name, sub in parts}

    def replan(some):
        raise AssertionError("no round fits in the time left")

    after, handed = company._relieve(parts, plans, replan, deadline=time.monotonic() + 30.0, at_once=2)
    assert after == parts and handed == {}


def test_relieve_undoes_a_hand_over_that_breaks_more(monkeypatch):
    """When the two parts of a hand-over break more rules after it than before, it is undone."""
    from routeplan.solve import company

    sc = _company()
    parts = office_scenarios(sc, share_among_offices(sc, seed=0))
    size = {name: len(sub.retailers) for name, sub in parts}

    def check(sub, plan):  # West has a long day; every shop East takes costs it ten broken rules
        west = sub.name.endswith("West")
        return int(west), int(west) if west else 10 * (len(sub.retailers) - size["East"])

    monkeypatch.setattr(company, "_check", check)
    rounds: list[int] = []

    def replan(some):
        rounds.append(len(some))
        return {name: Plan(sub.name, (), ()) for name, sub in some}

    plans = {name: Plan(sub.name, (), ()) for name, sub in parts}
    after, handed = company._relieve(parts, plans, replan, deadline=float("inf"))
    assert after == parts and handed == {} and rounds == [2]


def _swaps_that_shorten(xy: np.ndarray, anchors: np.ndarray, labels: np.ndarray) -> int:
    """Pairs of points in different areas that would both be nearer their offices swapped."""
    dist = np.sqrt(((xy[:, None, :] - anchors[None, :, :]) ** 2).sum(-1))
    own = dist[np.arange(len(xy)), labels]
    # i's distance to j's office + j's distance to i's office, against what they drive now
    crossed = dist[:, labels] + dist[:, labels].T
    now = own[:, None] + own[None, :]
    return int(np.sum(np.triu(crossed < now - 1e-9, 1)))


def test_offices_share_the_city_by_nearness_within_their_shares():
    from routeplan.solve.territory import nearest_anchors

    rng = np.random.default_rng(4)
    xy = np.vstack([rng.normal((0, 0), 6, (500, 2)), rng.normal((25, 5), 3, (100, 2))])  # a dense centre, a town
    anchors = np.array([[-8.0, 0.0], [8.0, 0.0], [0.0, 12.0]])
    weights = np.ones(len(xy))
    shares = np.array([0.5, 0.3, 0.2])
    fixed = np.full(len(xy), -1)
    fixed[:3] = 2  # pinned to the third office whatever their distance
    labels = nearest_anchors(xy, weights, anchors, fixed=fixed, shares=shares)
    load = np.bincount(labels, minlength=3) / len(xy)
    assert np.all(np.abs(load / shares - 1) <= 0.02 + 1e-9)
    assert np.all(labels[:3] == 2)
    free = np.flatnonzero(fixed < 0)
    # no two shops would both be nearer their offices if they swapped: the borders only moved
    # as far as the shares demand
    assert _swaps_that_shorten(xy[free], anchors, labels[free]) == 0
    # none of the town far east goes to the office furthest from it
    assert not np.any(labels[500:] == 0)


def test_an_office_with_no_working_days_takes_only_its_pinned_shops():
    from routeplan.solve.territory import nearest_anchors

    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 20, (200, 2))
    fixed = np.full(200, -1)
    fixed[7] = 1
    labels = nearest_anchors(xy, np.ones(200), np.array([[0.0, 0.0], [20.0, 20.0]]), fixed=fixed,
                             shares=np.array([1.0, 0.0]))  # fmt: skip
    assert np.flatnonzero(labels == 1).tolist() == [7]


class _SlowMachine:
    """Two workers on a clock of their own, whose parts take all the time their clock gives
    them; the company planner waits for the part that ends first. The split among offices
    takes ``split`` seconds (after the planner reads the clock the first time). Records each
    part's (shops, start, seconds its search is sized for, seconds of its clock, end)."""

    def __init__(self, split: float = 0.0) -> None:
        self.now, self.split, self.read = 0.0, split, False
        self.ends: dict[object, float] = {}
        self.runs: list[tuple[int, float, float, float, float]] = []

    def monotonic(self) -> float:
        if self.read and self.split:
            self.now, self.split = self.now + self.split, 0.0
        self.read = True
        return self.now

    def submit(self, fn, job):
        from concurrent.futures import Future

        sub, params, _ = job
        clock = params.deadline(0.0)
        self.runs.append((len(sub.retailers), self.now, params.time_limit_s, clock, self.now + clock))
        fut: Future = Future()
        fut.set_result(Plan(scenario_name=sub.name, visits=(), calls=()))
        self.ends[fut] = self.now + clock
        return fut

    def wait(self, running, return_when=None):
        first = min(running, key=self.ends.__getitem__)
        self.now = max(self.now, self.ends[first])
        return {first}, set(running) - {first}


def _three_offices() -> Scenario:
    sc = _company(300, 6)
    offices = ["A", "A", "B", "B", "C", "C"]
    return dataclasses.replace(
        sc, managers=tuple(dataclasses.replace(m, office_id=o) for m, o in zip(sc.managers, offices, strict=True))
    )


def _on_a_slow_machine(monkeypatch, machine: _SlowMachine, limit: float) -> None:
    import types

    from routeplan.solve import company

    monkeypatch.setattr(company, "time", types.SimpleNamespace(monotonic=machine.monotonic))
    monkeypatch.setattr(company, "wait", machine.wait)
    plan_company(_three_offices(), PlanParams(time_limit_s=limit, workers=2), seed=0, executor=machine, parallel=2)


def test_with_the_clock_every_worker_ends_by_the_time_limit_and_uses_it(monkeypatch):
    """Three offices on two workers: the office alone on its worker is sized for the whole limit,
    the other worker's two share it by their shops, back to back; both end at the limit less
    the time kept for joining the plans."""
    machine, limit = _SlowMachine(), 60.0
    _on_a_slow_machine(monkeypatch, machine, limit)
    runs = machine.runs
    kept = 1 - PlanParams().shares.company_join
    end = limit * kept
    assert len(runs) == 3 and sum(r[0] for r in runs) == 300
    assert all(clock == pytest.approx(sized * kept) for _, _, sized, clock, _ in runs)  # no other time lost
    alone = [r for r in runs if r[1] == 0.0 and r[4] == pytest.approx(end)]
    first, then = sorted((r for r in runs if r not in alone), key=lambda r: r[1])
    assert len(alone) == 1 and alone[0][2] == pytest.approx(limit)
    assert first[2] == pytest.approx(limit * first[0] / (first[0] + then[0]))  # by their shops
    assert then[1] == pytest.approx(first[4]) and then[4] == pytest.approx(end)


def test_time_the_clock_lost_cuts_the_safety_net_not_the_search(monkeypatch):
    """When the split among offices took 15 s, every part's search is sized as before (the
    plan of a fast machine does not depend on the clock), and its clock is cut so that both
    workers still end by the limit (less the time kept for joining the plans)."""
    limit = 60.0
    on_time, late = _SlowMachine(), _SlowMachine(split=15.0)
    _on_a_slow_machine(monkeypatch, on_time, limit)
    _on_a_slow_machine(monkeypatch, late, limit)
    assert sorted((r[0], r[2]) for r in late.runs) == sorted((r[0], r[2]) for r in on_time.runs)
    assert all(clock < sized * 0.8 for _, _, sized, clock, _ in late.runs)
    assert max(end for *_, end in late.runs) == pytest.approx(limit * (1 - PlanParams().shares.company_join))


def test_a_part_planned_again_after_a_hand_over_is_sized_as_the_first_time(monkeypatch):
    """Office A's days run long: it hands shops to a neighbour and both are planned again, each
    search as large per shop as in the first round (not sized anew for two parts on two
    workers), whatever time the clock has left."""
    from routeplan.solve import company

    seen: dict[str, int] = {}

    def check(sub, plan):  # A's first plan has a long day; every later plan keeps the limit
        seen[sub.name] = seen.get(sub.name, 0) + 1
        return (1, 1) if sub.name.endswith("A") and seen[sub.name] == 1 else (0, 0)

    monkeypatch.setattr(company, "_check", check)
    machine = _SlowMachine()
    _on_a_slow_machine(monkeypatch, machine, 60.0)
    first, again = machine.runs[:3], machine.runs[3:]
    assert len(again) == 2  # A and the neighbour it handed shops to
    rates = sorted(round(sized / size, 9) for size, _, sized, _, _ in first)
    for size, _, sized, clock, _ in again:
        assert round(sized / size, 9) in rates and clock <= sized


def test_the_queues_take_the_largest_tasks_first():
    assert hand_out([2000, 2000, 2000], 2) == [[0, 2], [1]]
    assert hand_out([1000, 3000, 1000, 1000], 2) == [[1], [0, 2, 3]]
    assert hand_out([5, 4, 3, 3, 3], 2) == [[0, 3], [1, 2, 4]]  # 5+3 and 4+3+3
    assert hand_out([7], 4) == [[0], [], [], []] and hand_out([], 2) == [[], []]
    assert [len(q) for q in hand_out([2500] * 12, 2)] == [6, 6]

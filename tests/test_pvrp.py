"""The periodic VRP benchmark: the evaluator reproduces every published reference cost."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from routeplan.pvrp import PvrpRoute, evaluate, read_instance, read_solution, write_solution

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pvrp"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/pvrp (the benchmark set) is not beside this checkout"
)


def _names() -> list[str]:
    if not SHARED.is_dir():
        return []
    return sorted(p.stem for p in (SHARED / "instances").glob("*.txt"))


@needs_shared
def test_all_42_instances_present():
    assert len(_names()) == 42


@needs_shared
@pytest.mark.parametrize("name", _names())
def test_reference_solution_cost_and_feasibility(name):
    inst = read_instance(SHARED / "instances" / f"{name}.txt")
    printed, routes = read_solution(SHARED / "reference_solutions" / f"{name}.res")
    cost, problems = evaluate(inst, routes)
    assert problems == []
    assert abs(cost - printed) <= 0.01


@needs_shared
def test_bks_table_matches_reference_costs():
    with (SHARED / "bks.csv").open() as fh:
        for row in csv.DictReader(fh):
            printed, _ = read_solution(SHARED / "reference_solutions" / f"{row['instance']}.res")
            assert abs(printed - float(row["reference_solution_cost"])) <= 0.01
            assert float(row["bks"]) <= printed + 0.01


@needs_shared
def test_broken_solutions_are_caught(tmp_path):
    inst = read_instance(SHARED / "instances" / "p01.txt")
    _, routes = read_solution(SHARED / "reference_solutions" / "p01.res")
    # a customer dropped from its route: its combination is broken
    dropped = [PvrpRoute(routes[0].day, routes[0].vehicle, routes[0].customers[1:]), *routes[1:]]
    assert any("not an allowed combination" in p for p in evaluate(inst, dropped)[1])
    # everything on one vehicle: capacity and fleet broken
    merged = [PvrpRoute(1, 1, tuple(c for r in routes if r.day == 1 for c in r.customers))] * 4
    problems = evaluate(inst, merged)[1]
    assert any("capacity" in p for p in problems) and any("fleet" in p for p in problems)
    # written and read back unchanged
    write_solution(tmp_path / "p01.res", inst, routes)
    cost, again = read_solution(tmp_path / "p01.res")
    assert again == routes and abs(cost - evaluate(inst, routes)[0]) < 0.01


@needs_shared
def test_pvrp_check_command():
    from routeplan.cli import main

    ok = main(["pvrp-check", str(SHARED / "instances" / "pr01.txt"), str(SHARED / "reference_solutions" / "pr01.res")])
    assert ok == 0

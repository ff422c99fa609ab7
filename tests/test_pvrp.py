"""The periodic VRP benchmark: the evaluator reproduces every published reference cost."""

from __future__ import annotations

import csv
import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routeplan.pvrp import PvrpInstance, PvrpRoute, evaluate, read_instance, read_solution, solve, write_solution

SHARED = Path(__file__).resolve().parents[2] / "shared" / "pvrp"
#: three instances and their reference solutions shipped with the tests (see its README)
BUNDLED = Path(__file__).resolve().parent / "data" / "pvrp"
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


@pytest.mark.parametrize("name", ["p01", "p02", "pr01"])
def test_bundled_reference_solutions_reproduce_their_cost(name):
    inst = read_instance(BUNDLED / f"{name}.txt")
    printed, routes = read_solution(BUNDLED / f"{name}.res")
    cost, problems = evaluate(inst, routes)
    assert problems == []
    assert abs(cost - printed) <= 0.01


def test_broken_solutions_are_caught(tmp_path):
    inst = read_instance(BUNDLED / "p01.txt")
    _, routes = read_solution(BUNDLED / "p01.res")
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


def test_pvrp_check_command(tmp_path):
    from routeplan.cli import main

    assert main(["pvrp-check", str(BUNDLED / "pr01.txt"), str(BUNDLED / "pr01.res")]) == 0
    inst = read_instance(BUNDLED / "pr01.txt")
    _, routes = read_solution(BUNDLED / "pr01.res")
    write_solution(tmp_path / "broken.res", inst, routes[1:])  # a route lost: its customers unserved
    assert main(["pvrp-check", str(BUNDLED / "pr01.txt"), str(tmp_path / "broken.res")]) == 1


# ---- the free-day solver -----------------------------------------------------------------


def _random_instance(rng: np.random.Generator, n: int, m: int, t: int, roomy: bool) -> PvrpInstance:
    """A random instance; ``roomy`` capacity (one vehicle could carry every visit) is always feasible."""
    xs = rng.uniform(0, 100, n + 1)
    ys = rng.uniform(0, 100, n + 1)
    demand = [0.0, *rng.integers(1, 10, n).astype(float)]
    combos: list[tuple[frozenset[int], ...]] = [()]
    freq = [0]
    for _ in range(n):
        f = int(rng.integers(1, t + 1))
        sets = {frozenset(int(d) for d in rng.choice(np.arange(1, t + 1), f, replace=False)) for _ in range(3)}
        combos.append(tuple(sorted(sets, key=sorted)))
        freq.append(f)
    cap = sum(demand) if roomy else float(rng.integers(10, 40))
    return PvrpInstance("random", m, n, t, (0.0,) * t, (cap,) * t, tuple(xs), tuple(ys), (0.0,) * (n + 1),
                        tuple(demand), tuple(freq), tuple(combos))  # fmt: skip


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 14), m=st.integers(1, 3), t=st.integers(1, 4))
def test_solver_keeps_every_rule_when_a_plan_exists(seed, n, m, t):
    inst = _random_instance(np.random.default_rng(seed), n, m, t, roomy=True)
    routes, result = solve(inst, workers=1, iterations=300, seed=seed)
    cost, problems = evaluate(inst, routes)
    assert problems == []
    assert result.feasible and abs(cost - result.cost) < 1e-6


def test_tight_capacity_is_reported_not_hidden():
    # one vehicle of capacity 10 a day cannot carry 6 customers of demand 9 on one day each
    inst = PvrpInstance("tight", 1, 6, 1, (0.0,), (10.0,), (0.0,) * 7, tuple(float(i) for i in range(7)), (0.0,) * 7,
                        (0.0,) + (9.0,) * 6, (0, *([1] * 6)), ((),) + ((frozenset({1}),),) * 6)  # fmt: skip
    routes, result = solve(inst, workers=1, iterations=200)
    assert not result.feasible
    assert any("capacity" in p for p in evaluate(inst, routes)[1])


def test_same_seed_same_solution():
    inst = _random_instance(np.random.default_rng(7), 30, 2, 3, roomy=False)
    first = solve(inst, workers=1, iterations=2000, seed=3)[0]
    assert solve(inst, workers=1, iterations=2000, seed=3)[0] == first


def test_duration_limit_is_kept():
    rng = np.random.default_rng(11)
    base = _random_instance(rng, 25, 3, 2, roomy=True)
    inst = dataclasses.replace(base, max_duration=(260.0, 260.0), service=(0.0,) + (5.0,) * 25)
    routes, result = solve(inst, workers=1, iterations=3000)
    assert result.feasible and evaluate(inst, routes)[1] == []
    for r in routes:
        path = (0, *r.customers, 0)
        assert sum(inst.dist(a, b) for a, b in itertools.pairwise(path)) + 5.0 * len(r.customers) <= 260.0 + 1e-6


@needs_shared
@pytest.mark.parametrize("name", ["p14", "pr01"])
def test_small_benchmark_instances_near_best_known(name):
    """A few seconds on the smallest published instances lands within 2% of the best-known value."""
    inst = read_instance(SHARED / "instances" / f"{name}.txt")
    bks = {r["instance"]: float(r["bks"]) for r in csv.DictReader((SHARED / "bks.csv").open())}[name]
    routes, _ = solve(inst, workers=1, iterations=20_000, time_limit_s=30)
    cost, problems = evaluate(inst, routes)
    assert problems == []
    assert cost <= bks * 1.02


@needs_shared
def test_pvrp_command_writes_a_checked_solution(tmp_path):
    from routeplan.cli import main

    out = tmp_path / "p14.res"
    code = main(["pvrp", str(SHARED / "instances" / "p14.txt"), "-o", str(out), "--iterations", "3000",
                 "--workers", "1", "--quiet"])  # fmt: skip
    assert code == 0
    printed, routes = read_solution(out)
    cost, problems = evaluate(read_instance(SHARED / "instances" / "p14.txt"), routes)
    assert problems == [] and abs(cost - printed) < 0.01


def test_pvrp_command_bad_instance_exit_2(tmp_path, capsys):
    from routeplan.cli import main

    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3\n")
    assert main(["pvrp", str(bad), "-o", str(tmp_path / "x.res")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.txt:1:" in err[0]
    assert not (tmp_path / "x.res").exists()


def _replace_token(text: str, line: int, token: int, value: str) -> str:
    lines = text.splitlines()
    cells = lines[line - 1].split()
    cells[token] = value
    lines[line - 1] = " ".join(cells)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("line", "token", "value", "field"),
    [(1, 3, "x", "t"), (1, 3, "99", None), (2, 0, "nan", "D"), (2, 1, "-5", "Q"), (4, 1, "x", "x"),
     (4, 2, "inf", "y"), (4, 5, "9" * 400, "f"), (5, 7, "99", "c"), (5, 6, "40", "a")],
)  # fmt: skip
def test_a_broken_instance_line_is_named(tmp_path, line, token, value, field):
    """Row and field of the first bad number (p01: t = 2 day lines, then the depot on line 4)."""
    from routeplan.errors import InputError

    bad = tmp_path / "bad.txt"
    bad.write_text(_replace_token((BUNDLED / "p01.txt").read_text(), line, token, value))
    with pytest.raises(InputError) as err:
        read_instance(bad)
    assert err.value.row == line and err.value.field == field


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00garbage", b"524.61\n1 1 118.52\n", b"x\n"])
def test_a_broken_solution_file_is_one_line_exit_2(tmp_path, capsys, content):
    from routeplan.cli import main

    bad = tmp_path / "bad.res"
    bad.write_bytes(content)
    assert main(["pvrp-check", str(BUNDLED / "p01.txt"), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "bad.res" in err[0]


def test_a_solution_naming_unknown_customers_is_judged_not_crashed():
    inst = read_instance(BUNDLED / "p01.txt")
    _, routes = read_solution(BUNDLED / "p01.res")
    stranger = [PvrpRoute(routes[0].day, routes[0].vehicle, (*routes[0].customers, inst.n + 1, 10**30)), *routes[1:]]
    problems = evaluate(inst, stranger)[1]
    assert f"day {routes[0].day}: unknown customer {inst.n + 1}" in problems
    assert f"day {routes[0].day}: unknown customer {10**30}" in problems

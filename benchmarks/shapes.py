"""The scenarios every benchmark runs on: the bundled demo and synthetic cities of other shapes."""

from __future__ import annotations

from pathlib import Path

from routeplan.model import Scenario
from routeplan.read import read_scenario
from routeplan.synth import shape, synthetic_scenario

ROOT = Path(__file__).resolve().parents[1]
#: Other shapes: (shape, shops, managers), sized for about 33 stops a route like the demo.
SHAPES = {
    "dense": ("dense", 1500, 5),
    "townships": ("townships", 1300, 5),
    "two_offices": ("two_offices", 2000, 7),
}
DEFAULT = "demo," + ",".join(SHAPES)


def benchmark_scenario(name: str) -> Scenario:
    """``demo`` (scenarios/demo-city) or one of :data:`SHAPES`, generated with seed 11."""
    if name == "demo":
        return read_scenario(ROOT / "scenarios" / "demo-city")
    kind, n, k = SHAPES[name]
    return synthetic_scenario(shape(kind, n, k), seed=11)

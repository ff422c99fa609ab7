"""Mutation run of the plan checker: does the test suite notice when a check is broken?

    python benchmarks/check_mutants.py [--tests tests/test_check.py] [--list]

Each mutant is a copy of ``routeplan/check.py`` with one check broken: a violation that is
never reported (the ``out.append(Violation(...))`` or ``return [...]`` replaced by nothing)
or a condition inverted (``if c:`` made ``if not c:``) in front of one. Every mutant runs the
checker's tests from a temporary copy of the package; a mutant is *killed* when a test
fails. Prints one row per mutant and exits 1 if any survives.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "src" / "routeplan" / "check.py"


def _reports(node: ast.AST) -> bool:
    """A statement that reports a violation: ``out.append(Violation(...))`` or ``out += [...]``."""
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Violation"]
    return bool(calls)


def mutants(source: str) -> Iterator[tuple[str, int, str]]:
    """(description, line, mutated source) for every report deleted and every guard inverted."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and any(_reports(s) for s in node.body):
            test = node.test
            start, end = test.lineno - 1, test.end_lineno or test.lineno
            seg = "".join(lines[start:end])
            cond = ast.get_source_segment(source, test) or ""
            mutated = seg.replace(cond, f"not ({cond})", 1)
            yield (
                f"invert: if {cond[:60]}",
                node.lineno,
                "".join(lines[:start]) + mutated + "".join(lines[end:]),
            )
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for stmt in body:
            if isinstance(stmt, ast.Expr | ast.Return | ast.AugAssign) and _reports(stmt):
                start, end = stmt.lineno - 1, stmt.end_lineno or stmt.lineno
                indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
                repl = f"{indent}return []\n" if isinstance(stmt, ast.Return) else f"{indent}pass\n"
                code = "".join(lines[start:end]).strip().splitlines()[0]
                yield f"delete: {code[:60]}", stmt.lineno, "".join(lines[:start]) + repl + "".join(lines[end:])


PLUGIN = """
import importlib.util, os, sys
import routeplan
path = os.environ["ROUTEPLAN_MUTANT"]
spec = importlib.util.spec_from_loader("routeplan.check", loader=None, origin=path)
mod = importlib.util.module_from_spec(spec)
mod.__file__, mod.__package__ = path, "routeplan"
sys.modules["routeplan.check"] = mod
exec(compile(open(path, encoding="utf-8").read(), path, "exec"), mod.__dict__)
routeplan.check, routeplan.check_plan = mod, mod.check_plan
"""


def run(mutated: str, tests: list[str]) -> bool:
    """True when the tests fail on the mutated checker (the mutant is killed).

    The mutant replaces ``routeplan.check`` from a pytest plugin loaded before any test
    module, so the rest of the package (and its compiled kernels) stays as installed.
    """
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "check_mutant.py").write_text(mutated, encoding="utf-8")
        (Path(tmp) / "mutant_plugin.py").write_text(PLUGIN, encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": tmp, "ROUTEPLAN_MUTANT": str(Path(tmp) / "check_mutant.py")}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-p", "mutant_plugin", "-p", "no:cacheprovider",
             "-o", "addopts=-q", *tests],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        return result.returncode != 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tests", nargs="+", default=["tests/test_check.py"])
    ap.add_argument("--list", action="store_true", help="list the mutants without running them")
    args = ap.parse_args(argv)
    source = CHECK.read_text(encoding="utf-8")
    console = Console(width=140)
    assert not run(source, args.tests), "the unmutated checker must pass its tests"
    assert run("raise SystemExit('mutant loaded')", args.tests), "the mutant must replace the installed checker"
    table = Table(title=f"Mutants of check.py against {' '.join(args.tests)}")
    for col in ("line", "mutant", "result"):
        table.add_column(col)
    survivors = 0
    found = list(mutants(source))
    for i, (what, line, mutated) in enumerate(found, 1):
        killed = None if args.list else run(mutated, args.tests)
        survivors += killed is False
        result = "-" if killed is None else ("killed" if killed else "SURVIVED")
        table.add_row(str(line), escape(what), result)
        console.print(f"{i}/{len(found)} line {line}: {what}: {result}", highlight=False, markup=False)
    console.print(table)
    console.print(f"{len(found)} mutants, {survivors} survived")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())

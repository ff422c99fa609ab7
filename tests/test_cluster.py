"""A company's offices planned on a Dask cluster: the same plan as on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from routeplan.cli import main
from routeplan.write import write_scenario
from test_company import _company

pytest.importorskip("distributed", reason="the cluster extra is not installed: pip install -e '.[cluster]'")


def test_local_cluster_gives_the_same_plan(tmp_path: Path):
    folder = tmp_path / "company"
    write_scenario(folder, _company())
    args = ["--time-limit", "4", "--reproducible", "--quiet", "--no-render", "--seed", "2"]
    assert main(["plan", str(folder), "-o", str(tmp_path / "here"), "--workers", "1", *args]) == 0
    assert main(["plan", str(folder), "-o", str(tmp_path / "dask"), "--cluster", "local:2", *args]) == 0
    here = (tmp_path / "here" / "visits.csv").read_text(encoding="utf-8")
    assert here == (tmp_path / "dask" / "visits.csv").read_text(encoding="utf-8")
    assert main(["check", str(folder), str(tmp_path / "dask")]) == 0


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("local:0", "local:N with N from 1"), ("lots", "give local:N or a scheduler address"),
     ("tcp://127.0.0.1:9", "cannot reach the Dask scheduler"), ("tcp://", "give local:N or a scheduler address"),
     ("tcp://host:port", "give local:N or a scheduler address")],
)  # fmt: skip
def test_bad_cluster_is_one_line(tmp_path: Path, capsys, spec: str, expected: str):
    folder = tmp_path / "company"
    write_scenario(folder, _company(80, 4))
    code = main(["plan", str(folder), "-o", str(tmp_path / "out"), "--cluster", spec, "--quiet", "--no-render"])
    err = capsys.readouterr().err
    assert code == 2 and expected in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()

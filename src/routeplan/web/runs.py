"""Runs of the desk: a record of every plan and what-if (SQLite), and the queue that runs them.

A run is the command line in a child process (``routeplan plan ...`` with the same options
and seed), so a run from the desk gives the plan the command line gives, a cancelled run is
a killed process, and a crash of one run cannot take the desk down. The run writes into
``runs/<id>.partial/``, renamed to ``plans/<id>/`` only when the process has finished: a
plan folder is never half-written. One run at a time (a small office machine has few cores);
a restarted desk marks what was queued or running as failed and removes its partial output.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,             -- plan | whatif | compare
    scenario TEXT NOT NULL,         -- the scenario's folder name
    month TEXT NOT NULL,
    params TEXT NOT NULL,           -- JSON: the options the command line gets
    who TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    state TEXT NOT NULL,            -- queued | running | done | failed | cancelled
    feasible INTEGER,
    km REAL,
    message TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
FINISHED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Run:
    id: int
    kind: str
    scenario: str
    month: str
    params: dict[str, Any]
    who: str
    created: float
    started: float | None
    finished: float | None
    state: str
    feasible: bool | None
    km: float | None
    message: str

    @property
    def over(self) -> bool:
        return self.state in FINISHED


class Desk:
    """The workspace folder: scenarios, uploads, plans, the run record and the run queue."""

    def __init__(self, root: Path, *, start_worker: bool = True) -> None:
        self.root = root.resolve()
        for sub in ("scenarios", "uploads", "plans", "runs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "desk.sqlite"
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cancel: set[int] = set()
        self._process: subprocess.Popen[bytes] | None = None
        with self._db() as db:
            db.executescript(SCHEMA)
        self.recover()
        self._worker = threading.Thread(target=self._loop, name="routeplan-runs", daemon=True)
        if start_worker:
            self._worker.start()

    # -- the record --------------------------------------------------------------------------

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.db_path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def recover(self) -> None:
        """After a restart: unfinished runs are failed, their partial output removed."""
        with self._db() as db:
            db.execute(
                "UPDATE runs SET state = 'failed', finished = ?, message = 'the desk stopped before the run finished' "
                "WHERE state IN ('queued', 'running')",
                (time.time(),),
            )
        for partial in (self.root / "runs").glob("*.partial"):
            shutil.rmtree(partial, ignore_errors=True)

    def submit(self, kind: str, scenario: str, month: str, params: dict[str, Any], who: str) -> int:
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO runs (kind, scenario, month, params, who, created, state) VALUES (?, ?, ?, ?, ?, ?, 'queued')",
                (kind, scenario, month, json.dumps(params), who, time.time()),
            )
            run_id = int(cur.lastrowid or 0)
        self._wake.set()
        return run_id

    def run(self, run_id: int) -> Run | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run(row) if row else None

    def runs(self, limit: int = 50) -> list[Run]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_run(r) for r in rows]

    def current(self) -> int | None:
        """The office's current plan (the one the next month continues from)."""
        with self._db() as db:
            row = db.execute("SELECT value FROM settings WHERE key = 'current'").fetchone()
        return int(row["value"]) if row else None

    def set_current(self, run_id: int) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('current', ?)", (str(run_id),))

    def plan_folder(self, run_id: int) -> Path:
        return self.root / "plans" / str(run_id)

    def progress(self, run_id: int) -> tuple[str, float]:
        """The stage and fraction the running command last reported."""
        log = self.root / "runs" / f"{run_id}.progress"
        try:
            last = log.read_text(encoding="utf-8").strip().splitlines()[-1]
            doc = json.loads(last)
            return str(doc.get("stage", "")), float(doc.get("fraction", 0.0))
        except (OSError, IndexError, ValueError):
            return "", 0.0

    def cancel(self, run_id: int) -> None:
        with self._lock:
            self._cancel.add(run_id)
            with self._db() as db:
                db.execute(
                    "UPDATE runs SET state = 'cancelled', finished = ? WHERE id = ? AND state = 'queued'",
                    (time.time(), run_id),
                )
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        proc = self._process
        if proc is not None and proc.poll() is None:
            _kill(proc)
        if self._worker.is_alive():
            self._worker.join(timeout=10)

    # -- the queue ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._db() as db:
                row = db.execute("SELECT * FROM runs WHERE state = 'queued' ORDER BY id LIMIT 1").fetchone()
            if row is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            try:
                self._execute(_run(row))
            except Exception as exc:  # the desk stays up; the run says what went wrong
                with self._db() as db:
                    db.execute("UPDATE runs SET state = 'failed', finished = ?, message = ? WHERE id = ?",
                               (time.time(), f"internal error: {type(exc).__name__}: {exc}"[:400], row["id"]))  # fmt: skip

    def _execute(self, run: Run) -> None:
        partial = self.root / "runs" / f"{run.id}.partial"
        progress = self.root / "runs" / f"{run.id}.progress"
        shutil.rmtree(partial, ignore_errors=True)
        with self._db() as db:
            db.execute("UPDATE runs SET state = 'running', started = ? WHERE id = ?", (time.time(), run.id))
        args = command(run, self.root / "scenarios" / run.scenario, partial, progress, self._previous(run))
        err_path = self.root / "runs" / f"{run.id}.stderr"
        with err_path.open("wb") as err:
            self._process = subprocess.Popen(
                args, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True, cwd=self.root,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )  # fmt: skip
            code = self._wait(run.id, self._process)
            self._process = None
        message = _last_error(err_path)
        state, feasible, km = "failed", None, None
        if code == "cancelled":
            state, message = "cancelled", "cancelled"
        elif code in (0, 1) and partial.is_dir():
            target = self.plan_folder(run.id)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(partial, target)
            state, message = "done", ""
            feasible, km = _figures(target, run.kind)
        shutil.rmtree(partial, ignore_errors=True)
        with self._db() as db:
            db.execute(
                "UPDATE runs SET state = ?, finished = ?, feasible = ?, km = ?, message = ? WHERE id = ?",
                (state, time.time(), feasible, km, message, run.id),
            )

    def _wait(self, run_id: int, proc: subprocess.Popen[bytes]) -> int | str:
        while True:
            try:
                return proc.wait(timeout=0.3)
            except subprocess.TimeoutExpired:
                pass
            with self._lock:
                cancelled = run_id in self._cancel
            if cancelled or self._stop.is_set():
                _kill(proc)
                return "cancelled"

    def _previous(self, run: Run) -> Path | None:
        prev = run.params.get("previous")
        return self.plan_folder(int(prev)) if prev else None


def command(run: Run, scenario: Path, out: Path, progress: Path, previous: Path | None) -> list[str]:
    """The command line a run is: the same options a user would type."""
    p = run.params
    base = [sys.executable, "-m", "routeplan", "--progress-log", str(progress)]
    common = ["--time-limit", str(p.get("time_limit", 60)), "--seed", str(p.get("seed", 0)), "--quiet"]
    if run.kind == "compare":  # plans of variants (or months) side by side
        plans = [str(out.parent.parent / "plans" / str(int(r))) for r in p["runs"]]
        return [*base, "compare", *plans, "-o", str(out)]
    if run.kind == "whatif":
        return [*base, "whatif", str(scenario), "--managers", str(p["managers"]), "-o", str(out), *common,
                "--workers", "1"]  # fmt: skip
    args = [*base, "plan", str(scenario), "-o", str(out), *common, "--workers", str(p.get("workers", 1))]
    if p.get("reproducible", True):
        args.append("--reproducible")
    if p.get("territories") in ("fixed", "free"):
        args += ["--territories", str(p["territories"])]
    if previous is not None:
        args += ["--previous", str(previous)]
    args += ["--lang", str(p.get("lang", "en")), "--tiles", str(p.get("tiles", "osm"))]
    if not p.get("pdf", True):
        args.append("--no-pdf")
    return args


def _die_with_parent() -> None:
    """In the child, before it runs: ask Linux to stop it when the desk's process dies, so a
    killed desk leaves no run writing behind it (the restart then finds only dead runs)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Stop the run's whole process group (the solver's worker processes too)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _last_error(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    errors = [line for line in lines if line.startswith("error:")]
    return (errors[-1] if errors else (lines[-1] if lines else ""))[:400]


def _figures(folder: Path, kind: str) -> tuple[bool | None, float | None]:
    if kind != "plan":
        return None, None
    try:
        doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        return bool(doc["feasible"]), float(doc["kpis"]["total"]["km"])
    except (OSError, KeyError, ValueError, TypeError):
        return None, None


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"], kind=row["kind"], scenario=row["scenario"], month=row["month"], params=json.loads(row["params"]),
        who=row["who"], created=row["created"], started=row["started"], finished=row["finished"], state=row["state"],
        feasible=None if row["feasible"] is None else bool(row["feasible"]), km=row["km"], message=row["message"],
    )  # fmt: skip

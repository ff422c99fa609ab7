"""The planner's desk (``routeplan serve``) without a browser: intake, runs, and its security."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from datetime import date
from pathlib import Path

import pytest

from conftest import TINY, workbook_scenario

pytest.importorskip("flask", reason="the web desk's extra is not installed: pip install -e '.[web]'")

from routeplan.cli import main
from routeplan.read import read_scenario
from routeplan.web.app import create_app
from routeplan.web.runs import Desk

TOKEN = "a-long-office-token-1234"


def _bad_workbook(tmp: Path) -> bytes:
    """The tiny scenario as a workbook with Chinese headers whose third shop has no latitude."""

    def edit(wb):
        wb["门店"]["C5"] = "无"

    return (workbook_scenario(tmp / "wb", edit=edit) / "门店.xlsx").read_bytes()


@pytest.fixture
def desk_app(tmp_path: Path):
    app = create_app(tmp_path / "ws")
    app.config["TESTING"] = True
    yield app
    app.extensions["routeplan_desk"].close()


def _csrf(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def _upload(client, data: bytes, name: str = "门店.xlsx", **extra) -> object:
    token = _csrf(client, "/scenarios/new")
    files = {"shops": (io.BytesIO(data), name), "csrf_token": token, **extra}
    return client.post("/scenarios/new", data=files, content_type="multipart/form-data")


def _wait(desk: Desk, run_id: int, limit: float = 240) -> str:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        run = desk.run(run_id)
        if run is not None and run.over:
            return run.state
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


def test_upload_lists_bad_rows_then_saves_once_fixed(desk_app, tmp_path: Path):
    client = desk_app.test_client()
    resp = _upload(client, _bad_workbook(tmp_path))
    assert resp.status_code == 302
    url = resp.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "客户编码" in page and "纬度" in page  # the preview shows the file's own headers
    assert page.count('class="bad-row"') == 1 and "&#39;无&#39; is not a number" in page
    assert 'id="save"' not in page  # nothing can be saved while a row is bad
    token = _csrf(client, url)
    resp = client.post(url, data={"csrf_token": token, "action": "preview", "fix:retailers:5:lat": "30.62"})
    page = resp.get_data(as_text=True)
    assert 'id="no-bad-rows"' in page and "90 shops" in page and "2 managers" in page
    resp = client.post(url, data={"csrf_token": token, "action": "save", "name": "城东 <b>片区</b>",
                                  "month": "2026-12", "holidays": "2026-12-25"})  # fmt: skip
    assert resp.status_code == 302
    slug = resp.headers["Location"].rsplit("/", 1)[1]
    folder = tmp_path / "ws" / "scenarios" / slug
    sc = read_scenario(folder)
    assert len(sc.retailers) == 90 and abs(sc.retailers[2].location.lat - 30.62) < 1e-9
    assert sc.name == "城东 <b>片区</b>"
    head = (folder / "retailers.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head.startswith("id,name,lat,lon,class")  # saved in routeplan's own column names
    page = client.get(f"/scenarios/{slug}").get_data(as_text=True)
    assert "城东 &lt;b&gt;片区&lt;/b&gt;" in page and "<b>片区</b>" not in page


def test_a_shop_out_of_reach_is_a_bad_row_of_the_preview(desk_app, tmp_path: Path):
    """A latitude typed 3.062 for 30.62 reads as a number but lies 3,000 km away: the preview
    lists the row (the saved folder would not read) until it is fixed."""

    def edit(wb):
        wb["门店"]["C5"] = 3.062

    data = (workbook_scenario(tmp_path / "wb", edit=edit) / "门店.xlsx").read_bytes()
    client = desk_app.test_client()
    url = _upload(client, data).headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert page.count('class="bad-row"') == 1 and "km from the nearest start of a manager" in page
    assert 'id="save"' not in page
    token = _csrf(client, url)
    resp = client.post(url, data={"csrf_token": token, "action": "preview", "fix:retailers:5:lat": "30.62"})
    assert 'id="no-bad-rows"' in resp.get_data(as_text=True)


def test_forms_need_the_csrf_token(desk_app, tmp_path: Path):
    client = desk_app.test_client()
    resp = client.post("/scenarios/new", data={"shops": (io.BytesIO(b"id\n"), "x.csv")},
                       content_type="multipart/form-data")  # fmt: skip
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)
    assert not any((tmp_path / "ws" / "uploads").iterdir())


def test_token_is_asked_for_once_per_session(tmp_path: Path):
    app = create_app(tmp_path / "ws", token=TOKEN)
    try:
        client = app.test_client()
        resp = client.get("/")
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]
        assert client.get("/runs/1/status").status_code == 302
        token = _csrf(client, "/login")
        assert client.post("/login", data={"csrf_token": token, "token": "wrong"}).status_code == 401
        for evil in ("//evil.example/", "/\\evil.example/", "https://evil.example/"):  # no open redirect
            resp = client.post("/login", query_string={"next": evil}, data={"csrf_token": token, "token": TOKEN})
            assert resp.status_code == 302 and resp.headers["Location"] == "/"
        resp = client.post("/login?next=/", data={"csrf_token": token, "token": TOKEN})
        assert resp.status_code == 302
        assert client.get("/").status_code == 200
    finally:
        app.extensions["routeplan_desk"].close()


def test_serving_off_loopback_needs_a_token(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.delenv("ROUTEPLAN_TOKEN", raising=False)
    assert main(["serve", str(tmp_path / "ws"), "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err
    assert "needs an access token" in err and err.count("\n") == 1
    assert main(["serve", str(tmp_path / "ws"), "--host", "0.0.0.0", "--token", "short"]) == 2


@pytest.mark.parametrize(
    "url",
    [
        "/runs/1/files/../../desk.sqlite",
        "/runs/1/files/%2e%2e/%2e%2e/.secret",
        "/runs/1/files//etc/passwd",
        "/uploads/..%2F..%2F.secret",
        "/scenarios/..%2Fplans",
    ],
)
def test_no_path_leaves_the_workspace(tmp_path: Path, url: str):
    import sqlite3

    desk = Desk(tmp_path / "ws", start_worker=False)
    app = create_app(tmp_path / "ws", desk=desk)
    run_id = desk.submit("plan", "tiny", "2026-12", {}, "t")
    with sqlite3.connect(desk.db_path) as db:  # a finished run whose plan folder holds one file
        db.execute("UPDATE runs SET state = 'done' WHERE id = ?", (run_id,))
    desk.plan_folder(run_id).mkdir(parents=True)
    (desk.plan_folder(run_id) / "visits.csv").write_text("x", encoding="utf-8")
    client = app.test_client()
    assert client.get(f"/runs/{run_id}/files/visits.csv").status_code == 200
    assert client.get(url, follow_redirects=True).status_code == 404


def test_upload_names_never_become_paths(desk_app, tmp_path: Path):
    client = desk_app.test_client()
    data = (TINY / "retailers.csv").read_bytes()
    resp = _upload(client, data, name="../../../outside.csv")
    assert resp.status_code == 302
    uploads = tmp_path / "ws" / "uploads"
    stored = [p.relative_to(uploads).as_posix() for p in uploads.rglob("*") if p.is_file()]
    assert sorted(x.split("/", 1)[1] for x in stored) == ["shops.csv", "upload.json"]
    assert not (tmp_path / "outside.csv").exists()


def test_oversize_and_wrong_type_uploads_are_refused(desk_app, tmp_path: Path):
    client = desk_app.test_client()
    resp = _upload(client, b"x" * (desk_app.config["MAX_CONTENT_LENGTH"] + 10), name="big.csv")
    assert resp.status_code == 413 and "too large" in resp.get_data(as_text=True)
    resp = _upload(client, b"MZ\x90\x00", name="tool.exe")
    assert resp.status_code == 400 and "upload an Excel workbook" in resp.get_data(as_text=True)
    resp = _upload(client, b"not a zip", name="shops.xlsx")
    assert resp.status_code == 400 and "not an Excel workbook" in resp.get_data(as_text=True)
    assert not any((tmp_path / "ws" / "uploads").iterdir())


def test_a_zip_that_openpyxl_cannot_read_is_refused_at_upload(desk_app, tmp_path: Path):
    """A workbook that is a zip but breaks openpyxl (a chart sheet without its drawing, as some
    tools write it) is refused with one line, not a server error on the preview."""

    def broken_chart(wb):
        wb.create_chartsheet("图表", 0)

    data = (workbook_scenario(tmp_path / "wb", edit=broken_chart) / "门店.xlsx").read_bytes()
    resp = _upload(desk_app.test_client(), data)
    assert resp.status_code == 400 and "not an Excel workbook" in resp.get_data(as_text=True)
    assert not any((tmp_path / "ws" / "uploads").iterdir())


def test_an_overlong_cell_is_a_bad_row_that_can_be_fixed(desk_app, tmp_path: Path):
    def edit(wb):
        wb["门店"]["B5"] = "店" * 2500

    data = (workbook_scenario(tmp_path / "wb", edit=edit) / "门店.xlsx").read_bytes()
    client = desk_app.test_client()
    url = _upload(client, data).headers["Location"]
    resp = client.get(url)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and page.count('class="bad-row"') == 1 and "2500 characters (at most 2000)" in page
    token = _csrf(client, url)
    resp = client.post(url, data={"csrf_token": token, "action": "preview", "fix:retailers:5:name": "新店"})
    assert 'id="no-bad-rows"' in resp.get_data(as_text=True)


def test_a_gbk_csv_upload_is_taken_and_saved_as_utf8(desk_app, tmp_path: Path):
    """Shop and staff lists saved by Excel as plain CSV on Chinese Windows (GBK)."""
    shops = "客户编码,客户名称,纬度,经度,档位\r\nR1,红旗超市,30.66,104.07,A\r\n".encode("gbk")
    staff = "工号,姓名,纬度,经度\r\nM01,张伟,30.6586,104.0648\r\n".encode("gbk")
    client = desk_app.test_client()
    resp = _upload(client, shops, name="门店.csv", staff=(io.BytesIO(staff), "人员.csv"))
    assert resp.status_code == 302
    url = resp.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert "红旗超市" in page and "客户编码" in page and 'id="no-bad-rows"' in page
    resp = client.post(url, data={"csrf_token": _csrf(client, url), "action": "save", "name": "城西",
                                  "month": "2026-12", "holidays": ""})  # fmt: skip
    assert resp.status_code == 302
    folder = tmp_path / "ws" / "scenarios" / resp.headers["Location"].rsplit("/", 1)[1]
    assert "红旗超市" in (folder / "retailers.csv").read_bytes().decode("utf-8")
    assert "张伟" in (folder / "staff.csv").read_bytes().decode("utf-8")
    resp = _upload(client, b"id,name\r\n\xff\xfe\xfd,x\r\n", name="shops.csv")
    assert resp.status_code == 400 and "not UTF-8 text, nor Chinese GBK" in resp.get_data(as_text=True)


def test_two_queued_runs_both_finish_and_match_the_command_line(tmp_path: Path):
    """Runs queue one at a time; a reproducible run gives the command line's plan for its seed."""
    ws = tmp_path / "ws"
    desk = Desk(ws)
    try:
        shutil.copytree(TINY, ws / "scenarios" / "tiny")
        params = {"time_limit": 3, "seed": 5, "reproducible": True, "tiles": "none", "pdf": False}
        first = desk.submit("plan", "tiny", "2026-12", params, "test")
        second = desk.submit("plan", "tiny", "2026-12", {**params, "seed": 6}, "test")
        assert desk.run(second).state == "queued"
        assert _wait(desk, first) == "done" and _wait(desk, second) == "done"
        assert desk.run(first).feasible is True and desk.run(first).km > 0
        out = tmp_path / "cli"
        args = ["plan", str(TINY), "-o", str(out), "--time-limit", "3", "--seed", "5", "--workers", "1",
                "--reproducible", "--quiet", "--no-render"]  # fmt: skip
        assert main(args) == 0
        assert (desk.plan_folder(first) / "visits.csv").read_text() == (out / "visits.csv").read_text()
        assert desk.progress(first)[1] == pytest.approx(1.0)
        assert not list((ws / "runs").glob("*.partial"))
    finally:
        desk.close()


def test_a_run_whose_month_cannot_hold_its_visits_says_so(desk_app, tmp_path: Path):
    """One manager, 4-hour days and a Spring Festival February: the run page names the month as
    the cause of the broken rules, under them."""
    folder = tmp_path / "ws" / "scenarios" / "short"
    shutil.copytree(TINY, folder)
    toml = folder / "scenario.toml"
    spring = ", ".join(f'"2027-02-{d:02d}"' for d in (8, 9, 10, 11, 12, 15, 16))
    text = toml.read_text(encoding="utf-8").replace('month = "2026-12"', 'month = "2027-02"')
    text = text.replace('holidays = ["2026-12-25"]', f"holidays = [{spring}]").replace(
        "max_day_minutes = 600", "max_day_minutes = 240"
    )
    toml.write_text(text, encoding="utf-8")
    staff = folder / "staff.csv"
    staff.write_text("\n".join(staff.read_text(encoding="utf-8").splitlines()[:2]) + "\n", encoding="utf-8")
    desk = desk_app.extensions["routeplan_desk"]
    params = {"time_limit": 3, "reproducible": True, "tiles": "none", "pdf": False}
    run_id = desk.submit("plan", "short", "2027-02", params, "test")
    assert _wait(desk, run_id) == "done" and desk.run(run_id).feasible is False
    page = desk_app.test_client().get(f"/runs/{run_id}").get_data(as_text=True)
    assert 'id="capacity"' in page and "working days (7 lost to holidays)" in page
    assert page.index('id="violations"') < page.index('id="capacity"')


def test_cancel_stops_the_run_and_leaves_no_plan(tmp_path: Path):
    ws = tmp_path / "ws"
    desk = Desk(ws)
    try:
        shutil.copytree(TINY, ws / "scenarios" / "tiny")
        run_id = desk.submit("plan", "tiny", "2026-12", {"time_limit": 120, "reproducible": False}, "test")
        end = time.monotonic() + 60
        while desk.run(run_id).state != "running" and time.monotonic() < end:
            time.sleep(0.1)
        desk.cancel(run_id)
        assert _wait(desk, run_id, 30) == "cancelled"
        assert not desk.plan_folder(run_id).exists() and not list((ws / "runs").glob("*.partial"))
    finally:
        desk.close()


def test_a_killed_desk_leaves_the_workspace_consistent(tmp_path: Path):
    """The desk's process killed mid-run: on restart the run is failed, no partial plan anywhere."""
    import signal
    import subprocess
    import sys

    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws / "scenarios" / "tiny")
    script = (
        "import sys, time; from pathlib import Path; from routeplan.web.runs import Desk\n"
        "d = Desk(Path(sys.argv[1])); d.submit('plan', 'tiny', '2026-12', {'time_limit': 120, 'reproducible': False}, 't')\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(ws)])
    try:
        end = time.monotonic() + 60
        while not list((ws / "runs").glob("*.partial")) and time.monotonic() < end:
            time.sleep(0.1)
        assert list((ws / "runs").glob("*.progress")), "the run never started"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    time.sleep(1.0)  # the run's process follows its desk
    desk = Desk(ws, start_worker=False)
    run = desk.run(1)
    assert run is not None and run.state == "failed" and "stopped" in run.message
    assert not list((ws / "runs").glob("*.partial")) and not desk.plan_folder(1).exists()
    desk.close()


def test_status_is_json(desk_app, tmp_path: Path):
    client = desk_app.test_client()
    assert client.get("/runs/99/status").status_code == 404
    desk = desk_app.extensions["routeplan_desk"]
    run_id = desk.submit("plan", "missing", "2026-12", {"time_limit": 1}, "t")
    assert _wait(desk, run_id, 60) == "failed"
    doc = json.loads(client.get(f"/runs/{run_id}/status").get_data(as_text=True))
    assert doc["over"] is True and doc["state"] == "failed" and doc["message"].startswith("error:")


def test_staff_edited_on_the_scenario_page(desk_app, tmp_path: Path):
    """Add a manager, give one a day off, remove one; a bad value keeps the team as it was."""
    folder = tmp_path / "ws" / "scenarios" / "tiny"
    shutil.copytree(TINY, folder)
    client = desk_app.test_client()
    token = _csrf(client, "/scenarios/tiny")
    form = {"csrf_token": token, "count": "2"}
    for i, m in enumerate(read_scenario(folder).managers):
        form |= {f"staff:{i}:id": m.id, f"staff:{i}:name": m.name, f"staff:{i}:start_lat": str(m.office.lat),
                 f"staff:{i}:start_lon": str(m.office.lon), f"staff:{i}:min_stops_per_day": "8"}  # fmt: skip
    form |= {"staff:0:days_off": "2026-12-16", "remove:1": "on", "new:id": "M09", "new:name": "新人 <i>",
             "new:start_lat": "30.66", "new:start_lon": "104.06", "staff:0:office": "东区",
             "new:office": "东区"}  # fmt: skip
    assert client.post("/scenarios/tiny/staff", data=form).status_code == 302
    team = read_scenario(folder).managers
    assert [m.id for m in team] == ["M01", "M09"] and team[1].name == "新人 <i>"
    assert team[0].days_off == frozenset({date(2026, 12, 16)})
    assert [m.office_id for m in team] == ["东区", "东区"], "the editor keeps each manager's office"
    assert 'name="staff:0:office" value="东区"' in client.get("/scenarios/tiny").get_data(as_text=True)
    before = (folder / "staff.csv").read_text(encoding="utf-8")
    resp = client.post("/scenarios/tiny/staff", data={**form, "remove:1": "", "staff:1:start_lat": "north"})
    assert resp.status_code == 400 and "start_lat" in resp.get_data(as_text=True)
    assert (folder / "staff.csv").read_text(encoding="utf-8") == before
    page = client.get("/scenarios/tiny").get_data(as_text=True)
    assert "新人 &lt;i&gt;" in page


def test_workday_swaps_edited_on_the_scenario_page(desk_app, tmp_path: Path):
    """调休 on the rules form: a Saturday worked for the Christmas holiday; a swap onto a workday
    is refused by name and leaves the scenario as it was; an empty field takes the swap away."""
    folder = tmp_path / "ws" / "scenarios" / "tiny"
    shutil.copytree(TINY, folder)
    client = desk_app.test_client()
    form = {"csrf_token": _csrf(client, "/scenarios/tiny"), "month": "2026-12", "holidays": "2026-12-25"}
    resp = client.post("/scenarios/tiny/edit", data={**form, "workday_swaps": "2026-12-26＝2026-12-25"})
    assert resp.status_code == 302
    assert read_scenario(folder).calendar.moved == ((date(2026, 12, 26), date(2026, 12, 25)),)
    assert 'name="workday_swaps" size="40" value="2026-12-26=2026-12-25"' in client.get("/scenarios/tiny").get_data(
        as_text=True
    )
    before = (folder / "scenario.toml").read_text(encoding="utf-8")
    resp = client.post("/scenarios/tiny/edit", data={**form, "workday_swaps": "2026-12-24=2026-12-25"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "workday_swaps" in text and "2026-12-24 is a workday already" in text
    assert (folder / "scenario.toml").read_text(encoding="utf-8") == before
    assert client.post("/scenarios/tiny/edit", data={**form, "workday_swaps": ""}).status_code == 302
    assert read_scenario(folder).calendar.moved == ()


def test_every_word_of_the_desk_has_both_languages():
    """Each label a template asks for (and each rule, staff column and run state) is translated."""
    from routeplan.web import app as desk_module
    from routeplan.web.i18n import WORDS
    from routeplan.web.runs import FINISHED

    folder = Path(desk_module.__file__).parent / "templates"
    used = {
        m for p in folder.glob("*.j2") for m in re.findall(r"(?<![\w.])t\('([a-z_]+)'\)", p.read_text(encoding="utf-8"))
    }
    used |= set(desk_module.RULE_FIELDS) | set(desk_module.STAFF_COLUMNS) | {*FINISHED, "queued", "running"}
    assert used - WORDS.keys() == set()
    assert all(en and zh and en != zh for en, zh in WORDS.values())


@pytest.mark.parametrize(("url", "field", "value"), [("/scenarios/tiny/staff", "count", "1e12"),
                                                     ("/scenarios/tiny/staff", "count", "-1"),
                                                     ("/scenarios/tiny/plan", "seed", "-1"),
                                                     ("/scenarios/tiny/whatif", "seed", "2.5")])  # fmt: skip
def test_posted_counts_and_seeds_out_of_range_are_refused(desk_app, tmp_path: Path, url, field, value):
    """A posted count bounds a loop and a seed reaches the planner: out of range, the form is
    refused (400) before either happens, and nothing is queued or written."""
    folder = tmp_path / "ws" / "scenarios" / "tiny"
    shutil.copytree(TINY, folder)
    client = desk_app.test_client()
    form = {"csrf_token": _csrf(client, "/scenarios/tiny"), "sizes": "2", field: value}
    before = (folder / "staff.csv").read_text(encoding="utf-8")
    assert client.post(url, data=form).status_code == 400
    assert (folder / "staff.csv").read_text(encoding="utf-8") == before
    assert desk_app.extensions["routeplan_desk"].runs() == []


def test_the_plan_forms_start_from_the_time_limit_the_scenarios_size_is_worth(desk_app, tmp_path: Path, monkeypatch):
    """The tiny town gets the CLI's 60 s; a scenario whose shops want more (here: a suggestion
    of 540 s) starts both the plan and the what-if form there."""
    import shutil

    from conftest import TINY
    from routeplan.web import app as web_app

    shutil.copytree(TINY, tmp_path / "ws" / "scenarios" / "tiny")
    client = desk_app.test_client()
    page = client.get("/scenarios/tiny").get_data(as_text=True)
    assert page.count('name="time_limit" type="number" min="1" max="3600" value="60"') == 2
    monkeypatch.setattr(web_app, "suggested_time_limit", lambda shops: 540.0 if shops == 90 else 1.0)
    page = client.get("/scenarios/tiny").get_data(as_text=True)
    assert page.count('name="time_limit" type="number" min="1" max="3600" value="540"') == 2

"""The planner's desk: a local web app over a workspace folder (``routeplan serve``).

Pages for the market office: a scenario from an uploaded shop list (preview, column
mapping, every bad row fixed before saving), its rules, plans and what-ifs started and
followed live, and each plan's summary, map, sheets and downloads. Flask gives the routing,
sessions and uploads; Flask-WTF the CSRF token every form carries; Jinja2 autoescapes every
user text. Runs go through :class:`~routeplan.web.runs.Desk` (the command line in a child process).
"""

from __future__ import annotations

import csv
import hmac
import io
import json
import secrets
import tomllib
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import InputError
from ..read import LIST_ALL_COLUMNS, parse_date, read_scenario
from ..solve.params import suggested_time_limit
from .i18n import LANGS, word
from .intake import (
    MAX_UPLOAD_BYTES,
    SAFE_NAME,
    Choices,
    folder_name,
    load_upload,
    parse_fixes,
    preview,
    save_scenario,
    sheet_names,
    store_upload,
)
from .runs import Desk

#: Content-Security-Policy of the desk's own pages: scripts and styles from the desk only.
DESK_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'self'"
#: the staff editor's columns: every column the reader knows (an edit keeps each manager's office)
STAFF_COLUMNS = LIST_ALL_COLUMNS["staff"]
RULE_FIELDS = ("min_stops_per_day", "min_visits_per_month", "min_field_minutes", "max_day_minutes",
               "service_minutes", "speed_kmh", "cycle_weeks")  # fmt: skip


def create_app(workspace: Path, *, token: str | None = None, desk: Desk | None = None) -> Flask:
    """The desk over ``workspace``; with ``token``, every page asks for it once per browser session."""
    workspace = workspace.resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret(workspace),
        MAX_CONTENT_LENGTH=2 * MAX_UPLOAD_BYTES + 2**20,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,
        WORKSPACE=workspace,
        DESK_TOKEN=token,
    )
    app.jinja_env.autoescape = True  # Flask escapes only *.html templates by default; ours are *.html.j2
    CSRFProtect(app)
    app.extensions["routeplan_desk"] = desk or Desk(workspace)

    app.context_processor(words)
    app.before_request(guard)
    app.after_request(headers)
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(RequestEntityTooLarge, too_large)
    app.add_url_rule("/login", view_func=login, methods=["GET", "POST"])
    app.add_url_rule("/lang/<code>", view_func=language)
    app.add_url_rule("/", view_func=home)
    app.add_url_rule("/scenarios/new", view_func=new_scenario, methods=["GET", "POST"])
    app.add_url_rule("/uploads/<upload_id>", view_func=review_upload, methods=["GET", "POST"])
    app.add_url_rule("/scenarios/<slug>", view_func=scenario_page)
    app.add_url_rule("/scenarios/<slug>/edit", view_func=edit_scenario, methods=["POST"])
    app.add_url_rule("/scenarios/<slug>/staff", view_func=edit_staff, methods=["POST"])
    app.add_url_rule("/scenarios/<slug>/plan", view_func=start_plan, methods=["POST"])
    app.add_url_rule("/scenarios/<slug>/whatif", view_func=start_whatif, methods=["POST"])
    app.add_url_rule("/compare", view_func=start_compare, methods=["POST"])
    app.add_url_rule("/runs/<int:run_id>", view_func=run_page)
    app.add_url_rule("/runs/<int:run_id>/status", view_func=run_status)
    app.add_url_rule("/runs/<int:run_id>/cancel", view_func=cancel_run, methods=["POST"])
    app.add_url_rule("/runs/<int:run_id>/current", view_func=make_current, methods=["POST"])
    app.add_url_rule("/runs/<int:run_id>/files/<path:sub>", view_func=plan_file)
    app.add_url_rule("/runs/<int:run_id>/pdfs.zip", view_func=pdfs)
    return app


def _desk() -> Desk:
    desk: Desk = current_app.extensions["routeplan_desk"]
    return desk


def _workspace() -> Path:
    return Path(current_app.config["WORKSPACE"])


def _scenarios_dir() -> Path:
    return _workspace() / "scenarios"


def words() -> dict[str, Any]:
    lang = session.get("lang", "en")
    return {"t": lambda key: word(key, lang), "lang": lang}


def guard() -> ResponseReturnValue | None:
    if (
        current_app.config["DESK_TOKEN"]
        and not session.get("signed_in")
        and request.endpoint not in ("login", "static")
    ):
        return redirect(url_for("login", next=request.path))
    return None


def headers(response: Any) -> Any:
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.endpoint != "plan_file":  # a plan's own pages carry their inline map scripts
        response.headers["Content-Security-Policy"] = DESK_CSP
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def csrf_error(exc: CSRFError) -> ResponseReturnValue:
    return render_template("message.html.j2", message=f"CSRF: {exc.description}"), 400


def too_large(exc: Exception) -> ResponseReturnValue:
    lang = session.get("lang", "en")
    return render_template("message.html.j2", message=word("too_big", lang)), 413


def login() -> ResponseReturnValue:
    if not current_app.config["DESK_TOKEN"]:
        return redirect(url_for("home"))
    error = None
    if request.method == "POST":
        given = request.form.get("token", "")
        if hmac.compare_digest(given.encode(), current_app.config["DESK_TOKEN"].encode()):
            session["signed_in"] = True
            target = request.args.get("next", "/")
            # a path on this desk only: not //host, nor /\host (browsers read a backslash as a slash)
            local = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
            return redirect(target if local else "/")
        error = word("bad_token", session.get("lang", "en"))
    return render_template("login.html.j2", error=error), 401 if error else 200


def language(code: str) -> ResponseReturnValue:
    if code in LANGS:
        session["lang"] = code
    back = request.referrer or "/"
    return redirect(back if back.startswith(request.host_url) else "/")


def home() -> ResponseReturnValue:
    scenarios = _scenarios(_scenarios_dir())
    return render_template("home.html.j2", scenarios=scenarios, names={s["slug"]: s["name"] for s in scenarios}, runs=_desk().runs(),
                           current=_desk().current())  # fmt: skip


def new_scenario() -> ResponseReturnValue:
    error = None
    if request.method == "POST":
        shops = request.files.get("shops")
        staff = request.files.get("staff")
        try:
            if shops is None or not shops.filename:
                raise InputError("choose a shop list to upload")
            extra = (staff.read(), staff.filename) if staff is not None and staff.filename else None
            upload = store_upload(_workspace() / "uploads", shops.read(), shops.filename, extra)
            return redirect(url_for("review_upload", upload_id=upload.id))
        except InputError as exc:
            error = str(exc)
    return render_template("new.html.j2", error=error), 400 if error else 200


def review_upload(upload_id: str) -> ResponseReturnValue:
    try:
        upload = load_upload(_workspace() / "uploads", upload_id)
    except InputError:
        abort(404)
    choices = _choices(upload.folder)
    error = None
    if request.method == "POST":
        choices = _merge_choices(choices, request.form)
        (upload.folder / "choices.json").write_text(_dump_choices(choices), encoding="utf-8")
        if request.form.get("action") == "save":
            name = request.form.get("name", "").strip() or upload.original or "scenario"
            try:
                month = request.form.get("month", "").strip()
                holidays = [parse_date(x) for x in _items(request.form.get("holidays", ""))]
                slug = folder_name(name, {p.name for p in _scenarios_dir().iterdir()})
                save_scenario(upload, choices, _scenarios_dir() / slug, name=name, month=month, holidays=holidays)
                return redirect(url_for("scenario_page", slug=slug))
            except (InputError, ValueError) as exc:
                error = str(exc)
    result = preview(upload, choices)
    sheets = sheet_names(upload.shops)
    staff_sheets = sheet_names(upload.staff) if upload.staff else sheets
    return render_template("upload.html.j2", upload=upload, p=result, choices=choices, sheets=sheets,
                           staff_sheets=staff_sheets, error=error, next_month=_next_month(), columns=LIST_ALL_COLUMNS)  # fmt: skip


def scenario_page(slug: str) -> ResponseReturnValue:
    folder = _scenario_folder(_scenarios_dir(), slug)
    try:
        sc = read_scenario(folder)
        problem = None
    except InputError as exc:
        sc, problem = None, str(exc)
    spec = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    current = _desk().current()
    current_run = _desk().run(current) if current else None
    # the form starts from the limit the scenario's size is worth (never below the CLI's 60 s)
    seconds = max(60, round(suggested_time_limit(len(sc.retailers)))) if sc else 60
    return render_template("scenario.html.j2", slug=slug, sc=sc, problem=problem, spec=spec, rule_fields=RULE_FIELDS,
                           current=current_run, who=session.get("who", ""), seconds=seconds)  # fmt: skip


def edit_scenario(slug: str) -> ResponseReturnValue:
    folder = _scenario_folder(_scenarios_dir(), slug)
    path = folder / "scenario.toml"
    old = path.read_text(encoding="utf-8")
    spec = tomllib.loads(old)
    form = request.form
    spec["month"] = form.get("month", spec.get("month", "")).strip()
    spec["holidays"] = _items(form.get("holidays", ""))
    swaps = _swaps(form.get("workday_swaps", ""))
    if swaps:
        spec["workday_swaps"] = swaps
    else:
        spec.pop("workday_swaps", None)
    for key in RULE_FIELDS:
        if form.get(key, "").strip():
            spec.setdefault("rules", {})[key] = _number(form[key])
    for klass in spec.get("classes", {}):
        value = form.get(f"class:{klass}", "").strip()
        if value:
            spec["classes"][klass]["visits_per_month"] = _number(value)
    return _replace_checked(folder, path, _toml(spec), old)


def _swaps(text: str) -> dict[str, str]:
    """``2026-10-10=2026-10-07, ...`` (day worked = holiday it is worked for; full-width ``＝`` and
    ``，`` too) as scenario.toml's ``workday_swaps``; a pair without ``=`` keeps an empty holiday,
    which the scenario's reading then refuses by name."""
    pairs = (item.replace("＝", "=").partition("=") for item in _items(text))
    return {worked.strip(): holiday.strip() for worked, _, holiday in pairs if worked.strip()}


def _items(text: str) -> list[str]:
    """A form's comma-separated list (a Chinese comma ``，`` too), each item stripped, empty ones dropped."""
    return [item.strip() for item in text.replace("，", ",").split(",") if item.strip()]


def edit_staff(slug: str) -> ResponseReturnValue:
    """The team of a scenario whose staff list is a CSV: names, days off, daily minimum; add and remove."""
    folder = _scenario_folder(_scenarios_dir(), slug)
    path = folder / "staff.csv"
    if not path.is_file():
        return render_template(
            "message.html.j2", message="this scenario's staff list is not staff.csv: edit the file"
        ), 400
    old = path.read_text(encoding="utf-8-sig")
    form = request.form
    rows = []
    for i in range(_whole(form.get("count", "0"), 0, MAX_STAFF_ROWS)):
        if form.get(f"remove:{i}") == "on":
            continue
        rows.append([form.get(f"staff:{i}:{col}", "").strip() for col in STAFF_COLUMNS])
    if form.get("new:id", "").strip():
        rows.append([form.get(f"new:{col}", "").strip() for col in STAFF_COLUMNS])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(STAFF_COLUMNS)
    writer.writerows(rows)
    return _replace_checked(folder, path, buf.getvalue(), old)


def start_plan(slug: str) -> ResponseReturnValue:
    folder = _scenario_folder(_scenarios_dir(), slug)
    spec = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    form = request.form
    who = form.get("who", "").strip()[:60] or "office"
    session["who"] = who
    params: dict[str, Any] = {
        "time_limit": max(1.0, min(_number(form.get("time_limit", "60")), 3600.0)),
        "seed": _whole(form.get("seed", "0"), 0, MAX_SEED),
        "territories": form.get("territories", "auto")
        if form.get("territories") in ("auto", "fixed", "free")
        else "auto",
        "reproducible": form.get("reproducible") == "on",
        "tiles": form.get("tiles", "osm") if form.get("tiles") in ("osm", "amap", "none") else "osm",
        "lang": session.get("lang", "en"),
    }
    if form.get("continue") == "on" and _desk().current():
        params["previous"] = _desk().current()
    run_id = _desk().submit("plan", slug, str(spec.get("month", "")), params, who)
    return redirect(url_for("run_page", run_id=run_id))


def start_whatif(slug: str) -> ResponseReturnValue:
    folder = _scenario_folder(_scenarios_dir(), slug)
    spec = tomllib.loads((folder / "scenario.toml").read_text(encoding="utf-8"))
    sizes = request.form.get("sizes", "").replace("，", ",").replace(" ", "")
    if not all(part.isdigit() and 0 < int(part) <= 500 for part in sizes.split(",")):
        return render_template("message.html.j2", message=f"'{sizes}': give team sizes like 4,5,6"), 400
    params = {"managers": sizes, "time_limit": max(1.0, min(_number(request.form.get("time_limit", "60")), 3600.0)),
              "seed": _whole(request.form.get("seed", "0"), 0, MAX_SEED)}  # fmt: skip
    who = session.get("who", "office")
    run_id = _desk().submit("whatif", slug, str(spec.get("month", "")), params, who)
    return redirect(url_for("run_page", run_id=run_id))


def start_compare() -> ResponseReturnValue:
    """Finished plans side by side (variants of a territory, team sizes, months): a run like any other."""
    chosen = sorted({int(x) for x in request.form.getlist("runs") if x.isdigit()})
    runs = [_desk().run(r) for r in chosen]
    if len(runs) < 2 or any(r is None or r.kind != "plan" or r.state != "done" for r in runs):
        return render_template("message.html.j2", message="choose two or more finished plans to compare"), 400
    run_id = _desk().submit("compare", "", "", {"runs": chosen}, session.get("who", "office"))
    return redirect(url_for("run_page", run_id=run_id))


def run_page(run_id: int) -> ResponseReturnValue:
    run = _desk().run(run_id) or abort(404)
    folder = _desk().plan_folder(run_id)
    doc, sheets, comparison = None, {}, None
    if run.state == "done" and run.kind == "plan":
        doc = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        sheets = {m.name: sorted(p.name for p in m.glob("*.html") if p.name != "month.html")
                  for m in sorted((folder / "sheets").glob("*")) if m.is_dir()}  # fmt: skip
    if run.state == "done" and run.kind in ("whatif", "compare"):
        comparison = _comparison(folder / "comparison.csv")
    names = {s["slug"]: s["name"] for s in _scenarios(_scenarios_dir())}
    kind_words = {"plan": "plan", "whatif": "whatif", "compare": "comparison"}
    return render_template("run.html.j2", run=run, doc=doc, sheets=sheets, comparison=comparison, kind_words=kind_words,
                           scenario_name=names.get(run.scenario, run.scenario), current=_desk().current(),
                           progress=_desk().progress(run_id))  # fmt: skip


def run_status(run_id: int) -> ResponseReturnValue:
    run = _desk().run(run_id) or abort(404)
    stage, frac = _desk().progress(run_id)
    return jsonify(state=run.state, stage=stage, fraction=frac, over=run.over, message=run.message)


def cancel_run(run_id: int) -> ResponseReturnValue:
    _desk().run(run_id) or abort(404)
    _desk().cancel(run_id)
    return redirect(url_for("run_page", run_id=run_id))


def make_current(run_id: int) -> ResponseReturnValue:
    run = _desk().run(run_id) or abort(404)
    if run.kind != "plan" or run.state != "done":
        abort(400)
    _desk().set_current(run_id)
    return redirect(url_for("run_page", run_id=run_id))


def plan_file(run_id: int, sub: str) -> ResponseReturnValue:
    run = _desk().run(run_id) or abort(404)
    if run.state != "done":
        abort(404)
    return send_from_directory(_desk().plan_folder(run_id), sub)  # safe_join: nothing outside the plan folder


def pdfs(run_id: int) -> ResponseReturnValue:
    run = _desk().run(run_id) or abort(404)
    folder = _desk().plan_folder(run_id) / "sheets"
    if run.state != "done" or not folder.is_dir():
        abort(404)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for pdf in sorted(folder.rglob("*.pdf")):
            zf.write(pdf, pdf.relative_to(folder).as_posix())
    buf.seek(0)
    return send_file(buf, mimetype="application/zip", as_attachment=True, download_name=f"sheets-{run_id}.zip")


def _replace_checked(folder: Path, path: Path, text: str, old: str) -> ResponseReturnValue:
    """Replace a scenario file (atomically); if the scenario no longer reads, put the old text back."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    try:
        read_scenario(folder)
    except InputError as exc:
        tmp.write_text(old, encoding="utf-8")
        tmp.replace(path)
        return render_template("message.html.j2", message=str(exc)), 400
    return redirect(url_for("scenario_page", slug=folder.name))


def _secret(workspace: Path) -> str:
    """The workspace's session key: made once, readable by its owner only."""
    path = workspace / ".secret"
    if not path.exists():
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _scenario_folder(root: Path, slug: str) -> Path:
    if not SAFE_NAME.match(slug) or not (root / slug / "scenario.toml").is_file():
        abort(404)
    return root / slug


def _scenarios(root: Path) -> list[dict[str, str]]:
    out = []
    for folder in sorted(root.iterdir()):
        toml = folder / "scenario.toml"
        if SAFE_NAME.match(folder.name) and toml.is_file():
            try:
                spec = tomllib.loads(toml.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                spec = {}
            out.append(
                {"slug": folder.name, "name": str(spec.get("name", folder.name)), "month": str(spec.get("month", ""))}
            )
    return out


def _choices(folder: Path) -> Choices:
    path = folder / "choices.json"
    if not path.is_file():
        return Choices()
    doc = json.loads(path.read_text(encoding="utf-8"))
    fixes = {kind: {(int(k.split(":", 1)[0]), k.split(":", 1)[1]): v for k, v in doc["fixes"].get(kind, {}).items()}
             for kind in ("retailers", "staff")}  # fmt: skip
    return Choices(doc.get("shops_sheet"), doc.get("staff_sheet"), doc["columns"], fixes, doc.get("crs", "wgs84"))


def _dump_choices(c: Choices) -> str:
    fixes = {kind: {f"{row}:{col}": v for (row, col), v in c.fixes[kind].items()} for kind in c.fixes}
    return json.dumps({"shops_sheet": c.shops_sheet, "staff_sheet": c.staff_sheet, "columns": c.columns,
                       "fixes": fixes, "crs": c.crs}, ensure_ascii=False)  # fmt: skip


def _merge_choices(c: Choices, form: Any) -> Choices:
    """The preview form over the stored choices: sheets, datum, mapping, and newly fixed cells."""
    c.shops_sheet = form.get("shops_sheet") or c.shops_sheet
    c.staff_sheet = form.get("staff_sheet") or c.staff_sheet
    if form.get("crs") in ("wgs84", "gcj02", "bd09"):
        c.crs = form["crs"]
    for kind in ("retailers", "staff"):
        for key, value in form.items():
            if key.startswith(f"map:{kind}:"):
                col = key.split(":", 2)[2]
                if value:
                    c.columns[kind][col] = value
                else:
                    c.columns[kind].pop(col, None)
    for kind, fixes in parse_fixes(form).items():
        c.fixes[kind].update(fixes)
    return c


def _comparison(path: Path) -> list[list[str]] | None:
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


#: Most rows the staff editor posts (a team, not a city's shops), and the largest seed a form takes.
MAX_STAFF_ROWS = 10_000
MAX_SEED = 2**32 - 1


def _whole(text: str, low: int, high: int) -> int:
    """A whole number in ``low..high`` from a form, else 400 (a loop over a posted count stays bounded)."""
    value = _number(text)
    if not isinstance(value, int) or not low <= value <= high:
        abort(400)
    return value


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        abort(400)
    if value != value or value in (float("inf"), float("-inf")):
        abort(400)
    return int(value) if value.is_integer() else value


def _next_month() -> str:
    today = date.today()
    y, m = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return f"{y}-{m:02d}"


def _toml(spec: dict[str, Any]) -> str:
    """A scenario's spec back as TOML (top-level keys, then [rules], [travel], [columns], [classes.X])."""
    lines, tables = [], []
    for key, value in spec.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_literal(value)}")
    for key, table in tables:
        flat = {k: v for k, v in table.items() if not isinstance(v, dict)}
        if flat:
            lines += ["", f"[{key}]", *(f"{_key(k)} = {_literal(v)}" for k, v in flat.items())]
        for sub, inner in table.items():
            if isinstance(inner, dict):
                lines += ["", f"[{key}.{_key(sub)}]", *(f"{_key(k)} = {_literal(v)}" for k, v in inner.items())]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return (
        key
        if key.replace("_", "").replace("-", "").isalnum() and key.isascii()
        else json.dumps(key, ensure_ascii=False)
    )


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)

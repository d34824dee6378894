"""The reports area of a partnership's business unit, executive, scrutineer and auditors: the figures of a period
with their charts and tables, the printable report and its PDF, the case list with its filters, the downloads,
and where cases stall on the diagram. Every read is in the access log."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import access_log
from engine.cases.writer import partnership_calendar
from engine.errors import Invalid
from engine.models import Agency, ProcedureVersion
from engine.queries.access import reporting_partnerships
from engine.reports import exports
from engine.reports.annual import report_pdf
from engine.reports.cases import CASE_COLUMNS, PAGE_SIZE, all_rows, case_cells, page_of, parse_filter
from engine.reports.figures import area_labels, report
from engine.reports.periods import Period, parse_period, recent_periods
from engine.reports.stalls import stalls
from engine.vocabulary import OUTCOMES, outcome_label

from . import charts
from .auth import caller
from .database import clock, db

bp = Blueprint("reports", __name__, url_prefix="/reports")


def reporter_required(view):
    """Only for people holding a reporting role in a partnership's body; everyone else finds nothing here."""
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        mine = reporting_partnerships(db.session, current_user)
        if not mine:
            abort(404)
        wanted = request.args.get("partnership")
        g.partnership = next((p for p in mine if p.slug == wanted), None) if wanted else mine[0]
        if g.partnership is None:
            abort(404)
        g.partnerships = mine
        return view(*args, **kwargs)

    return wrapped


class _Refused(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors


@bp.errorhandler(_Refused)
def _refused(exc: _Refused):
    message = " ".join(exc.errors.values())
    return render_template("error.html", title="Not a report we can make", message=message), 400


def _today():
    return partnership_calendar(g.partnership).local_day(clock().now())


def _period() -> Period:
    try:
        return parse_period(request.args.get("period"), request.args.get("from"), request.args.get("to"), _today())
    except Invalid as exc:
        raise _Refused(exc.errors) from None


def _arguments(period: Period, **more: Any) -> dict[str, Any]:
    """What a link keeps of the request: the partnership and the period, and what else is given."""
    args: dict[str, Any] = {"partnership": g.partnership.slug}
    if period.kind == "dates":
        args.update({"from": period.first.isoformat(), "to": period.last.isoformat()})
    else:
        args["period"] = period.key
    args.update({k: v for k, v in more.items() if v not in (None, "", False)})
    return args


def _log(what: str, detail: dict[str, Any] | None = None) -> None:
    access_log.log(db.session, clock(), "report_read", caller(), what=f"{g.partnership.slug}:{what}",
                   detail=detail)
    db.session.commit()


def _download(data: bytes, name: str, mimetype: str) -> Response:
    return Response(data, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(what: str):
    """The figures of the period the request names, their read logged as `what` (and the period)."""
    period = _period()
    figures = report(db.session, g.partnership, period, partnership_calendar(g.partnership), clock().now())
    _log(f"{what} {period.key}")
    return period, figures


@bp.route("")
@reporter_required
def index():
    period, figures = _report("report")
    return render_template("reports.html", report=figures, period=period, args=_arguments(period),
                           periods=recent_periods(_today()), specs={t.key: charts.spec(t) for t in figures.tables})


@bp.route("/print")
@reporter_required
def printable():
    period, figures = _report("print")
    return render_template("reports_print.html", report=figures, period=period, args=_arguments(period),
                           specs={t.key: charts.spec(t) for t in figures.tables})


@bp.route("/report.pdf")
@reporter_required
def pdf():
    period, figures = _report("pdf")
    name = exports.file_name(g.partnership.slug, "report", period, extension="pdf")
    return Response(report_pdf(figures), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.route("/report.xlsx")
@reporter_required
def xlsx():
    period, figures = _report("xlsx")
    return _download(exports.report_xlsx(figures.tables),
                     exports.file_name(g.partnership.slug, "report", period, extension="xlsx"), XLSX)


@bp.route("/<key>.csv")
@reporter_required
def table_csv(key: str):
    period, figures = _report(f"csv {key}")
    table = next((t for t in figures.tables if t.key == key), None)
    if table is None:
        abort(404)
    return _download(exports.csv_bytes([c or "" for c in table.columns], exports.table_rows(table)),
                     exports.file_name(g.partnership.slug, key, period), "text/csv")


@bp.route("/returns.zip")
@reporter_required
def returns():
    period = _period()
    _log(f"returns {period.key}")
    return _download(exports.returns_zip(db.session, g.partnership.id, g.partnership.slug, period),
                     exports.file_name(g.partnership.slug, "returns", period, extension="zip"), "application/zip")


# -- the case list ----------------------------------------------------------------------------------------------

def _agencies() -> dict[int, str]:
    return dict(db.session.execute(select(Agency.id, Agency.name).where(
        Agency.partnership_id == g.partnership.id, Agency.is_partnership_body.is_(False)).order_by(Agency.name)).all())


def _filter(agencies: dict[int, str]):
    try:
        return parse_filter(request.args.to_dict(), set(agencies))
    except Invalid as exc:
        raise _Refused(exc.errors) from None


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


def _words() -> tuple[str, dict[str, str]]:
    version = db.session.get(ProcedureVersion, g.partnership.current_version_id) \
        if g.partnership.current_version_id else None
    meta = version.meta if version else {}
    return meta.get("stage_word", "stage"), {o.name: outcome_label(o.name, meta.get("outcome_labels"))
                                             for o in OUTCOMES}


@bp.route("/cases")
@reporter_required
def cases():
    period, agencies = _period(), _agencies()
    case_filter = _filter(agencies)
    found = page_of(db.session, g.partnership.id, period, case_filter, clock().now(), _page_number())
    access_log.log(db.session, clock(), "cases_listed", caller(), what=f"{g.partnership.slug}:reports",
                   detail={"challenges": [row.id for row in found.rows]})
    db.session.commit()
    word, outcomes = _words()
    return render_template("reports_cases.html", found=found, case_filter=case_filter, period=period,
                           periods=recent_periods(_today()), agencies=agencies, areas=area_labels(),
                           outcomes=outcomes, stage_word=word, page_size=PAGE_SIZE,
                           args=_arguments(period, **case_filter.query()))


def _case_download(extension: str) -> Response:
    period, agencies = _period(), _agencies()
    case_filter = _filter(agencies)
    rows = all_rows(db.session, g.partnership.id, period, case_filter, clock().now())
    access_log.log(db.session, clock(), "cases_listed", caller(), what=f"{g.partnership.slug}:reports "
                   f"{extension}", detail={"challenges": [row.id for row in rows]})
    db.session.commit()
    word, outcomes = _words()
    cells = [case_cells(row, outcomes, word) for row in rows]
    name = exports.file_name(g.partnership.slug, "challenges", period, case_filter.words(agencies), extension)
    if extension == "csv":
        return _download(exports.csv_bytes(CASE_COLUMNS, cells), name, "text/csv")
    return _download(exports.xlsx_bytes([("Challenges", CASE_COLUMNS, cells)]), name, XLSX)


@bp.route("/cases.csv")
@reporter_required
def cases_csv():
    return _case_download("csv")


@bp.route("/cases.xlsx")
@reporter_required
def cases_xlsx():
    return _case_download("xlsx")


# -- where cases stall --------------------------------------------------------------------------------------------

def _versions() -> list[ProcedureVersion]:
    return list(db.session.scalars(select(ProcedureVersion).where(ProcedureVersion.partnership_id == g.partnership.id)
                                   .order_by(ProcedureVersion.procedure, ProcedureVersion.number.desc())))


def _version(versions: list[ProcedureVersion]) -> ProcedureVersion:
    wanted = request.args.get("version")
    if wanted:
        found = next((v for v in versions if str(v.id) == wanted), None)
        if found is None:
            raise _Refused({"version": "Choose one of the partnership's procedure versions."})
        return found
    current = next((v for v in versions if v.id == g.partnership.current_version_id), None)
    if current is None:
        abort(404)
    return current


@bp.route("/stalls")
@reporter_required
def stall_view():
    period, versions = _period(), _versions()
    version = _version(versions)
    found = stalls(db.session, version, period, partnership_calendar(g.partnership), clock().now())
    _log(f"stalls {version.procedure} v{version.number} {period.key}")
    heat = charts.heat(found)
    return render_template("reports_stalls.html", stalls=found, heat=heat, period=period, version=version,
                           versions=versions, periods=recent_periods(_today()),
                           args=_arguments(period, version=version.id),
                           diagram=url_for("reports.stall_diagram", **_arguments(period, version=version.id)))


@bp.route("/stalls/diagram.bpmn")
@reporter_required
def stall_diagram():
    version = _version(_versions())
    return Response(version.bpmn_xml, mimetype="application/xml")


@bp.app_context_processor
def _menu():
    if current_user.is_authenticated and request.endpoint:
        return {"is_reporter": bool(reporting_partnerships(db.session, current_user))}
    return {"is_reporter": False}

"""The public pages (SPEC F3, H2): no login, no permission. The green-mine directory with its
search, the verification of a certificate by its number, and the spot checks' draws and results
(双随机一公开), as HTML and as JSON.

What they show comes from app.services.certificates: listed directory entries only (no
application, no draft, nothing removed), and only the names copied into the entry at listing,
never the registry's contact data. Certification certificates (SPEC G3, numbers GMC-…) are
verified on the same page, from app.services.surveillance: number, grade, mine, enterprise,
province, body, dates and validity, nothing else (no contact data, no scores); the list of
certified mines shows the certificates valid today. The spot checks come from
app.services.spotcheck_reports: drawn campaigns only (a planned one is a 404), the draw's inputs
and every candidate (enough to replay the draw by hand), the sample in order and each decided
result; never a person (no inspector, no principal, no contact data). The provinces' public notices of
selection results come from app.services.public_notices: the mines under notice, the period and the
province's contact for objections, and the form on which anyone files an objection while the
notice runs (the objector is seen by the province only). Every parameter is parsed leniently: a
malformed one is dropped, never a 500.
"""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_babel import gettext as _

from app.models.certification import GRADES
from app.models.directory import LEVELS
from app.services import certificates, public_notices, spotcheck_reports, surveillance
from app.services.exceptions import DomainError, NotFound


def _level_choices() -> list[tuple[str, str]]:
    from app.services.directory import LEVEL_LABELS

    return [(level, str(LEVEL_LABELS.get(level, level))) for level in LEVELS]


def _verify(number):
    """A directory certificate (GM-…) or a certification certificate (GMC-…) by its number."""
    return certificates.verify(number) or surveillance.verify(number)


def _public(response):
    """Anonymous answers may be cached for a minute (a revocation shows quickly); a signed-in
    user's page carries his name in the navigation bar and is never stored by a proxy."""
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False):
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.headers["Cache-Control"] = "public, max-age=60"
    return response


class PublicView(BaseView):
    """Anonymous pages under /public. No @has_access: nothing here needs a permission."""

    route_base = "/public"
    default_view = "directory"

    @expose("/")
    def index(self):
        return redirect(url_for("PublicView.directory"))

    @expose("/directory")
    def directory(self):
        query = certificates.parse_directory_query(request.args)
        page = certificates.public_directory(query)
        args = {key: value for key, value in (("name", query.name), ("province", query.province),
                                               ("level", query.level), ("year", query.year)) if value}
        return _public(self.make_response_html(
            "public/directory.html", title=_("Green mine directory"), page=page, query=query, args=args,
            provinces=certificates.provinces(), levels=_level_choices(),
        ))

    @expose("/certificate")
    @expose("/certificate/<string:number>")
    def verify(self, number=None):
        asked = number if number is not None else request.args.get("number")
        asked = (asked or "").strip()[:64]
        result = _verify(asked) if asked else None
        return _public(self.make_response_html(
            "public/verify.html", title=_("Certificate verification"), asked=asked, result=result,
        ))

    @expose("/api/certificate/<string:number>")
    def verify_json(self, number):
        result = _verify(number)
        if result is None:
            return _public(jsonify(found=False, number=number[:64],
                                   message=_("No certificate has this number."))), 404
        return _public(jsonify(found=True, **result))

    @expose("/api/directory")
    def directory_json(self):
        query = certificates.parse_directory_query(request.args)
        page = certificates.public_directory(query)
        return _public(jsonify(count=page.total, page=query.page, size=query.size,
                               result=[certificates.directory_row_dict(row) for row in page.rows]))

    # --- Certified green mines (SPEC G3) ---------------------------------------------------
    @expose("/certifications")
    def certifications(self):
        query = surveillance.parse_certified_query(request.args)
        page = surveillance.public_certified(query)
        args = {key: value for key, value in (("name", query.name), ("province", query.province),
                                               ("grade", query.grade)) if value}
        return _public(self.make_response_html(
            "public/certifications.html", title=_("Certified green mines"), page=page, query=query, args=args,
            provinces=certificates.provinces(), grades=list(GRADES),
        ))

    @expose("/api/certifications")
    def certifications_json(self):
        query = surveillance.parse_certified_query(request.args)
        page = surveillance.public_certified(query)
        return _public(jsonify(count=page.total, page=query.page, size=query.size,
                               result=[surveillance.certified_row_dict(row) for row in page.rows]))

    # --- Spot checks (双随机一公开, SPEC H2) ----------------------------------------------
    @expose("/spot-checks")
    def spot_checks(self):
        query = spotcheck_reports.parse_public_query(request.args)
        page = spotcheck_reports.public_campaigns(query)
        return _public(self.make_response_html(
            "gm/public_spot_checks.html", title=_("Spot-check draws and results"), page=page, query=query,
            args={"year": query.year} if query.year else {},
        ))

    @expose("/spot-checks/<int:campaign_id>")
    def spot_check(self, campaign_id):
        campaign = spotcheck_reports.public_campaign(campaign_id)
        if campaign is None:
            abort(404)
        return _public(self.make_response_html(
            "gm/public_spot_check.html", title=campaign["title"], campaign=campaign,
        ))

    @expose("/api/spot-checks")
    def spot_checks_json(self):
        query = spotcheck_reports.parse_public_query(request.args)
        page = spotcheck_reports.public_campaigns(query)
        return _public(jsonify(count=page.total, page=query.page, size=query.size, result=page.rows))

    @expose("/api/spot-checks/<int:campaign_id>")
    def spot_check_json(self, campaign_id):
        campaign = spotcheck_reports.public_campaign(campaign_id)
        if campaign is None:
            return _public(jsonify(found=False, message=_("No published spot check has this number."))), 404
        return _public(jsonify(found=True, **campaign))

    # --- The province's public notice of selection results, and objections (seed 001 二(五)) ---
    @expose("/notices")
    def notices(self):
        page = public_notices.public_notices(public_notices.parse_page(request.args))
        return _public(self.make_response_html(
            "public/notices.html", title=_("Public notices of selection results"), page=page,
        ))

    def _notice_page(self, notice_id, error=None, form=None, status=200):
        notice = public_notices.public_notice(notice_id)
        if notice is None:
            abort(404)
        response = self.make_response_html(
            "public/notice.html", title=notice["title"], notice=notice, error=error, form=form or {},
            mines=public_notices.objectable_mines(notice_id),
        )
        response.status_code = status
        # The page carries the form's CSRF token of this visitor's session: never stored by a proxy.
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @expose("/notices/<int:notice_id>")
    def notice(self, notice_id):
        return self._notice_page(notice_id)

    @expose("/notices/<int:notice_id>/objection", methods=["POST"])
    def file_objection(self, notice_id):
        try:
            public_notices.file_objection(notice_id, request.form, request.files.getlist("files"),
                                          request.remote_addr)
        except NotFound:
            abort(404)
        except DomainError as exc:
            return self._notice_page(notice_id, error=exc, form=request.form, status=exc.status_code)
        flash(_("Your objection has been received. The province will examine it and may contact you."), "success")
        return redirect(url_for("PublicView.notice", notice_id=notice_id))

    @expose("/api/notices")
    def notices_json(self):
        query_page = public_notices.parse_page(request.args)
        page = public_notices.public_notices(query_page)
        return _public(jsonify(count=page.total, page=page.page, size=page.size, result=page.rows))

    @expose("/api/notices/<int:notice_id>")
    def notice_json(self, notice_id):
        notice = public_notices.public_notice(notice_id)
        if notice is None:
            return _public(jsonify(found=False, message=_("No published notice has this number."))), 404
        return _public(jsonify(found=True, **notice))

    def make_response_html(self, template, **kwargs):
        from flask import make_response

        return make_response(self.render_template(template, **kwargs))


def register(appbuilder) -> None:
    """Add the public pages and the certificate screens to ``appbuilder``."""
    appbuilder.add_view_no_menu(PublicView)
    from app.views import certificates as certificate_views

    certificate_views.register(appbuilder)

"""Grades, certification certificates, surveillance audits and public verification (SPEC G3, G4;
seed 002 §五, §六.2-4).

**Grades** (G3). ``CERTIFICATION_GRADE_THRESHOLDS`` (config) lists (grade, share) pairs, highest
first: a mine reaches a grade when the certification body's total is at least that share of the
catalogue's maximum (per 100; inclusive: 90.0 is AAAAA, 89.99 AAAA, 79.99 no grade). The share is
``round(total / maximum * 100, 2)`` of the certifier's summary (app.services.evaluation). A setting
with an unknown grade, a share outside 0..100 or shares that do not strictly decrease is refused
where it is used (``ThresholdSettingInvalid``), never silently read.

**Certify** (guard ``check_certifiable`` and effect ``certify`` of the certification workflow's
step ``certify``): the project team complete, the certifier's sheet complete, the evaluation
report uploaded, the catalogue's own pass rules met and a grade reached; else the refusal says
what is missing (below the lowest grade: that "Do not certify" is the step to take). The effect
issues the ``CertificationCertificate`` in the step's transaction:

    number      <CERTIFICATION_NUMBER_PREFIX>-<year of issue>-<five-digit sequence per year>,
                e.g. GMC-2026-00001 (app.services.certificates.insert_numbered: advisory lock
                on PostgreSQL, unique constraint and retry everywhere)
    valid_from  the day of issue; for a renewal whose previous certificate is still valid, the
                day after that one ends (the two never overlap)
    valid_until the day before valid_from's CERTIFICATION_VALID_YEARS-th anniversary
                (app.services.certificates.last_valid_day, the convention of both certificates)

**Validity** (``validity``): revoked (its status, whatever the dates), not yet valid (before
``valid_from``), expired (after ``valid_until``), else valid.

**Surveillance** (G4, seed 002 §六.4: at least one on-site surveillance audit in every year of
validity). A certifier of the certificate's body plans an audit of a valid certificate
(``audit_rule``) and records it while it is planned: the day (not in the future, within the
certificate's validity), the team, the findings, the score's share of the maximum (0..100). Its
outcome is one workflow step; each needs the day, the findings and the share, and a valid
certificate:

    maintain   the share reaches the threshold of the certificate's grade
    upgrade    the share reaches the threshold of the grade above (AAAA -> AAAAA)
    downgrade  below the certificate's grade, reaching the grade below (AAAAA -> AAAA)
    revoke     any share (comment required): the certificate is revoked in the same transaction

The effects stamp grade_before, grade_after (None after a revocation), decided_at and the
comment, and change the certificate's grade (an ORM change: the audit trail records it).

**Missing audits** (``audit_years``, ``audit_flags``): certificate year k (1..VALID_YEARS) runs
from valid_from + (k-1) years to the day before valid_from + k years. A year that has ended
(and in which the certificate was not revoked) without a decided audit dated in it is missing.
The current year is "due" until one is decided in it.

**Renewal** (``renewal_due``): a valid certificate within CERTIFICATION_RENEWAL_NOTICE_DAYS of its
end, for which no re-evaluation (a renewal application naming it) is under way or certified.
"""
from __future__ import annotations

import datetime
import math
import re
from dataclasses import asdict, dataclass
from typing import Any, Optional

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import selectinload

from app import clock
from app.extensions import db
from app.models.certification import (
    EXPIRED,
    GRADES,
    NOT_YET_VALID,
    RENEWAL,
    REVOKED,
    VALID,
    VALIDITY_LABELS,
    CertificationApplication,
    CertificationBody,
    CertificationCertificate,
)
from app.models.mixins import provide_rule
from app.services import certificates, records, scoping, search_text
from app.services.evaluation import CERTIFIER
from app.services.exceptions import AccessDenied, TransitionRefused, ValidationFailed
from app.services.paging import Page
from app.services.workflow import WORKFLOWS

DEFAULT_THRESHOLDS = (("AAAAA", 90.0), ("AAAA", 80.0))
DEFAULT_VALID_YEARS = 3
DEFAULT_NOTICE_DAYS = 90
DEFAULT_PREFIX = "GMC"
# Upload owner type and slot of the certification body's evaluation report (app.services.uploads).
EVALUATION_REPORT = ("CertificationEvaluation", "evaluation_report")
# A renewal in one of these states does not stop the notice: it ended without a certificate.
_ENDED_WITHOUT_CERTIFICATE = ("rejected", "not_certified")
# The outcome's columns: written by the workflow step only.
DECISION_FIELDS = ("grade_before", "grade_after", "decided_at", "decision_comment")
TEXT_MAX = 4000
TEAM_MAX = 1000
_EPSILON = 1e-9


class ThresholdSettingInvalid(ValueError):
    """CERTIFICATION_GRADE_THRESHOLDS is malformed (an operator's error, named in the message)."""


def _today() -> datetime.date:
    return clock.today()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _config(key: str, default):
    try:
        return current_app.config.get(key, default)
    except RuntimeError:  # outside an application context
        return default


def number_text(value: Optional[float]) -> str:
    """85.0 -> "85", 89.99 -> "89.99" (as people write a share)."""
    if value is None:
        return ""
    return f"{round(float(value), 2):g}"


# ---------------------------------------------------------------------------
# Grades (G3)
# ---------------------------------------------------------------------------
def thresholds() -> list[tuple[str, float]]:
    """The configured (grade, share) pairs, highest first, validated."""
    raw = _config("CERTIFICATION_GRADE_THRESHOLDS", DEFAULT_THRESHOLDS)
    setting = "CERTIFICATION_GRADE_THRESHOLDS"
    try:
        pairs = [tuple(pair) for pair in raw]
    except TypeError:
        raise ThresholdSettingInvalid(f"{setting} must be a list of (grade, share) pairs, not {raw!r}") from None
    if not pairs:
        raise ThresholdSettingInvalid(f"{setting} names no grade")
    result: list[tuple[str, float]] = []
    for pair in pairs:
        if len(pair) != 2:
            raise ThresholdSettingInvalid(f"{setting}: {pair!r} is not a (grade, share) pair")
        grade, share = pair
        if grade not in GRADES:
            raise ThresholdSettingInvalid(f"{setting}: unknown grade {grade!r} (known: {', '.join(GRADES)})")
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not math.isfinite(share) \
                or not 0 <= share <= 100:
            raise ThresholdSettingInvalid(f"{setting}: the share of {grade} must be a number from 0 to 100, "
                                          f"not {share!r}")
        if any(grade == seen for seen, _share in result):
            raise ThresholdSettingInvalid(f"{setting}: {grade} is named twice")
        if result and not share < result[-1][1]:
            raise ThresholdSettingInvalid(f"{setting}: the shares must strictly decrease, highest grade first "
                                          f"({result[-1][0]} {result[-1][1]}, then {grade} {share})")
        result.append((grade, float(share)))
    return result


def threshold_of(grade: Optional[str]) -> Optional[float]:
    return dict(thresholds()).get(grade) if grade else None


def grade_for(share: Optional[float]) -> Optional[str]:
    """The highest grade whose threshold the share reaches (inclusive), or None."""
    if share is None:
        return None
    for grade, threshold in thresholds():
        if share + _EPSILON >= threshold:
            return grade
    return None


def _neighbour(grade: str, step: int) -> Optional[tuple[str, float]]:
    """The configured grade above (step -1) or below (step +1) ``grade``."""
    ordered = thresholds()
    names = [name for name, _share in ordered]
    if grade not in names:
        return None
    index = names.index(grade) + step
    return ordered[index] if 0 <= index < len(ordered) else None


def share_of(summary) -> Optional[float]:
    """The summary's total as a share of its maximum, per 100, to two decimals."""
    if summary is None or not summary.maximum:
        return None
    return round(summary.total / summary.maximum * 100 + 0.0, 2)


def grade_label(grade: Optional[str]) -> str:
    return grade or ""


# ---------------------------------------------------------------------------
# Certify (guard and effect of the certification workflow's "certify")
# ---------------------------------------------------------------------------
def _certifier_summary(record):
    from app.services import evaluation

    summary = evaluation.summarize(record, CERTIFIER)
    if summary is None:
        raise TransitionRefused(_("No indicator catalogue is active."))
    return summary


def check_certifiable(record, user, comment) -> None:
    """Guard of ``certify``: team, sheet, report, pass rules and a grade (see the module)."""
    from app.services import certification, evaluation, uploads, workflow

    certification.check_team_complete(record)
    evaluation.check_sheet_complete(record, CERTIFIER)
    if not uploads.attachments_of(EVALUATION_REPORT[0], record.id, EVALUATION_REPORT[1]):
        raise TransitionRefused(_("Upload the certification evaluation report before certifying."))
    summary = _certifier_summary(record)
    if summary.failures:
        raise TransitionRefused(_("The certification body's scores do not meet the catalogue's pass rules: "
                                  "%(reasons)s", reasons=" ".join(str(f) for f in summary.failures)))
    share = share_of(summary)
    if grade_for(share) is None:
        lowest, threshold = thresholds()[-1]
        raise TransitionRefused(_(
            "The certification body's score is %(share)s per hundred of the maximum, below the lowest grade "
            "%(grade)s (%(threshold)s): no grade is reached, and the step to take is “%(refuse)s”.",
            share=number_text(share), grade=lowest, threshold=number_text(threshold),
            refuse=workflow.action_label("certification", "refuse")))


def _years() -> int:
    return int(_config("CERTIFICATION_VALID_YEARS", DEFAULT_VALID_YEARS))


def validity_period(record, issued_on: datetime.date) -> tuple[datetime.date, datetime.date]:
    """(valid_from, valid_until) of the certificate ``record`` gets on ``issued_on``."""
    valid_from = issued_on
    previous = record.previous_certificate if record.kind == RENEWAL else None
    if previous is not None and previous.status != REVOKED and previous.valid_until >= issued_on:
        valid_from = previous.valid_until + datetime.timedelta(days=1)
    return valid_from, certificates.last_valid_day(valid_from, _years())


def number_prefix(year: int) -> str:
    return f"{_config('CERTIFICATION_NUMBER_PREFIX', DEFAULT_PREFIX)}-{int(year):04d}-"


def issue(record, grade: str, session=None) -> CertificationCertificate:
    """The certificate of ``record`` with ``grade``, in the caller's transaction (flushed)."""
    session = session or db.session
    issued_on = _today()
    valid_from, valid_until = validity_period(record, issued_on)
    prefix = number_prefix(issued_on.year)
    mine = record.mine
    return certificates.insert_numbered(
        session, prefix,
        lambda: certificates.next_in_sequence(session, CertificationCertificate.number, prefix, 5),
        lambda number: CertificationCertificate(
            number=number, certification_id=record.id, mine_id=record.mine_id, enterprise_id=record.enterprise_id,
            region_code=record.region_code, body_id=record.body_id, grade=grade,
            mine_name=record.mine_name or (mine.name if mine is not None else ""),
            enterprise_name=record.enterprise_name or (record.enterprise.name if record.enterprise else ""),
            mineral_name=_mineral_name(record),
            issued_on=issued_on, valid_from=valid_from, valid_until=valid_until,
        ),
    )


def _mineral_name(record) -> Optional[str]:
    if record.mineral_name:
        return record.mineral_name
    mine = record.mine
    mineral = getattr(mine, "mineral", None) if mine is not None else None
    return mineral.name if mineral is not None else None


def certify(record, user, comment) -> dict:
    """Effect of ``certify``: score, share and grade, and the certificate (same transaction)."""
    summary = _certifier_summary(record)
    share = share_of(summary)
    grade = grade_for(share)
    if grade is None:  # the guard ran in this transaction; kept for a direct call
        raise TransitionRefused(_("No grade is reached."))
    issue(record, grade)
    return {"score": summary.total, "score_share": share, "grade": grade, "finished_on": _today(),
            "decided_at": _now(), "decision_comment": comment or None}


def stamp_revoked(certificate, user, comment) -> dict:
    """Effect of the certificate's ``revoke``."""
    return {"revoked_on": _today(), "decided_at": _now(), "decision_comment": comment or None}


# ---------------------------------------------------------------------------
# Validity
# ---------------------------------------------------------------------------
def validity_from(status: Optional[str], valid_from: datetime.date, valid_until: datetime.date,
                  today: Optional[datetime.date] = None) -> str:
    today = today or _today()
    if status == REVOKED:
        return REVOKED
    if today < valid_from:
        return NOT_YET_VALID
    if today > valid_until:
        return EXPIRED
    return VALID


def validity(certificate, today: Optional[datetime.date] = None) -> str:
    """valid / not_yet_valid / expired / revoked (a revoked one stays revoked)."""
    return validity_from(certificate.status, certificate.valid_from, certificate.valid_until, today)


def validity_label(value: str) -> str:
    return str(VALIDITY_LABELS.get(value, value))


def validity_label_of(certificate, today: Optional[datetime.date] = None) -> str:
    return validity_label(validity(certificate, today))


provide_rule("surveillance.validity", validity)


# ---------------------------------------------------------------------------
# Surveillance audits: the record rule
# ---------------------------------------------------------------------------
def is_certifier_of(user, certificate) -> bool:
    roles = {role.name for role in getattr(user, "roles", ())}
    return ("certifier" in roles and certificate is not None
            and getattr(user, "certification_body_id", None) == certificate.body_id)


def audit_rule(audit, user, action: str) -> None:
    """Record rule of the audits' views and API (see the module)."""
    with db.session.no_autoflush:
        _audit_rule(audit, user, action)


def _audit_rule(audit, user, action: str) -> None:
    state = sa_inspect(audit)
    if action == scoping.DELETE:
        if audit.status not in WORKFLOWS["surveillance"].deletable:
            raise ValidationFailed(_("Only a planned audit can be deleted; a decided one is kept."))
        return
    if state.persistent:
        if records.committed(audit, "status") not in WORKFLOWS["surveillance"].editable:
            raise ValidationFailed(_("An audit can be changed only while it is planned."))
        if records.set_keys(audit, ("certificate_id",)) or (
                audit.certificate is not None and audit.certificate.id != records.committed(audit, "certificate_id")):
            raise ValidationFailed(_("The certificate of an audit does not change."), field="certificate")
    # The certificate: chosen in the form (relationship) or named in the body (certificate_id).
    certificate = audit.certificate
    if certificate is None and audit.certificate_id is not None:
        certificate = db.session.get(CertificationCertificate, audit.certificate_id)
    if certificate is None:
        raise ValidationFailed(_("Choose the certificate."), field="certificate")
    if not scoping.can_access(user, certificate, scoping.LINK):
        raise AccessDenied(_("You do not have access to this record."))
    if not is_certifier_of(user, certificate):
        raise AccessDenied(_("Only a certifier of the body that issued the certificate audits it."))
    audit.certificate, audit.certificate_id = certificate, certificate.id
    if records.set_keys(audit, DECISION_FIELDS):
        raise ValidationFailed(_("The outcome is recorded by the outcome's step only."))
    if not state.persistent and validity(certificate) != VALID:
        raise ValidationFailed(_("Only a valid certificate is audited; this one is “%(validity)s”.",
                                 validity=validity_label_of(certificate)), field="certificate")
    for key in ("planned_on", "audit_on"):
        day = getattr(audit, key)
        if day is None:
            continue
        if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
            raise ValidationFailed(_("Not a valid date."), field=key)
        if not certificate.valid_from <= day <= certificate.valid_until:
            raise ValidationFailed(_("The day lies within the certificate's validity, %(start)s to %(end)s.",
                                     start=certificate.valid_from.isoformat(),
                                     end=certificate.valid_until.isoformat()), field=key)
    if audit.audit_on is not None and audit.audit_on > _today():
        raise ValidationFailed(_("The audit's day is not in the future."), field="audit_on")
    share = audit.score_share
    if share is not None:
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not math.isfinite(share) \
                or not 0 <= share <= 100:
            raise ValidationFailed(_("The share is a number from 0 to 100."), field="score_share")
        audit.score_share = round(float(share), 2)
    for key, limit in (("team", TEAM_MAX), ("findings", TEXT_MAX)):
        value = getattr(audit, key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValidationFailed(_("Not a valid string."), field=key)
        value = value.strip() or None
        if value is not None and len(value) > limit:
            raise ValidationFailed(_("At most %(n)s characters.", n=limit), field=key)
        setattr(audit, key, value)


def search_certificates(user, q: str = "", limit: int = 20) -> list[dict]:
    """The valid certificates ``user`` may audit (his body's, in his scope), by number or name."""
    from sqlalchemy import or_

    body_id = getattr(user, "certification_body_id", None)
    if body_id is None or "certifier" not in {role.name for role in getattr(user, "roles", ())}:
        return []
    today = _today()
    query = select(CertificationCertificate).where(
        scoping.scope_filter(CertificationCertificate, user), CertificationCertificate.body_id == body_id,
        CertificationCertificate.status == VALID, CertificationCertificate.valid_from <= today,
        CertificationCertificate.valid_until >= today)
    q = (q or "").strip()
    if q:
        query = query.where(or_(search_text.contains(CertificationCertificate.number, q),
                                search_text.contains(CertificationCertificate.mine_name, q),
                                search_text.contains(CertificationCertificate.enterprise_name, q)))
    rows = db.session.scalars(query.order_by(CertificationCertificate.number).limit(limit)).all()
    return [{"id": row.id, "text": certificate_choice_label(row)} for row in rows]


def certificate_choice_label(certificate) -> str:
    return f"{certificate.number} {certificate.mine_name}（{certificate.grade}）"


# ---------------------------------------------------------------------------
# Surveillance outcomes (guards and effects of the surveillance workflow)
# ---------------------------------------------------------------------------
def _check_recorded(audit) -> CertificationCertificate:
    missing = [str(label) for key, label in (("audit_on", _l("the audit's day")), ("findings", _l("the findings")),
                                              ("score_share", _l("the share of the maximum")))
               if getattr(audit, key) in (None, "")]
    if missing:
        raise TransitionRefused(_("Record %(missing)s before deciding the outcome.", missing=", ".join(missing)))
    certificate = audit.certificate
    state = validity(certificate)
    if state != VALID:
        raise TransitionRefused(_("The certificate is “%(validity)s”: only a valid certificate's audit is decided.",
                                  validity=validity_label(state)))
    if not certificate.valid_from <= audit.audit_on <= certificate.valid_until:
        raise TransitionRefused(_("The audit's day lies outside the certificate's validity."))
    return certificate


def _not_reached(share: float, grade: str, threshold: float) -> TransitionRefused:
    return TransitionRefused(_("The share %(share)s does not reach %(grade)s (%(threshold)s).",
                               share=number_text(share), grade=grade, threshold=number_text(threshold)))


def _current(certificate) -> tuple[str, float]:
    threshold = threshold_of(certificate.grade)
    if threshold is None:
        raise TransitionRefused(_("The certificate's grade %(grade)s has no threshold in the settings.",
                                  grade=certificate.grade))
    return certificate.grade, threshold


def check_maintainable(audit, user, comment) -> None:
    certificate = _check_recorded(audit)
    grade, threshold = _current(certificate)
    if audit.score_share + _EPSILON < threshold:
        raise _not_reached(audit.score_share, grade, threshold)


def check_upgradable(audit, user, comment) -> None:
    certificate = _check_recorded(audit)
    grade, _threshold = _current(certificate)
    higher = _neighbour(grade, -1)
    if higher is None:
        raise TransitionRefused(_("The certificate already has the highest grade, %(grade)s.", grade=grade))
    if audit.score_share + _EPSILON < higher[1]:
        raise _not_reached(audit.score_share, *higher)


def check_downgradable(audit, user, comment) -> None:
    certificate = _check_recorded(audit)
    grade, threshold = _current(certificate)
    lower = _neighbour(grade, +1)
    if lower is None:
        raise TransitionRefused(_("%(grade)s is the lowest grade: a certificate below it is revoked.", grade=grade))
    if audit.score_share + _EPSILON >= threshold:
        raise TransitionRefused(_("The share %(share)s still reaches %(grade)s (%(threshold)s): maintain the "
                                  "certificate.", share=number_text(audit.score_share), grade=grade,
                                  threshold=number_text(threshold)))
    if audit.score_share + _EPSILON < lower[1]:
        raise _not_reached(audit.score_share, *lower)


def check_revocable(audit, user, comment) -> None:
    _check_recorded(audit)


def _stamp(audit, grade_after: Optional[str], comment) -> dict:
    return {"grade_before": audit.certificate.grade, "grade_after": grade_after, "decided_at": _now(),
            "decision_comment": comment or None}


def _regrade(certificate, grade: str) -> None:
    """An attribute change of the certificate: the ORM flush writes it and its audit-trail entry."""
    certificate.grade = grade
    db.session.flush()


def maintain(audit, user, comment) -> dict:
    return _stamp(audit, audit.certificate.grade, comment)


def upgrade(audit, user, comment) -> dict:
    higher = _neighbour(audit.certificate.grade, -1)
    values = _stamp(audit, higher[0], comment)
    _regrade(audit.certificate, higher[0])
    return values


def downgrade(audit, user, comment) -> dict:
    lower = _neighbour(audit.certificate.grade, +1)
    values = _stamp(audit, lower[0], comment)
    _regrade(audit.certificate, lower[0])
    return values


def revoke(audit, user, comment) -> dict:
    """Effect of the audit's ``revoke``: the certificate is revoked in the same transaction."""
    from app.services import workflow

    values = _stamp(audit, None, comment)
    workflow.transition(audit.certificate, "revoke", user, comment, within=True)
    return values


# ---------------------------------------------------------------------------
# Missing audits and renewal
# ---------------------------------------------------------------------------
MISSING, DUE, DONE, FUTURE, NOT_APPLICABLE = "missing", "due", "done", "future", "not_applicable"
AUDIT_YEAR_LABELS = {
    MISSING: _l("No surveillance audit"),
    DUE: _l("Audit due this year"),
    DONE: _l("Audited"),
    FUTURE: _l("Not begun"),
    NOT_APPLICABLE: _l("Revoked before the year ended"),
}


@dataclass(frozen=True)
class AuditYear:
    """Certificate year ``year`` (1..VALID_YEARS): ``start`` to ``end`` (both inclusive)."""

    year: int
    start: datetime.date
    end: datetime.date
    state: str
    audits: int

    @property
    def missing(self) -> bool:
        return self.state == MISSING

    @property
    def label(self) -> str:
        return str(AUDIT_YEAR_LABELS[self.state])

    def as_dict(self) -> dict:
        return dict(asdict(self), start=self.start.isoformat(), end=self.end.isoformat(), label=self.label)


def audit_years(certificate, today: Optional[datetime.date] = None) -> list[AuditYear]:
    """Each certificate year with its state (see the module)."""
    today = today or _today()
    decided = [audit.audit_on for audit in certificate.audits if audit.status != "planned" and audit.audit_on]
    years = []
    for k in range(1, _years() + 1):
        start = certificates.anniversary(certificate.valid_from, k - 1)
        end = certificates.anniversary(certificate.valid_from, k)  # exclusive
        count = sum(1 for day in decided if start <= day < end)
        revoked_on = certificate.revoked_on if certificate.status == REVOKED else None
        if revoked_on is not None and revoked_on < end:
            state = DONE if count else NOT_APPLICABLE
        elif count:
            state = DONE
        elif today >= end:
            state = MISSING
        elif today >= start:
            state = DUE
        else:
            state = FUTURE
        years.append(AuditYear(k, start, end - datetime.timedelta(days=1), state, count))
    return years


def audit_flags(certificate, today: Optional[datetime.date] = None) -> list[AuditYear]:
    """The certificate years that ended without a decided surveillance audit."""
    return [year for year in audit_years(certificate, today) if year.missing]


def audit_due(certificate, today: Optional[datetime.date] = None) -> Optional[AuditYear]:
    """The current certificate year while no audit is decided in it (a valid certificate)."""
    if validity(certificate, today) != VALID:
        return None
    return next((year for year in audit_years(certificate, today) if year.state == DUE), None)


def missing_audit_count(user, today: Optional[datetime.date] = None) -> int:
    """Valid certificates in ``user``'s scope with a certificate year missing its audit."""
    today = today or _today()
    query = (
        select(CertificationCertificate)
        .where(scoping.scope_filter(CertificationCertificate, user), CertificationCertificate.status == VALID,
               CertificationCertificate.valid_from <= today, CertificationCertificate.valid_until >= today,
               # at least one certificate year has ended
               CertificationCertificate.valid_from <= certificates.add_years(today, -1))
        .options(selectinload(CertificationCertificate.audits))
    )
    return sum(1 for certificate in db.session.scalars(query) if audit_flags(certificate, today))


def renewal_in_progress(certificate) -> bool:
    return bool(db.session.scalar(select(exists().where(
        CertificationApplication.previous_certificate_id == certificate.id,
        CertificationApplication.status.not_in(_ENDED_WITHOUT_CERTIFICATE)))))


def renewal_due(certificate, today: Optional[datetime.date] = None) -> bool:
    """Valid, within the notice period of its end, and no re-evaluation under way or certified."""
    today = today or _today()
    if validity(certificate, today) != VALID:
        return False
    notice = int(_config("CERTIFICATION_RENEWAL_NOTICE_DAYS", DEFAULT_NOTICE_DAYS))
    if (certificate.valid_until - today).days > notice:
        return False
    return not renewal_in_progress(certificate)


# ---------------------------------------------------------------------------
# The PDF (reuses app.services.certificates: verification URL, QR code, app.services.pdf)
# ---------------------------------------------------------------------------
def render_html(certificate, today: Optional[datetime.date] = None) -> str:
    from flask import render_template
    from flask_babel import force_locale

    from app.services import pdf

    url = certificates.verification_url(certificate.number)
    state = validity(certificate, today)
    # The certification body issues the certificate (seed 002 §四.2: 注册签发认证证书).
    body_name = certificate.body.name if certificate.body is not None else ""
    with force_locale("zh"):
        return render_template(
            "gm/certification_certificate_pdf.html", certificate=certificate, body_name=body_name,
            province=certificates.province_name(certificate.region_code),
            region_name=certificate.region.full_name if certificate.region is not None else "",
            validity=state, validity_label=validity_label(state),
            verification_url=url, qr_code=certificates.qr_data_uri(url),
            **certificates.signature_context(body_name, certificate.issued_on), **pdf.font_context(),
        )


def render_pdf(certificate, today: Optional[datetime.date] = None) -> bytes:
    from app.services import pdf

    return pdf.render(render_html(certificate, today), "certification certificate PDF")


def file_name(certificate) -> str:
    return f"{certificate.number}.pdf"


# ---------------------------------------------------------------------------
# Public verification and the public list (F3, G3)
# ---------------------------------------------------------------------------
NUMBER_MAX_LENGTH = 32


def normalise_number(number: Any) -> Optional[str]:
    """The number as stored (<PREFIX>-<year>-<sequence>), or None when it cannot be one."""
    if not isinstance(number, str):
        return None
    candidate = number.strip().upper()[: NUMBER_MAX_LENGTH + 1]
    prefix = re.escape(str(_config("CERTIFICATION_NUMBER_PREFIX", DEFAULT_PREFIX)).upper())
    if len(candidate) > NUMBER_MAX_LENGTH or not re.fullmatch(prefix + r"-\d{4}-\d{5,}", candidate):
        return None
    return candidate


def find(number: Any) -> Optional[CertificationCertificate]:
    normalised = normalise_number(number)
    if normalised is None:
        return None
    return db.session.scalar(select(CertificationCertificate).where(CertificationCertificate.number == normalised))


def public_view(certificate, today: Optional[datetime.date] = None) -> dict:
    """What the public may know of a certification certificate: no contact data, no scores."""
    state = validity(certificate, today)
    return {
        "kind": "certification",
        "number": certificate.number,
        "grade": certificate.grade,
        "status": state,
        "status_label": validity_label(state),
        "mine_name": certificate.mine_name,
        "enterprise_name": certificate.enterprise_name,
        "province": certificates.province_name(certificate.region_code),
        "body": certificate.body.name if certificate.body is not None else "",
        "issued_on": certificate.issued_on.isoformat(),
        "valid_from": certificate.valid_from.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "revoked_on": certificate.revoked_on.isoformat() if state == REVOKED and certificate.revoked_on else None,
    }


def verify(number: Any, today: Optional[datetime.date] = None) -> Optional[dict]:
    certificate = find(number)
    return public_view(certificate, today) if certificate is not None else None


@dataclass(frozen=True)
class CertifiedQuery:
    name: str = ""
    province: str = ""
    grade: str = ""
    page: int = 1
    size: int = 20


@dataclass(frozen=True)
class CertifiedRow:
    number: str
    grade: str
    mine_name: str
    enterprise_name: str
    mineral_name: str
    province: str
    region: str
    body: str
    valid_from: str
    valid_until: str


def parse_certified_query(args: Any) -> CertifiedQuery:
    """As the public directory's (name, province, page, size: app.services.certificates), and the
    grade; anything malformed is dropped."""
    base = certificates.parse_directory_query(args)
    grade = str(args.get("grade", "") or "").strip().upper()
    return CertifiedQuery(name=base.name, province=base.province, grade=grade if grade in GRADES else "",
                          page=base.page, size=base.size)


def public_certified(query: CertifiedQuery, today: Optional[datetime.date] = None) -> Page:
    """One page of the certificates valid today: three statements (count, rows, region names)."""
    from sqlalchemy import func, or_

    today = today or _today()
    model = CertificationCertificate
    conditions = [model.status == VALID, model.valid_from <= today, model.valid_until >= today]
    if query.grade:
        conditions.append(model.grade == query.grade)
    if query.province:
        conditions.append(scoping.region_condition(model.region_code, [query.province]))
    if query.name:
        conditions.append(or_(search_text.contains(model.mine_name, query.name),
                              search_text.contains(model.enterprise_name, query.name)))
    total = db.session.scalar(select(func.count(model.id)).where(*conditions)) or 0
    records = db.session.execute(
        select(model.number, model.grade, model.mine_name, model.enterprise_name, model.mineral_name,
               model.region_code, model.valid_from, model.valid_until, CertificationBody.name.label("body"))
        .join(CertificationBody, CertificationBody.id == model.body_id)
        .where(*conditions)
        .order_by(model.valid_from.desc(), model.id.desc())
        .limit(query.size).offset((query.page - 1) * query.size)
    ).all()
    regions = certificates.region_names({record.region_code for record in records})
    rows = [
        CertifiedRow(number=r.number, grade=r.grade, mine_name=r.mine_name, enterprise_name=r.enterprise_name,
                     mineral_name=r.mineral_name or "", province=regions[r.region_code][0],
                     region=regions[r.region_code][1], body=r.body, valid_from=r.valid_from.isoformat(),
                     valid_until=r.valid_until.isoformat())
        for r in records
    ]
    return Page(query=query, rows=rows, total=total)


def certified_row_dict(row: CertifiedRow) -> dict:
    return asdict(row)

"""Green-mine applications (SPEC D1-D10): creation from a passed pre-declaration, the forms'
rules, the application window, and the guards of the application workflow."""
from __future__ import annotations

import datetime
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.services.exceptions import TransitionRefused

# Default deadline of the yearly window when a province has not set one (seed 001 §一(五)).
DEFAULT_DEADLINE = (10, 15)


def _today() -> datetime.date:
    return datetime.date.today()


def window_for(province_code: str, year: int):
    from app.models import ApplicationWindow

    return db.session.scalars(
        select(ApplicationWindow).where(ApplicationWindow.province_code == province_code,
                                        ApplicationWindow.year == year)
    ).first()


def deadline_for(province_code: str, year: int) -> tuple[Optional[datetime.date], datetime.date]:
    """(opens on, deadline) of the province's window for the year, else the default deadline."""
    window = window_for(province_code, year)
    if window is not None:
        return window.opens_on, window.deadline
    month, day = current_app.config.get("APPLICATION_DEADLINE", DEFAULT_DEADLINE)
    return None, datetime.date(year, month, day)


def check_window(application, today: Optional[datetime.date] = None) -> None:
    """D9: submissions only inside the province's window; late ones are refused with the date."""
    today = today or _today()
    province = application.region_code[:2] + "0000"
    opens_on, deadline = deadline_for(province, application.year)
    if opens_on is not None and today < opens_on:
        raise TransitionRefused(_("Applications for %(year)s open on %(date)s.", year=application.year,
                                  date=opens_on.isoformat()))
    if today > deadline:
        raise TransitionRefused(_("The deadline for %(year)s applications was %(date)s; late submissions are "
                                  "not accepted.", year=application.year, date=deadline.isoformat()))


def check_submittable(application, user, comment) -> None:
    """Guard of the submit step: the window is open and the form is complete."""
    check_window(application)
    missing = missing_fields(application)
    if missing:
        raise TransitionRefused(_("The application is not complete: %(fields)s.", fields="、".join(missing)))


# The fields an application cannot be submitted without (labels for the refusal message).
def required_fields() -> dict[str, str]:
    return {
        "enterprise_name": _("Enterprise name"),
        "mine_name": _("Mine name"),
        "licence_no": _("Mining licence number"),
        "legal_representative": _("Legal representative"),
        "contact_person": _("Contact person"),
        "mobile": _("Mobile"),
        "self_evaluation_unit": _("Self-evaluation report prepared by"),
    }


def missing_fields(application) -> list[str]:
    return [label for name, label in required_fields().items() if not getattr(application, name)]

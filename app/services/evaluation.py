"""Scoring against the indicator catalogue (SPEC E1, E2, E3). Being written."""
from __future__ import annotations

from flask_babel import gettext as _

from app.services.exceptions import TransitionRefused


def check_self_evaluation_complete(application, user, comment) -> None:
    raise TransitionRefused(_("The self-evaluation is not complete."))


def check_assessment_complete(application, user, comment) -> None:
    raise TransitionRefused(_("The assessment is not complete."))

"""Third-party agencies and the recorded random draw (SPEC E3). Being written."""
from __future__ import annotations

from flask_babel import gettext as _

from app.services.exceptions import TransitionRefused


def check_drawable(application, user, comment) -> None:
    raise TransitionRefused(_("No agency can be drawn."))


def draw_for(application, user, comment) -> dict:
    return {}

"""Demonstration zones (绿色矿业发展示范区, SPEC E8, seed 001 §一(四)): the applicant is a county
government (a county authority account acts for it) or a large local state enterprise (its
enterprise account); it files the zone's name and construction plan, the city reviews, the
province confirms (the ``demozone`` workflow of the transition table)."""
from __future__ import annotations


from flask_babel import gettext as _

from app import clock
from app.models.demozone import COUNTY_GOVERNMENT, STATE_ENTERPRISE
from app.services import scoping
from app.services.exceptions import AccessDenied, ValidationFailed
from app.services.workflow import WORKFLOWS

# Changed and deleted while not submitted or returned: declared with the workflow.
EDITABLE_STATES = WORKFLOWS["demozone"].editable


def record_rule(zone, user, action: str) -> None:
    roles = {role.name for role in getattr(user, "roles", ())}
    if zone.id is not None and zone.status not in EDITABLE_STATES:
        raise ValidationFailed(_("Only an application that is not submitted or was returned for revision can be "
                                 "changed."))
    if action != scoping.EDIT:
        return
    if zone.id is None:
        if "county" in roles and getattr(user, "region_code", None):
            zone.applicant_kind, zone.region_code, zone.enterprise_id = COUNTY_GOVERNMENT, user.region_code, None
        elif "enterprise" in roles and getattr(user, "enterprise", None) is not None:
            zone.applicant_kind = STATE_ENTERPRISE
            zone.enterprise_id, zone.region_code = user.enterprise_id, user.enterprise.region_code
        else:
            raise AccessDenied(_("A county government or a state enterprise applies for a demonstration zone."))
        zone.created_by_id = user.id
        zone.year = zone.year or clock.today().year
    zone.name = (zone.name or "").strip()
    if not zone.name:
        raise ValidationFailed(_("This field is required."), field="name")
    if not (zone.plan_summary or "").strip():
        raise ValidationFailed(_("Summarise the construction plan."), field="plan_summary")

"""Field lists and input parsing that a screen and its REST twin share."""
from __future__ import annotations

import datetime

from app.models.application import SITUATION_AREAS
from app.models.certification import CERTIFICATION_CONDITIONS

# The certification application form (seed 002 附件), section by section, in the form's order.
CERTIFICATION_BASIC = ["applicant_name", "licence_no", "enterprise_name", "uscc", "mine_address", "economic_type",
                       "employees", "mineral_name", "mining_method", "production_scale", "area_km2"]
CERTIFICATION_CONTACTS = ["legal_representative", "contact_person", "contact_address", "email", "phone", "fax",
                          "mobile", "postcode"]
CERTIFICATION_SITUATION = list(SITUATION_AREAS)
CERTIFICATION_CONDITION_FIELDS = list(CERTIFICATION_CONDITIONS) + ["conditions_note"]
CERTIFICATION_FORM = CERTIFICATION_BASIC + CERTIFICATION_CONTACTS + CERTIFICATION_SITUATION + CERTIFICATION_CONDITION_FIELDS


def date_or_none(value: str | None) -> datetime.date | None:
    """An ISO date from a form field or a JSON body; None when it is not one."""
    try:
        return datetime.date.fromisoformat((value or "").strip())
    except ValueError:
        return None

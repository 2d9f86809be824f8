"""Rules of the mine registry (enterprises and mines) shared by screens, API, CLI and import."""
from __future__ import annotations

import re
from typing import Any, Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect, select

from app import clock
from app.extensions import db
from app.models.choices import (
    DEVELOPMENT_METHODS,
    ECONOMIC_TYPES,
    MINE_SIZES,
    MINING_METHODS,
    PRODUCTION_STATUSES,
    SUPERVISION_LEVELS,
)
from app.services import codes, reference, scoping
from app.services.exceptions import ErrorCollector, ValidationFailed, on_field


def _region_code(record) -> str | None:
    from app.models import Region

    region = _chosen(record, "region", "region_code", Region)
    return region.code if region is not None else record.region_code


def _leaf_region(code: str | None):
    from app.models import Region

    region = db.session.get(Region, codes.validate_region_code_shape(code))
    if region is None:
        raise ValidationFailed(_("There is no region with the code %(code)s.", code=code))
    if not region.is_leaf:
        raise ValidationFailed(
            _("Choose a county-level region; %(name)s is a %(level)s.", name=region.full_name, level=region.level_label)
        )
    return region


def _chosen(record, relationship: str, foreign_key: str, model):
    """The related row a form or body asks for: the relationship when a select box changed it,
    else the row named by the foreign-key column (a text field, a JSON body)."""
    related = getattr(record, relationship)
    if related is not None and sa_inspect(record).attrs[relationship].history.has_changes():
        return related
    key = getattr(record, foreign_key)
    if key not in (None, ""):
        return db.session.get(model, key)
    return related


def closed_choice(value, choices: dict, label) -> str | None:
    """An empty choice is no value; anything outside the closed list is refused."""
    if value in (None, ""):
        return None
    if value not in choices:
        raise ValidationFailed(_("%(field)s: “%(value)s” is not one of the allowed values.", field=label, value=value))
    return value


def licence_registered_elsewhere(licence_no: str) -> str:
    """The refusal of a licence number held by a mine the user may not see: it says that the
    number is taken, not where (one message whatever the record's region or enterprise)."""
    return _("The licence number %(no)s is already registered; please contact the competent authority above you.",
             no=licence_no)


def uscc_registered_elsewhere(uscc: str) -> str:
    """The refusal of a credit code held by an enterprise the user may not see (as above)."""
    return _("The unified social credit code %(code)s is already registered; please contact the competent "
             "authority above you.", code=uscc)


def _unique(model, column: str, value, item, user, seen: Callable[[Any], str], unseen: Callable[[], str]) -> None:
    """``value`` may be registered once. Whoever may see the record that holds it is told which
    record it is (``seen(record)``); anyone else gets ``unseen()``, which says only that it is
    taken: a refusal must not reveal where a record outside the user's scope lies. Both paths
    load the record and ask the scope rule, so that neither answers sooner."""
    query = select(model).where(getattr(model, column) == value)
    if item.id is not None:
        query = query.where(model.id != item.id)
    with db.session.no_autoflush:
        holder = db.session.scalars(query.limit(1)).first()
        if holder is None:
            return
        visible = user is not None and scoping.can_access(user, holder, scoping.READ)
    raise ValidationFailed(seen(holder) if visible else unseen())


def _require_name(record, message: str) -> None:
    if not (record.name or "").strip():
        raise ValidationFailed(message, field="name")
    record.name = record.name.strip()


def _place_in_leaf_region(record) -> None:
    """The record's region, as asked for, must be a county-level unit."""
    with on_field("region_code"):
        record.region = _leaf_region(_region_code(record))
        record.region_code = record.region.code


def validate_enterprise(enterprise, user) -> None:
    """Normalise and check an enterprise before ``user`` saves it. Every refusal of the save is
    reported at once, each on its field (FieldErrors)."""
    from app.models import Enterprise

    errors = ErrorCollector()
    with errors.on_field("name"):
        _require_name(enterprise, _("The enterprise name is required."))
    with errors.on_field("uscc"):
        enterprise.uscc = codes.validate_uscc(enterprise.uscc)
        code = enterprise.uscc
        _unique(Enterprise, "uscc", code, enterprise, user,
                lambda holder: _("The credit code %(code)s is already registered for the enterprise %(name)s.",
                                 code=code, name=holder.name),
                lambda: uscc_registered_elsewhere(code))
    with errors.on_field("economic_type"):
        enterprise.economic_type = closed_choice(enterprise.economic_type, ECONOMIC_TYPES, _("Economic type"))
    with errors.on_field("region_code"):
        _place_in_leaf_region(enterprise)
    errors.raise_if_any()


def validate_mine(mine, user) -> None:
    """Normalise and check a mine before ``user`` saves it; derive its size from the thresholds.
    Every refusal of the save is reported at once, each on its field (FieldErrors); a check that
    needs a refused value (the size needs the mineral and the scale) is left until that is right."""
    from app.models import Mine, Mineral

    errors = ErrorCollector()
    with errors.on_field("name"):
        _require_name(mine, _("The mine name is required."))
    with errors.on_field("licence_no"):
        mine.licence_no = codes.validate_licence_no(mine.licence_no)
        number = mine.licence_no
        _unique(Mine, "licence_no", number, mine, user,
                lambda holder: _("The licence number %(no)s is already registered for the mine %(name)s.",
                                 no=number, name=holder.name),
                lambda: licence_registered_elsewhere(number))
    with errors.on_field("mining_method"):
        mine.mining_method = closed_choice(mine.mining_method, MINING_METHODS, _("Mining method"))
    if mine.enterprise is None and mine.enterprise_id is None:
        errors.add(_("Choose the licence holder."), "enterprise")
    with errors.on_field("region_code"):
        _place_in_leaf_region(mine)
    for attr, label, lowest, highest in _MINE_RANGES:
        with errors.on_field(attr):
            _check_range(mine, attr, label, lowest, highest)
    with errors.on_field("development_method"):
        mine.development_method = closed_choice(mine.development_method, DEVELOPMENT_METHODS, _("Development method"))
    with errors.on_field("production_status"):
        mine.production_status = closed_choice(mine.production_status, PRODUCTION_STATUSES, _("Production status"))
    with errors.on_field("supervision_level"):
        mine.supervision_level = closed_choice(mine.supervision_level, SUPERVISION_LEVELS, _("Daily supervision"))
    with errors.on_field("latitude"):
        check_location(mine.latitude, mine.longitude)
    with errors.on_field("principal_phone"):
        mine.principal_phone = normalize_phone(mine.principal_phone)
    if mine.licence_valid_from and mine.licence_valid_to and mine.licence_valid_to < mine.licence_valid_from:
        errors.add(_("The licence cannot expire before it starts."), "licence_valid_to")
    if mine.production_started_on and mine.production_started_on > clock.today():
        errors.add(_("The production start cannot lie in the future."), "production_started_on")
    with errors.on_field("mineral"):
        mine.mineral = _chosen(mine, "mineral", "mineral_id", Mineral)
    if not any(errors.has(field) for field in ("mineral", "production_scale", "mining_method")):
        with errors.on_field("size"):
            mine.size = _checked_size(mine)
    errors.raise_if_any()


# (attribute, label, lowest, highest): the ranges a mine's numbers must lie in.
_MINE_RANGES = (
    ("production_scale", _l("Production scale"), 0, None),
    ("design_capacity", _l("Design capacity"), 0, None),
    ("area_km2", _l("Area"), 0, None),
    ("employees", _l("Employees"), 0, None),
    # The deepest metal mines reach about 4,000 m.
    ("max_depth_m", _l("Maximum mining depth"), 0, 5000),
    ("workers_per_shift", _l("Workers underground per shift"), 0, 10000),
)
# China's extent (with a margin): latitude 3.5–54 N, longitude 73–136 E.
CHINA_LATITUDE = (3.5, 54.0)
CHINA_LONGITUDE = (73.0, 136.0)
_PHONE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")


def _check_range(mine, attr: str, label, lowest: float, highest: float | None) -> None:
    value = getattr(mine, attr)
    if value is None:
        return
    if value < lowest:
        raise ValidationFailed(_("%(field)s cannot be negative.", field=label), field=attr)
    if highest is not None and value > highest:
        raise ValidationFailed(_("%(field)s cannot exceed %(max)s.", field=label, max=highest), field=attr)


def check_location(latitude: float | None, longitude: float | None) -> None:
    """Both coordinates or neither, and inside China."""
    if latitude is None and longitude is None:
        return
    if latitude is None or longitude is None:
        raise ValidationFailed(_("Give both latitude and longitude."),
                               field="latitude" if latitude is None else "longitude")
    if not CHINA_LATITUDE[0] <= latitude <= CHINA_LATITUDE[1]:
        raise ValidationFailed(_("The latitude must lie within China (%(low)s to %(high)s degrees north).",
                                 low=CHINA_LATITUDE[0], high=CHINA_LATITUDE[1]), field="latitude")
    if not CHINA_LONGITUDE[0] <= longitude <= CHINA_LONGITUDE[1]:
        raise ValidationFailed(_("The longitude must lie within China (%(low)s to %(high)s degrees east).",
                                 low=CHINA_LONGITUDE[0], high=CHINA_LONGITUDE[1]), field="longitude")


def normalize_phone(value: str | None) -> str | None:
    """A mobile or landline number: digits, optionally +, dashes and spaces."""
    value = (value or "").strip()
    if not value:
        return None
    if not _PHONE.match(value):
        raise ValidationFailed(_("“%(value)s” is not a telephone number.", value=value))
    return value


def _checked_size(mine) -> str | None:
    """The size the threshold table gives; a size given by hand must agree with it."""
    given = closed_choice(mine.size, MINE_SIZES, _("Mine size"))
    derived = reference.classify_size(mine.mineral, mine.production_scale, mine.mining_method)
    if derived is None:
        return given
    if given is not None and given != derived and mine_size_was_given(mine):
        raise ValidationFailed(
            _("The mine size does not match the production scale: by the national thresholds it is %(size)s.",
              size=MINE_SIZES[derived])
        )
    return derived


def mine_size_was_given(mine) -> bool:
    """True when the size itself was changed in this edit (not merely left from before)."""
    return sa_inspect(mine).attrs.size.history.has_changes()


def enterprise_rule(enterprise, user, action: str) -> None:
    """The write rule of enterprise screens and API (see app.web.base.RecordRules)."""
    if action == scoping.EDIT:
        # No autoflush: a half-checked record must not reach the database (and the rules
        # compare the submitted values with the stored ones).
        with db.session.no_autoflush:
            validate_enterprise(enterprise, user)


def mine_rule(mine, user, action: str) -> None:
    """The write rule of mine screens and API."""
    if action == scoping.EDIT:
        with db.session.no_autoflush:
            validate_mine(mine, user)
